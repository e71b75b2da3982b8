namespace Atomic.Sessions;

/// <summary>The reason codes of multi-party sessions (docs/architecture.md lists them with the pipeline's).</summary>
public static class SessionCodes
{
    /// <summary>No template of that name.</summary>
    public const string TemplateUnknown = "SESSION_TEMPLATE_UNKNOWN";

    /// <summary>The terms or the parties do not make a deal the template can run (unknown party or asset, a bad amount, …).</summary>
    public const string TermsInvalid = "SESSION_TERMS_INVALID";

    /// <summary>A contribution breaks the deal's rules (wrong asset, wrong amount, an input twice, …).</summary>
    public const string ContributionInvalid = "SESSION_CONTRIBUTION_INVALID";

    /// <summary>A contributed basket output is spent, not in its basket, or reserved by another session or holder.</summary>
    public const string InputUnavailable = "SESSION_INPUT_UNAVAILABLE";

    /// <summary>A party's inputs do not pay for its outputs and its share of the fee.</summary>
    public const string InsufficientFunds = "SESSION_INSUFFICIENT_FUNDS";

    /// <summary>An unlocking script does not satisfy the output it spends.</summary>
    public const string SignatureInvalid = "SESSION_SIGNATURE_INVALID";

    /// <summary>The deadline passed before the transaction was broadcast.</summary>
    public const string Deadline = "SESSION_DEADLINE";

    /// <summary>A party cancelled before every signature was in.</summary>
    public const string Cancelled = "SESSION_CANCELLED";

    /// <summary>The assembled transaction was refused by the pipeline (its reason is the pipeline's code).</summary>
    public const string Invalid = "SESSION_INVALID";

    /// <summary>A bridge's revealed secret is not 32 bytes whose SHA-256 is the terms' hash.</summary>
    public const string BadPreimage = "SESSION_BAD_PREIMAGE";
}

/// <summary>A refusal with its reason code, or success.</summary>
public readonly record struct SessionCheck(string? Code, string? Reason)
{
    public static SessionCheck Ok => default;

    public bool IsOk => Code is null;

    public static SessionCheck Refuse(string code, string reason) => new(code, reason);

    /// <summary>Runs <paramref name="check"/>: success, or the refusal of the <see cref="SessionException"/> it threw.</summary>
    public static SessionCheck Try(Action check)
    {
        ArgumentNullException.ThrowIfNull(check);
        try
        {
            check();
            return Ok;
        }
        catch (SessionException e)
        {
            return Refuse(e.Code, e.Message);
        }
    }

    public override string ToString() => IsOk ? "ok" : $"{Code}: {Reason}";
}

/// <summary>A session cannot go on: its code says why.</summary>
public sealed class SessionException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
