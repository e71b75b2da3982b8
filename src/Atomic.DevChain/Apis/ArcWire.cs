using System.Text.Json.Serialization;
using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Apis;

/// <summary>
/// ARC's <c>TransactionResponse</c>: the answer to <c>POST /v1/tx</c> and each item of <c>POST /v1/txs</c> that is
/// accepted or rejected by the node (<c>REJECTED</c>).
/// </summary>
public sealed record TransactionResponse(
    [property: JsonPropertyName("blockHash")] string BlockHash,
    [property: JsonPropertyName("blockHeight")] uint BlockHeight,
    [property: JsonPropertyName("competingTxs"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? CompetingTxs,
    [property: JsonPropertyName("extraInfo")] string ExtraInfo,
    [property: JsonPropertyName("merklePath")] string MerklePath,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("timestamp")] DateTime Timestamp,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("txStatus")] string TxStatus,
    [property: JsonPropertyName("txid")] string TxId)
{
    /// <summary>An unmined transaction has an empty block hash and merkle path and height 0, as ARC answers.</summary>
    public static TransactionResponse From(TxRecord record, DateTimeOffset now) => new(
        record.BlockHash?.ToDisplayHex() ?? string.Empty,
        record.BlockHeight ?? 0,
        record.CompetingTxs.Count == 0 ? null : record.CompetingTxs.Select(t => t.ToDisplayHex()).ToArray(),
        record.ExtraInfo,
        record.MerklePath ?? string.Empty,
        ArcStatus.Ok,
        now.UtcDateTime,
        ArcStatus.Title(ArcStatus.Ok),
        record.Status.ToArc(),
        record.TxId.ToDisplayHex());
}

/// <summary>ARC's <c>TransactionStatus</c>: the answer to <c>GET /v1/tx/{txid}</c>.</summary>
public sealed record TransactionStatusResponse(
    [property: JsonPropertyName("blockHash")] string BlockHash,
    [property: JsonPropertyName("blockHeight")] uint BlockHeight,
    [property: JsonPropertyName("competingTxs"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? CompetingTxs,
    [property: JsonPropertyName("extraInfo")] string ExtraInfo,
    [property: JsonPropertyName("merklePath")] string MerklePath,
    [property: JsonPropertyName("timestamp")] DateTime Timestamp,
    [property: JsonPropertyName("txStatus")] string TxStatus,
    [property: JsonPropertyName("txid")] string TxId)
{
    public static TransactionStatusResponse From(TxRecord record, DateTimeOffset now) => new(
        record.BlockHash?.ToDisplayHex() ?? string.Empty,
        record.BlockHeight ?? 0,
        record.CompetingTxs.Count == 0 ? null : record.CompetingTxs.Select(t => t.ToDisplayHex()).ToArray(),
        record.ExtraInfo,
        record.MerklePath ?? string.Empty,
        now.UtcDateTime,
        record.Status.ToArc(),
        record.TxId.ToDisplayHex());
}

/// <summary>ARC's <c>PolicyResponse</c>.</summary>
public sealed record PolicyResponse(
    [property: JsonPropertyName("policy")] Policy Policy,
    [property: JsonPropertyName("timestamp")] DateTime Timestamp);

/// <summary>ARC's <c>Policy</c> (the node's policy names, lower case as ARC spells them).</summary>
public sealed record Policy(
    [property: JsonPropertyName("maxscriptsizepolicy")] ulong MaxScriptSizePolicy,
    [property: JsonPropertyName("maxtxsigopscountspolicy")] ulong MaxTxSigopsCountsPolicy,
    [property: JsonPropertyName("maxtxsizepolicy")] ulong MaxTxSizePolicy,
    [property: JsonPropertyName("miningFee")] FeeAmount MiningFee,
    [property: JsonPropertyName("standardFormatSupported")] bool StandardFormatSupported);

/// <summary>ARC's <c>FeeAmount</c>: so many satoshis per so many bytes.</summary>
public sealed record FeeAmount(
    [property: JsonPropertyName("satoshis")] ulong Satoshis,
    [property: JsonPropertyName("bytes")] ulong Bytes);

/// <summary>ARC's <c>Health</c>.</summary>
public sealed record HealthResponse(
    [property: JsonPropertyName("healthy")] bool Healthy,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("reason")] string? Reason);
