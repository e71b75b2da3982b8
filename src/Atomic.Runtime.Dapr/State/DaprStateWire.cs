using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Runtime.Dapr.State;

// The state API's wire shapes, field for field as in Dapr's state API reference (reference/api/state_api.md).

/// <summary>One item of <c>POST /v1.0/state/{store}</c> and the <c>request</c> of a transaction operation.</summary>
internal sealed record DaprStateItem(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("value")] JsonElement? Value,
    [property: JsonPropertyName("etag")] string? ETag,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string>? Metadata,
    [property: JsonPropertyName("options")] DaprStateOptions? Options);

/// <summary><c>options</c>: <c>concurrency</c> is <c>first-write</c> or <c>last-write</c>, <c>consistency</c> is <c>eventual</c> or <c>strong</c>.</summary>
internal sealed record DaprStateOptions(
    [property: JsonPropertyName("concurrency")] string Concurrency,
    [property: JsonPropertyName("consistency")] string Consistency);

/// <summary>The body of <c>POST /v1.0/state/{store}/bulk</c>.</summary>
internal sealed record DaprBulkGetRequest(
    [property: JsonPropertyName("keys")] IReadOnlyList<string> Keys,
    [property: JsonPropertyName("parallelism")] int Parallelism);

/// <summary>One entry of the bulk-get answer: <c>data</c> and <c>etag</c> are absent for a missing key, <c>error</c> is set when that key failed.</summary>
internal sealed record DaprBulkGetItem(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("data")] JsonElement? Data,
    [property: JsonPropertyName("etag")] string? ETag,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>The body of <c>POST /v1.0/state/{store}/transaction</c>.</summary>
internal sealed record DaprTransactionRequest(
    [property: JsonPropertyName("operations")] IReadOnlyList<DaprTransactionOperation> Operations,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string>? Metadata);

/// <summary>One transaction operation: <c>operation</c> is <c>upsert</c> or <c>delete</c>.</summary>
internal sealed record DaprTransactionOperation(
    [property: JsonPropertyName("operation")] string Operation,
    [property: JsonPropertyName("request")] DaprStateItem Request);
