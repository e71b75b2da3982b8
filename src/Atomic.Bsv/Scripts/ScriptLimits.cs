namespace Atomic.Bsv.Scripts;

/// <summary>
/// The configurable limits that replace the pre-Genesis constants for post-Genesis scripts (the node's consensus
/// defaults), and the fixed pre-Genesis constants.
/// </summary>
public sealed record ScriptLimits
{
    public const int MaxScriptSizeBeforeGenesis = 10_000;
    public const int MaxElementSizeBeforeGenesis = 520;
    public const int MaxOpsBeforeGenesis = 500;
    public const int MaxStackItemsBeforeGenesis = 1_000;
    public const int MaxMultisigKeysBeforeGenesis = 20;
    public const int MaxScriptNumLengthBeforeGenesis = 4;

    public static ScriptLimits Default { get; } = new();

    /// <summary>Bytes held by the main and alt stacks together (post-Genesis).</summary>
    public long MaxStackMemory { get; init; } = 100_000_000;

    /// <summary>Longest script number an arithmetic opcode accepts (post-Genesis), in bytes.</summary>
    public int MaxScriptNumLength { get; init; } = 750_000;

    /// <summary>Most public keys one OP_CHECKMULTISIG may name (post-Genesis).</summary>
    public long MaxMultisigKeys { get; init; } = int.MaxValue;
}
