using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Services.Contracts;

/// <summary><c>TopicManager.Admit</c>: a verified transaction (its BEEF in base64) offered to one topic.</summary>
public sealed record AdmitRequest(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("beef")] string Beef);

/// <summary>
/// One topic's entry of a STEAK (BRC-22 admittance instructions, as <c>@bsv/sdk</c>'s <c>AdmittanceInstructions</c>):
/// the outputs admitted, and the spent previous coins (by input index) retained or removed.
/// </summary>
public sealed record AdmittanceInstructions(
    [property: JsonPropertyName("outputsToAdmit")] IReadOnlyList<int> OutputsToAdmit,
    [property: JsonPropertyName("coinsToRetain")] IReadOnlyList<int> CoinsToRetain,
    [property: JsonPropertyName("coinsRemoved")] IReadOnlyList<int> CoinsRemoved);

/// <summary><c>TopicManager.Lookup</c>: a BRC-24 question for one of the topic's lookup services.</summary>
public sealed record LookupRequest(
    [property: JsonPropertyName("service")] string Service,
    [property: JsonPropertyName("query")] JsonElement Query,
    [property: JsonPropertyName("limit")] int? Limit = null);

/// <summary>An output answering a lookup: where it is, the Atomic BEEF (base64) of its transaction, and the spending txid once spent.</summary>
public sealed record LookupOutput(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("outputIndex")] int OutputIndex,
    [property: JsonPropertyName("beef")] string Beef,
    [property: JsonPropertyName("spentBy")] string? SpentBy);

public sealed record LookupResult([property: JsonPropertyName("outputs")] IReadOnlyList<LookupOutput> Outputs);

/// <summary>
/// One basket operation on the wire: <c>op</c> is <c>insert</c> (with <c>satoshis</c>, <c>lockingScript</c> hex, optional
/// <c>tags</c> and <c>customInstructions</c>), <c>spend</c> (with <c>spentBy</c>, a txid), <c>relinquish</c>,
/// <c>reserve</c> (with <c>holder</c> and <c>until</c>, an ISO-8601 time) or <c>release</c> (with <c>holder</c>).
/// </summary>
public sealed record BasketOperationRequest(
    [property: JsonPropertyName("op")] string? Op,
    [property: JsonPropertyName("outpoint")] string? Outpoint,
    [property: JsonPropertyName("satoshis")] ulong? Satoshis = null,
    [property: JsonPropertyName("lockingScript")] string? LockingScript = null,
    [property: JsonPropertyName("tags")] IReadOnlyList<string>? Tags = null,
    [property: JsonPropertyName("customInstructions")] string? CustomInstructions = null,
    [property: JsonPropertyName("spentBy")] string? SpentBy = null,
    [property: JsonPropertyName("holder")] string? Holder = null,
    [property: JsonPropertyName("until")] DateTimeOffset? Until = null);

/// <summary>
/// <c>BasketManager.Apply</c>: a batch applied entirely or not at all. With an <c>idempotencyKey</c>, a batch already
/// applied under that key changes nothing and answers <c>applied: false</c>.
/// </summary>
public sealed record ApplyRequest(
    [property: JsonPropertyName("operations")] IReadOnlyList<BasketOperationRequest>? Operations,
    [property: JsonPropertyName("idempotencyKey")] string? IdempotencyKey = null);

public sealed record ApplyResult(
    [property: JsonPropertyName("applied")] bool Applied,
    [property: JsonPropertyName("totalOutputs")] int TotalOutputs);

/// <summary><c>BasketManager.ApplyTransaction</c>: a verified transaction whose outputs join the basket and whose inputs spend the basket's outputs.</summary>
public sealed record ApplyTransactionRequest(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("beef")] string Beef);

/// <summary>
/// <c>BasketManager.List</c>: outputs with any (or all) of <c>tags</c>; spent ones only with <c>includeSpent</c>, and
/// ones reserved by someone (a running session) only with <c>includeReserved</c>.
/// </summary>
public sealed record ListRequest(
    [property: JsonPropertyName("tags")] IReadOnlyList<string>? Tags = null,
    [property: JsonPropertyName("tagQueryMode")] string? TagQueryMode = null,
    [property: JsonPropertyName("includeSpent")] bool IncludeSpent = false,
    [property: JsonPropertyName("limit")] int? Limit = null,
    [property: JsonPropertyName("offset")] int Offset = 0,
    [property: JsonPropertyName("includeReserved")] bool IncludeReserved = false);

/// <summary>An output of a basket, as BRC-100's <c>listOutputs</c> answers it.</summary>
public sealed record BasketOutputView(
    [property: JsonPropertyName("outpoint")] string Outpoint,
    [property: JsonPropertyName("satoshis")] ulong Satoshis,
    [property: JsonPropertyName("lockingScript")] string LockingScript,
    [property: JsonPropertyName("spendable")] bool Spendable,
    [property: JsonPropertyName("tags")] IReadOnlyList<string> Tags,
    [property: JsonPropertyName("customInstructions")] string? CustomInstructions,
    [property: JsonPropertyName("reservedBy"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ReservedBy = null,
    [property: JsonPropertyName("reservedUntil"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ReservedUntil = null);

/// <summary>BRC-100's <c>listOutputs</c> answer: how many outputs match, and the page asked for.</summary>
public sealed record ListResult(
    [property: JsonPropertyName("totalOutputs")] int TotalOutputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<BasketOutputView> Outputs);

public sealed record RelinquishRequest([property: JsonPropertyName("outpoint")] string Outpoint);

public sealed record RelinquishResult([property: JsonPropertyName("relinquished")] bool Relinquished);
