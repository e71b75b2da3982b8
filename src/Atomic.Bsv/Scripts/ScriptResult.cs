namespace Atomic.Bsv.Scripts;

/// <summary>Which script was running when evaluation stopped.</summary>
public enum ScriptPhase
{
    Unlocking,
    Locking,
    Redeem,
    Final,
}

/// <summary>
/// The outcome of evaluating one spend: the node's error (or OK), where it happened, and the stacks at that moment.
/// </summary>
public sealed record ScriptResult(ScriptError Error, ScriptPhase Phase, int OpIndex, string? Detail, IReadOnlyList<byte[]> Stack, IReadOnlyList<byte[]> AltStack)
{
    public static readonly ScriptResult Success = new(ScriptError.Ok, ScriptPhase.Final, -1, null, [], []);

    public bool IsSuccess => Error == ScriptError.Ok;

    /// <summary>The node's name for the error, e.g. "EVAL_FALSE".</summary>
    public string ErrorName => ScriptErrors.NodeName(Error);

    public override string ToString() => IsSuccess
        ? "OK"
        : $"{ErrorName} in {Phase} script at op {OpIndex}{(Detail is null ? string.Empty : ": " + Detail)}";
}
