using System.Globalization;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Transactions;

namespace Atomic.Sessions.Templates;

/// <summary>
/// Reading a template's terms: each accessor throws <see cref="SessionException"/> naming the field by its path
/// (<c>at</c> is the path of the object read, <c>terms</c> or <c>terms.items[2]</c>).
/// </summary>
internal static class Terms
{
    public const string Root = "terms";

    public static string PartyId(SessionSetup setup, string field) => PartyId(setup, setup.Terms, field, Root);

    public static string PartyId(SessionSetup setup, JsonElement terms, string field, string at)
    {
        string id = String(terms, field, at);
        return setup.Find(id) is null ? throw Invalid($"{at}.{field} names '{id}', who is not a party of the session") : id;
    }

    public static string String(JsonElement terms, string field, string at = Root) =>
        TryGet(terms, field, out JsonElement value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s
            ? s
            : throw Invalid($"{at}.{field} is required, as a string");

    /// <summary>Whether the field is there at all (null counts as absent), for optional fields.</summary>
    public static bool Has(JsonElement terms, string field) =>
        TryGet(terms, field, out JsonElement value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>A positive whole number (satoshis or an asset amount).</summary>
    public static ulong Positive(JsonElement terms, string field, string at = Root) =>
        TryGet(terms, field, out JsonElement value)
            ? PositiveValue(value, $"{at}.{field}")
            : throw Invalid($"{at}.{field} is required, as a number");

    /// <summary>A value that must be a positive whole number; <paramref name="path"/> is its own path.</summary>
    public static ulong PositiveValue(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw Invalid($"{path} is required, as a number");
        }

        return value.TryGetUInt64(out ulong n) && n > 0
            ? n
            : throw Invalid($"{path} must be a whole number above zero, not {value.GetRawText()}");
    }

    /// <summary>An asset id of <c>tm_tokens</c>: <c>{txid}.{vout}</c>, as tokens write it (no leading zeros in the vout).</summary>
    public static string AssetId(JsonElement terms, string field, string at = Root)
    {
        string id = String(terms, field, at);
        return TryOutPoint(id, out _)
            ? id.ToLowerInvariant()
            : throw Invalid($"{at}.{field} must be an asset id '<txid>.<vout>', not '{id}'");
    }

    /// <summary>An output named <c>{txid}.{vout}</c>, the txid in display order.</summary>
    public static OutPoint OutPoint(JsonElement terms, string field, string at = Root)
    {
        string text = String(terms, field, at);
        return TryOutPoint(text, out OutPoint outPoint)
            ? outPoint
            : throw Invalid($"{at}.{field} must name an output '<txid>.<vout>', not '{text}'");
    }

    /// <summary>A non-empty array.</summary>
    public static IReadOnlyList<JsonElement> Array(JsonElement terms, string field, string at = Root)
    {
        if (!TryGet(terms, field, out JsonElement value) || value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid($"{at}.{field} is required, as an array");
        }

        return value.GetArrayLength() > 0 ? [.. value.EnumerateArray()] : throw Invalid($"{at}.{field} must not be empty");
    }

    /// <summary>An object's properties, all named differently (JSON allows a name twice; a deal must not).</summary>
    public static IReadOnlyList<JsonProperty> Object(JsonElement terms, string field, string at = Root)
    {
        if (!TryGet(terms, field, out JsonElement value) || value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{at}.{field} is required, as an object");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty property in value.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                throw Invalid($"{at}.{field} names '{property.Name}' twice");
            }
        }

        return [.. value.EnumerateObject()];
    }

    /// <summary>A SHA-256 digest: 64 hex digits (either case).</summary>
    public static byte[] Sha256(JsonElement terms, string field, string at = Root)
    {
        string text = String(terms, field, at);
        return text.Length == 64 && Hex.TryDecode(text, out byte[] digest)
            ? digest
            : throw Invalid($"{at}.{field} must be a SHA-256 digest in 64 hex digits, not '{text}'");
    }

    public static SessionException Invalid(string reason) => new(SessionCodes.TermsInvalid, reason);

    private static bool TryGet(JsonElement terms, string field, out JsonElement value)
    {
        value = default;
        return terms.ValueKind == JsonValueKind.Object && terms.TryGetProperty(field, out value);
    }

    /// <summary><c>{txid}.{vout}</c> with the vout in canonical decimal, as <c>tm_tokens</c> writes asset ids.</summary>
    private static bool TryOutPoint(string text, out OutPoint outPoint)
    {
        outPoint = default;
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot != 64 || !Hash256.TryFromDisplayHex(text[..64], out Hash256 txid)
            || !uint.TryParse(text.AsSpan(65), NumberStyles.None, CultureInfo.InvariantCulture, out uint vout)
            || !text.AsSpan(65).SequenceEqual(vout.ToString(CultureInfo.InvariantCulture)))
        {
            return false;
        }

        outPoint = new OutPoint(txid, vout);
        return true;
    }
}
