using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Atomic.Services.Operations;

/// <summary>
/// One entry of the append-only audit log (docs/architecture.md, "Audit trail"): its hash is SHA-256 over the previous
/// entry's hash (32 bytes) followed by the UTF-8 canonical JSON of the entry without its hash.
/// </summary>
public sealed record AuditEntry(long Seq, DateTimeOffset At, string Kind, string Subject, string? Identity, string Detail, string Prev, string Hash)
{
    /// <summary>The <c>prev</c> of the first entry: 32 zero bytes, in hex.</summary>
    public static readonly string Genesis = new('0', 64);

    /// <summary>The exact bytes hashed after the previous hash: <c>{"seq":…,"at":…,"kind":…,"subject":…,"identity":…,"detail":…,"prev":…}</c>.</summary>
    public static byte[] Canonical(long seq, DateTimeOffset at, string kind, string subject, string? identity, string detail, string prev)
    {
        var buffer = new ArrayBufferWriter<byte>(1024); // the writer asks for three bytes a character of each string: 256 grew twice
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", seq);
            WriteDraftFields(json, at, kind, subject, identity, detail);
            json.WriteString("prev", prev);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>SHA-256(prev ‖ canonical JSON), lower-case hex.</summary>
    public static string ComputeHash(long seq, DateTimeOffset at, string kind, string subject, string? identity, string detail, string prev)
    {
        byte[] canonical = Canonical(seq, at, kind, subject, identity, detail, prev);
        byte[] input = new byte[32 + canonical.Length];
        if (prev.Length != 64 || Convert.FromHexString(prev, input.AsSpan(0, 32), out _, out int written) != OperationStatus.Done || written != 32)
        {
            throw new ArgumentException($"prev '{prev}' is not 32 bytes of hex", nameof(prev));
        }

        canonical.CopyTo(input, 32);
        return Convert.ToHexStringLower(SHA256.HashData(input));
    }

    /// <summary>A new entry chained after <paramref name="prev"/>.</summary>
    public static AuditEntry Create(long seq, DateTimeOffset at, string kind, string subject, string? identity, string detail, string prev)
    {
        at = at.ToUniversalTime();
        return new AuditEntry(seq, at, kind, subject, identity, detail, prev, ComputeHash(seq, at, kind, subject, identity, detail, prev));
    }

    /// <summary>Whether the stored hash is the one its fields give.</summary>
    public bool HashMatches() => string.Equals(Hash, ComputeHash(Seq, At, Kind, Subject, Identity, Detail, Prev), StringComparison.Ordinal);

    /// <summary>The stored (and exported) form: the canonical JSON with <c>"hash"</c> appended as its last property.</summary>
    public byte[] ToJson()
    {
        byte[] canonical = Canonical(Seq, At, Kind, Subject, Identity, Detail, Prev);
        byte[] tail = System.Text.Encoding.UTF8.GetBytes($",\"hash\":\"{Hash}\"}}");
        byte[] json = new byte[canonical.Length - 1 + tail.Length];
        canonical.AsSpan(0, canonical.Length - 1).CopyTo(json);
        tail.CopyTo(json, canonical.Length - 1);
        return json;
    }

    public static AuditEntry FromJson(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using JsonDocument document = JsonDocument.ParseValue(ref reader);
        JsonElement e = document.RootElement;
        AuditDraft d = ReadDraftFields(e);
        return new AuditEntry(
            e.GetProperty("seq").GetInt64(), d.At, d.Kind, d.Subject, d.Identity, d.Detail, e.GetProperty("prev").GetString()!, e.GetProperty("hash").GetString()!);
    }

    /// <summary>
    /// The fields an entry has before the writer chains it (at, kind, subject, identity, detail), written as the
    /// canonical JSON holds them; the journal's lines (<see cref="AuditJournal"/>) are these fields alone.
    /// </summary>
    internal static void WriteDraftFields(Utf8JsonWriter json, DateTimeOffset at, string kind, string subject, string? identity, string detail)
    {
        json.WriteString("at", FormatTime(at));
        json.WriteString("kind", kind);
        json.WriteString("subject", subject);
        if (identity is null)
        {
            json.WriteNull("identity");
        }
        else
        {
            json.WriteString("identity", identity);
        }

        json.WriteString("detail", detail);
    }

    /// <summary>The fields <see cref="WriteDraftFields"/> writes, read back from an entry or a journal line.</summary>
    internal static AuditDraft ReadDraftFields(JsonElement e) => new(
        DateTimeOffset.Parse(e.GetProperty("at").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        e.GetProperty("kind").GetString()!,
        e.GetProperty("subject").GetString()!,
        e.GetProperty("identity").GetString(),
        e.GetProperty("detail").GetString()!);

    /// <summary>UTC, ISO 8601 round-trip form with seven fractional digits: <c>2026-12-03T19:00:00.1234567Z</c>.</summary>
    public static string FormatTime(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
