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
public sealed record SubscriptionInfo(
    string PubSubName,
    string Topic,
    string Route,
    IReadOnlyList<(string Match, string Path)> Rules,
    string? DeadLetterTopic,
    string Type,
    IReadOnlyDictionary<string, string> Metadata);
