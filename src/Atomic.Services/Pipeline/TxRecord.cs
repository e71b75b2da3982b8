using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Services.Pipeline;

/// <summary>Where a transaction is on its way through the pipeline (ARCHITECTURE.md's state machine).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TxStatus>))]
public enum TxStatus
{
    [JsonStringEnumMemberName("received")] Received,
    [JsonStringEnumMemberName("verified")] Verified,
    [JsonStringEnumMemberName("rejected")] Rejected,
    [JsonStringEnumMemberName("broadcast")] Broadcast,
    [JsonStringEnumMemberName("mined")] Mined,
    [JsonStringEnumMemberName("failed")] Failed,
}

/// <summary>One step of a record's history.</summary>
public sealed record TxHistoryEntry(
    [property: JsonPropertyName("status")] TxStatus Status,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("code")] string? Code = null);

/// <summary>
/// The record of one submitted transaction, kept at <c>tx|{txid}</c>: where it is going, and where it has been. Its
/// BEEF is kept apart, at <c>beef|{txid}</c> (<see cref="TxRecords.GetBeefAsync"/>), so that the record every stage
/// reads and rewrites stays small; <see cref="Beef"/> (base64) is only in records written before that.
/// </summary>
public sealed record TxRecord(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("status")] TxStatus Status,
    [property: JsonPropertyName("beef"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Beef,
    [property: JsonPropertyName("topics")] IReadOnlyList<string> Topics,
    [property: JsonPropertyName("baskets")] IReadOnlyList<string> Baskets,
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("merklePath")] string? MerklePath,
    [property: JsonPropertyName("history")] IReadOnlyList<TxHistoryEntry> History,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt)
{
    /// <summary>
    /// Web defaults, without HTML-safe escaping: records and events are never embedded in HTML, and the default
    /// encoder would write every '+' of a base64 BEEF as <c>\u002B</c>.
    /// </summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Whether the state machine allows going from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool CanMove(TxStatus from, TxStatus to) => (from, to) switch
    {
        (TxStatus.Received, TxStatus.Verified or TxStatus.Rejected) => true,
        (TxStatus.Verified, TxStatus.Broadcast or TxStatus.Failed) => true,
        (TxStatus.Broadcast, TxStatus.Mined or TxStatus.Failed) => true,
        _ => false,
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static TxRecord FromJson(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<TxRecord>(json, Json) ?? throw new JsonException("a transaction record cannot be null");
}
