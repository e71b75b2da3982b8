using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Runtime.Dapr.PubSub;

// The pub/sub API's wire shapes, field for field as in Dapr's pub/sub API reference (reference/api/pubsub_api.md).

/// <summary>One entry of <c>POST /v1.0-alpha1/publish/bulk/{pubsub}/{topic}</c>.</summary>
internal sealed record DaprBulkPublishEntry(
    [property: JsonPropertyName("entryId")] string EntryId,
    [property: JsonPropertyName("event")] JsonElement Event,
    [property: JsonPropertyName("contentType")] string ContentType);

/// <summary>The bulk-publish failure answer (status 500).</summary>
internal sealed record DaprBulkPublishFailure(
    [property: JsonPropertyName("failedEntries")] IReadOnlyList<DaprBulkPublishFailedEntry>? FailedEntries,
    [property: JsonPropertyName("errorCode")] string? ErrorCode);

internal sealed record DaprBulkPublishFailedEntry(
    [property: JsonPropertyName("entryId")] string EntryId,
    [property: JsonPropertyName("error")] string? Error);

/// <summary>One entry of the app's <c>GET /dapr/subscribe</c> answer (programmatic subscriptions).</summary>
public sealed record DaprSubscriptionEntry(
    [property: JsonPropertyName("pubsubname")] string PubSubName,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("route")] string Route,
    [property: JsonPropertyName("deadLetterTopic"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DeadLetterTopic,
    [property: JsonPropertyName("metadata"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Metadata);

/// <summary>The app's answer to one delivery: <c>SUCCESS</c>, <c>RETRY</c> or <c>DROP</c>.</summary>
public sealed record DaprDeliveryAnswer([property: JsonPropertyName("status")] string Status)
{
    public static DaprDeliveryAnswer Success { get; } = new("SUCCESS");

    public static DaprDeliveryAnswer Retry { get; } = new("RETRY");

    public static DaprDeliveryAnswer Drop { get; } = new("DROP");
}
