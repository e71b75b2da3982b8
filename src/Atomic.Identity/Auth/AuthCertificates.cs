using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Certificates;

namespace Atomic.Identity.Auth;

/// <summary>
/// The JSON of the certificate parts of a BRC-103 message: verifiable certificates as @bsv/sdk 2.1.0's
/// <c>JSON.stringify</c> writes a <c>VerifiableCertificate</c> (type, serialNumber, subject, certifier,
/// revocationOutpoint, fields, signature in hex, keyring; in that order, which the signature depends on), and the
/// requested certificate set.
/// </summary>
public static class AuthCertificates
{
    /// <summary>A JSON array of the certificates, for <see cref="AuthMessage.Certificates"/>.</summary>
    public static JsonElement ToJson(IEnumerable<VerifiableCertificate> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartArray();
            foreach (VerifiableCertificate v in certificates)
            {
                Certificate c = v.Certificate;
                w.WriteStartObject();
                w.WriteString("type", c.Type);
                w.WriteString("serialNumber", c.SerialNumber);
                w.WriteString("subject", c.Subject.ToHex());
                w.WriteString("certifier", c.Certifier.ToHex());
                w.WriteString("revocationOutpoint", c.RevocationOutpoint);
                WriteMap(w, "fields", c.Fields);
                if (c.Signature is not null)
                {
                    w.WriteString("signature", Hex.Encode(c.Signature));
                }

                WriteMap(w, "keyring", v.Keyring);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        return JsonDocument.Parse(stream.ToArray()).RootElement.Clone();
    }

    /// <summary>Reads the certificates of a message.</summary>
    /// <exception cref="AuthPayloadException">Not an array of certificate objects, or a value of the wrong format.</exception>
    public static List<VerifiableCertificate> FromJson(JsonElement certificates)
    {
        if (certificates.ValueKind != JsonValueKind.Array)
        {
            throw new AuthPayloadException("certificates is not an array");
        }

        var result = new List<VerifiableCertificate>();
        foreach (JsonElement c in certificates.EnumerateArray())
        {
            if (c.ValueKind != JsonValueKind.Object)
            {
                throw new AuthPayloadException("a certificate is not an object");
            }

            try
            {
                string? signature = OptionalString(c, "signature");
                var certificate = new Certificate(
                    String(c, "type"),
                    String(c, "serialNumber"),
                    PublicKey.FromHex(String(c, "subject")),
                    PublicKey.FromHex(String(c, "certifier")),
                    String(c, "revocationOutpoint"),
                    StringMap(c, "fields", "a certificate's "),
                    signature is null ? null : Hex.Decode(signature));
                result.Add(new VerifiableCertificate(certificate, c.TryGetProperty("keyring", out _) ? StringMap(c, "keyring", "a certificate's ") : []));
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
            {
                throw new AuthPayloadException($"a certificate cannot be read: {e.Message}", innerException: e);
            }
        }

        return result;
    }

    private static void WriteMap(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, string> map)
    {
        w.WriteStartObject(name);
        foreach (var (key, value) in map)
        {
            w.WriteString(key, value);
        }

        w.WriteEndObject();
    }

    private static string String(JsonElement o, string name) =>
        OptionalString(o, name) ?? throw new AuthPayloadException($"a certificate has no {name}");

    private static string? OptionalString(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return e.ValueKind == JsonValueKind.String ? e.GetString() : throw new AuthPayloadException($"a certificate's {name} is not a string");
    }

    /// <summary>
    /// The object <paramref name="name"/> of <paramref name="o"/> whose every value is a string, or an
    /// <see cref="AuthPayloadException"/> naming it after <paramref name="subject"/> (for example "a certificate's ").
    /// </summary>
    internal static Dictionary<string, string> StringMap(JsonElement o, string name, string subject)
    {
        if (!o.TryGetProperty(name, out JsonElement e) || e.ValueKind != JsonValueKind.Object)
        {
            throw new AuthPayloadException($"{subject}{name} is missing or not an object");
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty p in e.EnumerateObject())
        {
            map[p.Name] = p.Value.ValueKind == JsonValueKind.String
                ? p.Value.GetString()!
                : throw new AuthPayloadException($"{subject}{name}.{p.Name} is not a string");
        }

        return map;
    }
}

/// <summary>
/// What a peer asks certificates of (@bsv/sdk's <c>RequestedCertificateSet</c>): the certifiers it trusts (public
/// keys in hex) and, per certificate type, the fields to reveal.
/// </summary>
/// <param name="Certifiers">Trusted certifiers.</param>
/// <param name="Types">Certificate type (base64) to field names, in order.</param>
public sealed record RequestedCertificateSet(
    IReadOnlyList<string> Certifiers, IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> Types)
{
    /// <summary>The JSON object {certifiers, types}, in that order, for <see cref="AuthMessage.RequestedCertificates"/>.</summary>
    public JsonElement ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartArray("certifiers");
            foreach (string c in Certifiers)
            {
                w.WriteStringValue(c);
            }

            w.WriteEndArray();
            w.WriteStartObject("types");
            foreach (var (type, fields) in Types)
            {
                w.WriteStartArray(type);
                foreach (string f in fields)
                {
                    w.WriteStringValue(f);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return JsonDocument.Parse(stream.ToArray()).RootElement.Clone();
    }

    /// <summary>Reads a requested set.</summary>
    /// <exception cref="AuthPayloadException">Not {certifiers: [strings], types: {name: [strings]}}.</exception>
    public static RequestedCertificateSet FromJson(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object
            || !json.TryGetProperty("certifiers", out JsonElement certifiers) || certifiers.ValueKind != JsonValueKind.Array
            || !json.TryGetProperty("types", out JsonElement types) || types.ValueKind != JsonValueKind.Object)
        {
            throw new AuthPayloadException("requestedCertificates is not {certifiers: [...], types: {...}}");
        }

        return new RequestedCertificateSet(
            Strings(certifiers, "certifiers"),
            [.. types.EnumerateObject().Select(p => new KeyValuePair<string, IReadOnlyList<string>>(p.Name, Strings(p.Value, p.Name)))]);
    }

    private static List<string> Strings(JsonElement array, string name)
    {
        if (array.ValueKind != JsonValueKind.Array || array.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw new AuthPayloadException($"requestedCertificates: {name} is not an array of strings");
        }

        return [.. array.EnumerateArray().Select(e => e.GetString()!)];
    }
}
