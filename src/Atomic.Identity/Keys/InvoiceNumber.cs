namespace Atomic.Identity.Keys;

/// <summary>
/// BRC-43 invoice numbers, <c>{securityLevel}-{protocolName}-{keyId}</c>, with the protocol-name and key-id rules
/// exactly as @bsv/sdk 2.1.0's <c>KeyDeriver.computeInvoiceNumber</c> enforces them (same order, same messages).
/// </summary>
public static class InvoiceNumber
{
    /// <summary>Protocol names longer than this are refused, except specific-linkage revelations.</summary>
    public const int MaxProtocolNameLength = 400;

    /// <summary>A specific-linkage revelation wraps another protocol id: "specific linkage revelation x " + 400.</summary>
    public const int MaxSpecificLinkageProtocolNameLength = 430;

    /// <summary>Shortest protocol name.</summary>
    public const int MinProtocolNameLength = 5;

    /// <summary>Longest key id, in UTF-16 code units (JavaScript's string length).</summary>
    public const int MaxKeyIdLength = 800;

    private const string SpecificLinkagePrefix = "specific linkage revelation ";

    /// <summary>The invoice number for <paramref name="protocol"/> and <paramref name="keyId"/>.</summary>
    /// <exception cref="ArgumentException">The protocol id or key id breaks a BRC-43 rule (the message says which).</exception>
    public static string Compute(WalletProtocol protocol, string keyId)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        if (protocol.SecurityLevel is < 0 or > 2)
        {
            throw new ArgumentException("Protocol security level must be 0, 1, or 2", nameof(protocol));
        }

        string name = NormalizeName(protocol.Name);
        // Lengths are JavaScript string lengths (UTF-16 code units), which is what .NET's Length counts too.
        if (keyId.Length > MaxKeyIdLength)
        {
            throw new ArgumentException("Key IDs must be 800 characters or less", nameof(keyId));
        }

        if (keyId.Length < 1)
        {
            throw new ArgumentException("Key IDs must be 1 character or more", nameof(keyId));
        }

        if (name.Length > MaxProtocolNameLength)
        {
            if (!name.StartsWith(SpecificLinkagePrefix, StringComparison.Ordinal))
            {
                throw new ArgumentException("Protocol names must be 400 characters or less", nameof(protocol));
            }

            if (name.Length > MaxSpecificLinkageProtocolNameLength)
            {
                throw new ArgumentException("Specific linkage revelation protocol names must be 430 characters or less", nameof(protocol));
            }
        }

        if (name.Length < MinProtocolNameLength)
        {
            throw new ArgumentException("Protocol names must be 5 characters or more", nameof(protocol));
        }

        if (name.Contains("  ", StringComparison.Ordinal))
        {
            throw new ArgumentException("Protocol names cannot contain multiple consecutive spaces (\"  \")", nameof(protocol));
        }

        foreach (char c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or ' '))
            {
                throw new ArgumentException("Protocol names can only contain letters, numbers and spaces", nameof(protocol));
            }
        }

        if (name.EndsWith(" protocol", StringComparison.Ordinal))
        {
            throw new ArgumentException("No need to end your protocol name with \" protocol\"", nameof(protocol));
        }

        return $"{protocol.SecurityLevel}-{name}-{keyId}";
    }

    /// <summary>
    /// The name as @bsv/sdk uses it: lower-cased and trimmed. Only ASCII letters survive the character rule, so
    /// ASCII lower-casing agrees with JavaScript's <c>toLowerCase</c> on every name that is accepted.
    /// </summary>
    internal static string NormalizeName(string? name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TrimJs(name.ToLowerInvariant());
    }

    // JavaScript's trim() strips ECMAScript white space and line terminators; .NET's Trim() strips Unicode White_Space.
    // The two differ only on U+180E and U+FEFF, and a name containing either is refused by the character rule anyway
    // unless it sits at an end: U+FEFF is trimmed by JavaScript, so trim it here too.
    private static string TrimJs(string s) => s.Trim().Trim('\uFEFF').Trim();
}
