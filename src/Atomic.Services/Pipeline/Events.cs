using System.Text.Json.Serialization;

namespace Atomic.Services.Pipeline;

/// <summary>
/// <c>beef.submitted</c>: a BEEF durably accepted by the gateway. The BEEF itself is at <c>beef|{txid}</c> (events carry it by
/// reference); <see cref="Beef"/> (base64) is only in events written before that.
/// </summary>
public sealed record BeefSubmitted(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("beef"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Beef,
    [property: JsonPropertyName("topics")] IReadOnlyList<string> Topics,
    [property: JsonPropertyName("baskets")] IReadOnlyList<string> Baskets,
    [property: JsonPropertyName("receivedAt")] DateTimeOffset ReceivedAt);

/// <summary>
/// <c>beef.verified</c>: the BEEF passed SPV; it is at <c>beef|{txid}</c> (<see cref="Beef"/> only in older events).
/// <see cref="Ef"/> is the transaction in Extended Format (hex), what ARC takes, when every other transaction in its
/// BEEF is mined: the broadcaster then needs neither to read the BEEF nor to parse it. Without it (an unconfirmed
/// ancestor to send first, or an older event) the broadcaster reads the BEEF.
/// </summary>
public sealed record BeefVerified(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("beef"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Beef,
    [property: JsonPropertyName("topics")] IReadOnlyList<string> Topics,
    [property: JsonPropertyName("baskets")] IReadOnlyList<string> Baskets,
    [property: JsonPropertyName("ef"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Ef = null);

/// <summary><c>beef.rejected</c> and <c>tx.failed</c>: why a transaction stopped.</summary>
public sealed record TxProblem(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("reason")] string Reason);

/// <summary><c>tx.broadcast</c>: an ARC endpoint accepted the transaction.</summary>
public sealed record TxBroadcast(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("arcStatus")] string ArcStatus);

/// <summary><c>tx.mined</c>: the transaction is in a block; the merkle path is BRC-74 hex.</summary>
public sealed record TxMined(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("blockHeight")] long BlockHeight,
    [property: JsonPropertyName("blockHash")] string BlockHash,
    [property: JsonPropertyName("merklePath")] string MerklePath);
