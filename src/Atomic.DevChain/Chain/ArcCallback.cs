using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.DevChain.Chain;

/// <summary>
/// The body ARC POSTs to a transaction's <c>X-CallbackUrl</c> (its OpenAPI <c>Callback</c> schema), with
/// <c>Authorization: Bearer &lt;X-CallbackToken&gt;</c> when a token was given.
/// </summary>
public sealed record ArcCallback(
    [property: JsonPropertyName("timestamp")] DateTime Timestamp,
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("txStatus")] string TxStatus,
    [property: JsonPropertyName("extraInfo"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ExtraInfo = null,
    [property: JsonPropertyName("competingTxs"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? CompetingTxs = null,
    [property: JsonPropertyName("merklePath"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? MerklePath = null,
    [property: JsonPropertyName("blockHash"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? BlockHash = null,
    [property: JsonPropertyName("blockHeight"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] uint? BlockHeight = null)
{
    public static ArcCallback From(TxRecord record, DateTimeOffset now) => new(
        now.UtcDateTime,
        record.TxId.ToDisplayHex(),
        record.Status.ToArc(),
        record.ExtraInfo.Length == 0 ? null : record.ExtraInfo,
        record.CompetingTxs.Count == 0 ? null : record.CompetingTxs.Select(t => t.ToDisplayHex()).ToArray(),
        record.MerklePath,
        record.BlockHash?.ToDisplayHex(),
        record.BlockHeight);

    public string ToJson() => JsonSerializer.Serialize(this);
}
