using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Identity.Payments;

/// <summary>
/// The <c>x-bsv-payment</c> header of BRC-105: the derivation prefix the server gave, the payer's suffix, and the
/// transaction as base64 Atomic BEEF (BRC-95).
/// </summary>
public sealed record BsvPayment(
    [property: JsonPropertyName("derivationPrefix")] string DerivationPrefix,
    [property: JsonPropertyName("derivationSuffix")] string DerivationSuffix,
    [property: JsonPropertyName("transaction")] string Transaction)
{
    /// <summary>The header value: compact JSON.</summary>
    public string ToHeader() => JsonSerializer.Serialize(this);

    /// <summary>Reads a header value; null when it is not the JSON object with three non-empty strings.</summary>
    public static BsvPayment? TryParse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        try
        {
            BsvPayment? payment = JsonSerializer.Deserialize<BsvPayment>(header);
            return payment is { DerivationPrefix.Length: > 0, DerivationSuffix.Length: > 0, Transaction.Length: > 0 } ? payment : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The transaction's bytes, or null when it is not base64.</summary>
    public byte[]? TransactionBytes()
    {
        byte[] buffer = new byte[Transaction.Length];
        return Convert.TryFromBase64String(Transaction, buffer, out int written) ? buffer[..written] : null;
    }
}
