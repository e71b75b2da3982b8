namespace Atomic.Sidecar.AppChannel;

/// <summary>
/// One subscription of the app, as <c>GET /v1.0/metadata</c> lists it: where a topic's events are delivered, and where
/// dropped or exhausted ones go.
/// </summary>
/// <param name="PubSubName">The pub/sub component.</param>
/// <param name="Topic">The topic.</param>
/// <param name="Route">The app's default route for the topic's events (a path such as <c>/orders</c>).</param>
/// <param name="Rules">Routing rules in order: a CEL match and the path it sends to.</param>
/// <param name="DeadLetterTopic">The dead-letter topic, if any.</param>
/// <param name="Type"><c>PROGRAMMATIC</c> (from <c>GET /dapr/subscribe</c>) or <c>DECLARATIVE</c> (a Subscription resource).</param>
/// <param name="Metadata">The subscription's metadata (for example <c>rawPayload</c>).</param>
/// <param name="Bulk">Bulk subscribe (<c>bulkSubscribe.enabled</c>): events go to the route many to a request; null when off.</param>
public sealed record SubscriptionInfo(
    string PubSubName,
    string Topic,
    string Route,
    IReadOnlyList<(string Match, string Path)> Rules,
    string? DeadLetterTopic,
    string Type,
    IReadOnlyDictionary<string, string> Metadata,
    BulkSubscribe? Bulk = null);

/// <summary>
/// A subscription's <c>bulkSubscribe</c>: at most <paramref name="MaxMessagesCount"/> events to a request, sent no later
/// than <paramref name="MaxAwaitDurationMs"/> after the first of them was ready (this sidecar sends sooner: see
/// <c>BulkDelivery</c>).
/// </summary>
public sealed record BulkSubscribe(int MaxMessagesCount, int MaxAwaitDurationMs)
{
    /// <summary>daprd's defaults for the two.</summary>
    public const int DefaultMaxMessagesCount = 100;

    public const int DefaultMaxAwaitDurationMs = 1000;
}
