namespace Atomic.Bsv.Primitives;

/// <summary>The reason codes shared by the CLI, HTTP problem details and events (ARCHITECTURE.md, "Errors").</summary>
public static class ReasonCodes
{
    public const string BeefMalformed = "BEEF_MALFORMED";
    public const string BeefTruncated = "BEEF_TRUNCATED";
    public const string BeefMissingInput = "BEEF_MISSING_INPUT";
    public const string BeefBadBumpIndex = "BEEF_BAD_BUMP_INDEX";
    public const string BeefNotAtomic = "BEEF_NOT_ATOMIC";
    public const string SpvRootUnknown = "SPV_ROOT_UNKNOWN";
    public const string SpvCoinbaseImmature = "SPV_COINBASE_IMMATURE";
    public const string ScriptFailed = "SCRIPT_FAILED";
    public const string Overspend = "OVERSPEND";
    public const string FeeTooLow = "FEE_TOO_LOW";
    public const string DoubleSpend = "DOUBLE_SPEND";
    public const string BroadcastRejected = "BROADCAST_REJECTED";
    public const string BroadcastUnreachable = "BROADCAST_UNREACHABLE";
    public const string LimitExceeded = "LIMIT_EXCEEDED";

    /// <summary>
    /// Every retry ended with ARC holding the transaction as an orphan: an unconfirmed ancestor never reached the
    /// network (added).
    /// </summary>
    public const string BroadcastOrphaned = "BROADCAST_ORPHANED";

    /// <summary>A transaction or script that is not well-formed (added: not BEEF-specific).</summary>
    public const string TxMalformed = "TX_MALFORMED";

    /// <summary>Input ended before a declared length or field was complete (added: not BEEF-specific).</summary>
    public const string Truncated = "TRUNCATED";
}
