namespace Atomic.Identity.Payments;

/// <summary>The BRC-105 header names and version, as @bsv/sdk's AuthFetch and @bsv/payment-express-middleware use them.</summary>
public static class PaymentHeaders
{
    /// <summary>The payment protocol version both sides speak.</summary>
    public const string Version = "1.0";

    /// <summary>402 answer: the protocol version.</summary>
    public const string VersionHeader = "x-bsv-payment-version";

    /// <summary>402 answer: the price in satoshis.</summary>
    public const string SatoshisRequired = "x-bsv-payment-satoshis-required";

    /// <summary>402 answer: the derivation prefix the payment must use.</summary>
    public const string DerivationPrefix = "x-bsv-payment-derivation-prefix";

    /// <summary>The retried request: JSON <c>{derivationPrefix, derivationSuffix, transaction}</c> (<see cref="BsvPayment"/>).</summary>
    public const string Payment = "x-bsv-payment";

    /// <summary>The paid answer: the satoshis taken for this request.</summary>
    public const string SatoshisPaid = "x-bsv-payment-satoshis-paid";
}
