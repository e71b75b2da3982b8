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

    /// <summary>Marks the payment made with <paramref name="prefix"/> complete: from now on it is only ever a replay.</summary>
    Task CompletePrefixAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Takes one call from the caller's credit for the route; false when none is left. Atomic across processes.</summary>
    Task<(bool Spent, int Remaining)> SpendCreditAsync(string caller, string route, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="calls"/> to the caller's credit for the route, once per <paramref name="txid"/>.</summary>
    Task<int> AddCreditAsync(string caller, string route, int calls, string txid, CancellationToken cancellationToken);
}

/// <summary>Hands a payment to the pipeline and answers once it is broadcast, or why it was not.</summary>
public interface IPaymentSettler
{
    /// <summary>Null once the transaction is broadcast (or further), else the pipeline's code and reason.</summary>
    Task<(string Code, string Reason)?> SettleAsync(string txid, byte[] beef, CancellationToken cancellationToken);
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
