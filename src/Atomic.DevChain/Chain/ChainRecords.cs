using Atomic.Bsv.Primitives;
using Atomic.Bsv.Transactions;

namespace Atomic.DevChain.Chain;

/// <summary>Where a transaction the chain knows stands; named on the wire as ARC names its <c>txStatus</c> values.</summary>
public enum TxStatus
{
    /// <summary>In the mempool: <c>SEEN_ON_NETWORK</c>.</summary>
    SeenOnNetwork,

    /// <summary>In a block: <c>MINED</c>.</summary>
    Mined,

    /// <summary>Valid, but it spends an output another transaction spent first: <c>DOUBLE_SPEND_ATTEMPTED</c>.</summary>
    DoubleSpendAttempted,

    /// <summary>
    /// Refused after it was held: a double-spend attempt whose competitor was mined, or an orphan whose parent was
    /// refused or never arrived; or refused on arrival by a rule ARC leaves to the node (a lock time not reached):
    /// <c>REJECTED</c>.
    /// </summary>
    Rejected,

    /// <summary>Valid as far as can be seen, but a parent is unknown: held apart, never mined: <c>SEEN_IN_ORPHAN_MEMPOOL</c>.</summary>
    SeenInOrphanMempool,
}

/// <summary>ARC's names for <see cref="TxStatus"/> and the full list of <c>txStatus</c> values ARC defines.</summary>
public static class TxStatusNames
{
    /// <summary>Every <c>txStatus</c> ARC's OpenAPI spec lists (what <c>X-WaitFor</c> may name).</summary>
    public static readonly IReadOnlySet<string> Arc = new HashSet<string>(StringComparer.Ordinal)
    {
        "UNKNOWN", "QUEUED", "RECEIVED", "STORED", "ANNOUNCED_TO_NETWORK", "REQUESTED_BY_NETWORK", "SENT_TO_NETWORK",
        "ACCEPTED_BY_NETWORK", "SEEN_IN_ORPHAN_MEMPOOL", "SEEN_ON_NETWORK", "DOUBLE_SPEND_ATTEMPTED", "REJECTED",
        "MINED_IN_STALE_BLOCK", "MINED",
    };

    public static string ToArc(this TxStatus status) => status switch
    {
        TxStatus.SeenOnNetwork => "SEEN_ON_NETWORK",
        TxStatus.Mined => "MINED",
        TxStatus.DoubleSpendAttempted => "DOUBLE_SPEND_ATTEMPTED",
        TxStatus.Rejected => "REJECTED",
        TxStatus.SeenInOrphanMempool => "SEEN_IN_ORPHAN_MEMPOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static TxStatus FromArc(string name) => name switch
    {
        "SEEN_ON_NETWORK" => TxStatus.SeenOnNetwork,
        "MINED" => TxStatus.Mined,
        "DOUBLE_SPEND_ATTEMPTED" => TxStatus.DoubleSpendAttempted,
        "REJECTED" => TxStatus.Rejected,
        "SEEN_IN_ORPHAN_MEMPOOL" => TxStatus.SeenInOrphanMempool,
        _ => throw new FormatException($"unknown stored status '{name}'"),
    };
}

/// <summary>What the chain knows of one transaction: its status and, once mined, its block and BUMP.</summary>
public sealed record TxRecord(
    Hash256 TxId,
    TxStatus Status,
    uint? BlockHeight,
    Hash256? BlockHash,
    string? MerklePath,
    string ExtraInfo,
    IReadOnlyList<Hash256> CompetingTxs,
    DateTimeOffset UpdatedAt);

/// <summary>A block of the chain: its height, header and hash.</summary>
public sealed record BlockRecord(uint Height, BlockHeader Header, Hash256 Hash, int TxCount);

/// <summary>An output the chain created (mined, or in the mempool when <see cref="Height"/> is null) and who spent it.</summary>
internal sealed record StoredOutput(OutPoint OutPoint, ulong Satoshis, byte[] LockingScript, uint? Height, bool Coinbase, Hash256? SpentBy)
{
    public TxOutput ToTxOutput() => new(Satoshis, new Bsv.Scripts.Script(LockingScript));
}

/// <summary>A transaction's callback registration (ARC's <c>X-CallbackUrl</c>, <c>X-CallbackToken</c>, <c>X-FullStatusUpdates</c>).</summary>
public sealed record CallbackRegistration(Uri Url, string? Token, bool FullStatusUpdates);

/// <summary>One callback due for delivery: the POST body ARC sends, to one URL, with its bearer token.</summary>
public sealed record PendingCallback(long Id, Uri Url, string? Token, string Body, int Attempts);
