using Atomic.Bsv.Primitives.Keys;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Identity;

/// <summary>Checks <see cref="BsvTrustOptions"/> at start, naming the key at fault.</summary>
public sealed class BsvTrustOptionsValidator : IValidateOptions<BsvTrustOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, BsvTrustOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        string s = BsvTrustOptions.Section;
        if (options.CertificateRequests is not (BsvTrustOptions.Handshake or BsvTrustOptions.Route))
        {
            problems.Add($"{s}:CertificateRequests must be '{BsvTrustOptions.Handshake}' or '{BsvTrustOptions.Route}', not '{options.CertificateRequests}'");
        }

        foreach (var (typeName, t) in options.Types)
        {
            string id = string.IsNullOrWhiteSpace(t.Type) ? typeName : t.Type.Trim();
            if (!IsTypeId(id))
            {
                problems.Add($"{s}:Types:{typeName}:Type must be a certificate type id: base64 of 32 bytes");
            }

            if (t.Certifiers.Count == 0)
            {
                problems.Add($"{s}:Types:{typeName}:Certifiers must name at least one certifier");
            }

            for (int i = 0; i < t.Certifiers.Count; i++)
            {
                if (!IsPublicKey(t.Certifiers[i]))
                {
                    problems.Add($"{s}:Types:{typeName}:Certifiers:{i} must be a compressed public key in hex (66 digits)");
                }
            }
        }

        foreach (var (policy, p) in options.Policies)
        {
            bool known = options.Types.ContainsKey(p.Certificate)
                || options.Types.Any(t => string.Equals(t.Value.Type?.Trim(), p.Certificate, StringComparison.Ordinal));
            if (!known)
            {
                problems.Add($"{s}:Policies:{policy}:Certificate must name a type of {s}:Types (\"{p.Certificate}\" is not one)");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static bool IsTypeId(string text)
    {
        Span<byte> bytes = stackalloc byte[48];
        return Convert.TryFromBase64String(text, bytes, out int written) && written == 32;
    }

    private static bool IsPublicKey(string text)
    {
        text = text.Trim();
        if (text.Length != 66)
        {
            return false;
        }

        try
        {
            PublicKey.FromHex(text);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
