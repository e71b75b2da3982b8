namespace Atomic.Services.Payments;

/// <summary>
/// The reason codes of BRC-105 payments (added to ARCHITECTURE.md's vocabulary, docs/architecture.md). A payment that
/// fails SPV or broadcast answers the pipeline's own code (<c>SPV_ROOT_UNKNOWN</c>, <c>SCRIPT_FAILED</c>, <c>DOUBLE_SPEND</c>, …).
/// </summary>
public static class PaymentCodes
{
    /// <summary>The route has a price and the request carried no <c>x-bsv-payment</c> (the 402 answer).</summary>
    public const string Required = "PAYMENT_REQUIRED";

    /// <summary>The <c>x-bsv-payment</c> header is not the JSON of BRC-105, or its transaction is not an Atomic BEEF.</summary>
    public const string Malformed = "PAYMENT_MALFORMED";

    /// <summary>The derivation prefix was not issued by this server to this caller.</summary>
    public const string PrefixInvalid = "PAYMENT_PREFIX_INVALID";

    /// <summary>The derivation prefix was issued, but its lifetime has passed.</summary>
    public const string PrefixExpired = "PAYMENT_PREFIX_EXPIRED";

    /// <summary>The derivation prefix already paid for a request, with another transaction.</summary>
    public const string PrefixReused = "PAYMENT_PREFIX_REUSED";

    /// <summary>The very payment (prefix and transaction) was already taken: a replay.</summary>
    public const string Replayed = "PAYMENT_REPLAYED";

    /// <summary>No output of the transaction pays the BRC-29 key derived for the caller.</summary>
    public const string WrongKey = "PAYMENT_WRONG_KEY";

    /// <summary>The outputs to the derived key (or to a party of a split) add up to less than the price.</summary>
    public const string Insufficient = "PAYMENT_INSUFFICIENT";

    /// <summary>The pipeline did not broadcast the payment in time; the same payment sent again resumes it.</summary>
    public const string Unsettled = "PAYMENT_UNSETTLED";
}
