using System.Text.Json.Serialization;

namespace Atomic.Services.Payments;

/// <summary>What a prefix's first use found.</summary>
public enum PrefixUse
{
    /// <summary>The prefix was unused and is now bound to the transaction.</summary>
    First,

    /// <summary>The prefix was already bound to this same transaction: a replay.</summary>
    Replayed,

    /// <summary>The prefix was already bound to another transaction.</summary>
    Reused,

    /// <summary>
    /// The prefix was bound to this transaction by a request that never completed (its settlement timed out) and whose
    /// attempt is older than the settle timeout: this request now owns the attempt and resumes the payment.
    /// </summary>
    Resumed,
}

/// <summary>The payments' durable state: used derivation prefixes, and prepaid credit per caller and route.</summary>
public interface IPaymentStore
{
    /// <summary>
    /// Binds <paramref name="prefix"/> to <paramref name="txid"/> if it was never used; atomic across processes. A prefix
    /// bound to the same txid whose payment never completed, by an attempt started before <paramref name="staleBefore"/>,
    /// is taken over (<see cref="PrefixUse.Resumed"/>) by one request only.
    /// </summary>
    Task<PrefixUse> UsePrefixAsync(string prefix, string txid, DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the payment made with <paramref name="prefix"/> complete: from now on it is only ever a replay. True for the
    /// one call that completed it (the request served, or the recovery that credited its payer), false when it was
    /// complete already. Atomic across processes.
    /// </summary>
    Task<bool> CompletePrefixAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps a payment handed to the pipeline until it is complete (<see cref="RemovePendingAsync"/>), so that
    /// <see cref="PaymentRecovery"/> finishes it when its request cannot. Saving the same transaction again replaces it.
    /// </summary>
    Task AddPendingAsync(PendingPayment payment, CancellationToken cancellationToken);

    /// <summary>Forgets the pending payment of <paramref name="txid"/>, if any.</summary>
    Task RemovePendingAsync(string txid, CancellationToken cancellationToken);

    /// <summary>Every pending payment.</summary>
    Task<IReadOnlyList<PendingPayment>> PendingAsync(CancellationToken cancellationToken);

    /// <summary>Takes one call from the caller's credit for the route; false when none is left. Atomic across processes.</summary>
    Task<(bool Spent, int Remaining)> SpendCreditAsync(string caller, string route, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="calls"/> to the caller's credit for the route, once per <paramref name="txid"/>.</summary>
    Task<int> AddCreditAsync(string caller, string route, int calls, string txid, CancellationToken cancellationToken);
}

/// <summary>
/// A payment handed to the pipeline and not yet complete: its receipt (with <see cref="PaymentReceipt.Prefix"/> kept
/// apart, as the receipt's JSON leaves it out), the calls its payer is owed if the request that paid is never served,
/// and when its current attempt started.
/// </summary>
public sealed record PendingPayment(
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("receipt")] PaymentReceipt Receipt,
    [property: JsonPropertyName("grant")] int Grant,
    [property: JsonPropertyName("since")] DateTimeOffset Since);

/// <summary>Where a payment handed to the pipeline stands.</summary>
public enum Settlement
{
    /// <summary>The pipeline has no record of it.</summary>
    Unknown,

    /// <summary>On its way: received or verified, not yet broadcast.</summary>
    Pending,

    /// <summary>Broadcast, or further: the payment is the server's.</summary>
    Settled,

    /// <summary>Rejected or failed: nothing was received.</summary>
    Refused,
}

/// <summary>Hands a payment to the pipeline and answers once it is broadcast, or why it was not.</summary>
public interface IPaymentSettler
{
    /// <summary>Null once the transaction is broadcast (or further), else the pipeline's code and reason.</summary>
    Task<(string Code, string Reason)?> SettleAsync(string txid, byte[] beef, CancellationToken cancellationToken);

    /// <summary>Where the transaction stands now, without waiting.</summary>
    Task<Settlement> StateAsync(string txid, CancellationToken cancellationToken);
}

/// <summary>A payment taken: one output to the server's key, with who paid, for which route, at which price.</summary>
public sealed record PaymentReceipt(
    string TxId, uint Vout, long Satoshis, string LockingScript, string Caller, string Route, long Price, DateTimeOffset PaidAt)
{
    /// <summary>The derivation prefix it was paid under (kept out of listings).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Prefix { get; init; } = string.Empty;
}

/// <summary>Where receipts are kept and listed (the <c>payments</c> basket).</summary>
public interface IPaymentReceipts
{
    /// <summary>Records the receipt; recording the same output again changes nothing.</summary>
    Task RecordAsync(PaymentReceipt receipt, CancellationToken cancellationToken);

    /// <summary>Receipts, newest last, for a route (all when null) since a time (all when null).</summary>
    Task<IReadOnlyList<PaymentReceipt>> ListAsync(string? route, DateTimeOffset? since, CancellationToken cancellationToken);
}
