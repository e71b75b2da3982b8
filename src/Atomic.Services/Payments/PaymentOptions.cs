using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Services.Payments;

/// <summary>BRC-105 payments (section <c>Atomic:Payments</c>): prefix lifetime, the basket, the named policies, the operators.</summary>
public sealed class PaymentOptions
{
    public const string Section = "Atomic:Payments";

    /// <summary>How long a derivation prefix given in a 402 answer can be paid with.</summary>
    public TimeSpan PrefixLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The basket that records every payment output, tagged with caller, route and price.</summary>
    public string Basket { get; set; } = "payments";

    /// <summary>How long a paid request waits for its transaction to be broadcast before answering <c>PAYMENT_UNSETTLED</c>.</summary>
    public TimeSpan SettleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often pending payments are looked at (<see cref="PaymentRecovery"/>): one broadcast after its request gave up
    /// is recorded and its payer credited. Zero: never.
    /// </summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Identity keys (hex) allowed to list receipts at <c>GET /v1/payments</c>.</summary>
    public List<string> Operators { get; set; } = [];

    /// <summary>
    /// Prices routes mapped elsewhere by configuration: a route pattern as mapped (<c>/v1/tx/{txid}</c>) to the name of a
    /// policy. The payment middleware itself refuses an unsigned request to such a route.
    /// </summary>
    public Dictionary<string, string> Routes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>"Atomic:Payments:Enabled" (default false): the server registers payments, prices <see cref="Routes"/> and maps <c>GET /v1/payments</c>.</summary>
    public const string EnabledKey = "Atomic:Payments:Enabled";

    /// <summary>Named price policies, used by <c>RequirePayment("name")</c>.</summary>
    public Dictionary<string, PaymentPolicy> Policies { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    internal static bool IsKey(string hex)
    {
        try
        {
            _ = PublicKey.FromHex(hex);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>
/// What a route costs: a base price, plus a price per started kilobyte of request body, less a discount per claim the
/// caller holds; with <see cref="CreditCalls"/> one payment buys that many calls; with <see cref="Split"/> parts of the
/// price go to other parties' keys.
/// </summary>
public sealed class PaymentPolicy
{
    /// <summary>The base price in satoshis (per call, or per purchase of credit).</summary>
    public long Satoshis { get; set; }

    /// <summary>Added per started 1024 bytes of request body (0: size does not count).</summary>
    public long SatoshisPerKilobyte { get; set; }

    /// <summary>
    /// Percent off (1 to 100; 100 is free) for a caller holding a claim, keyed by claim type or <c>type=value</c>; the
    /// largest discount the caller has applies.
    /// </summary>
    public Dictionary<string, int> Discounts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Percent off for a caller presenting an accepted certificate of a trusted type, keyed by the type's name in
    /// <c>Atomic:Identity:Trust:Types</c>: the same as a <see cref="Discounts"/> entry for
    /// <c>bsv:certificate={name}</c>, which configuration cannot spell as a key (":" separates its sections).
    /// </summary>
    public Dictionary<string, int> CertificateDiscounts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Prepaid credit: one payment of the price buys this many calls (0: every call pays).</summary>
    public int CreditCalls { get; set; }

    /// <summary>Parties that take a share of each payment, each paid directly by P2PKH to its key.</summary>
    public List<PaymentShare> Split { get; set; } = [];
}

/// <summary>A party of a revenue split: its public key (hex) and its share of the price in percent.</summary>
public sealed class PaymentShare
{
    public string PublicKey { get; set; } = string.Empty;

    public int Percent { get; set; }
}
