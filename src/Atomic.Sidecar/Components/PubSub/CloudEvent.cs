namespace Atomic.Sidecar.Components.PubSub;

/// <summary>
/// A CloudEvents 1.0 envelope as Dapr delivers it: <see cref="Type"/> is the topic name by our convention,
/// <see cref="Subject"/> the entity it is about (a txid), and <see cref="Data"/> the payload (JSON by default).
/// </summary>
public sealed record CloudEvent(
    string Id,
    string Source,
    string Type,
    string? Subject,
    string DataContentType,
    ReadOnlyMemory<byte> Data,
    DateTimeOffset Time,
    string PubSubName,
    string Topic)
{
    public const string SpecVersion = "1.0";

    /// <summary>The W3C trace context the event was published in (the distributed tracing extension's <c>traceparent</c>).</summary>
    public string? TraceParent { get; init; }

    /// <summary>The W3C <c>tracestate</c> that goes with <see cref="TraceParent"/>.</summary>
    public string? TraceState { get; init; }

    /// <summary>A new event for <paramref name="topic"/> with a fresh id, typed by the topic name.</summary>
    public static CloudEvent Create(string pubSubName, string topic, ReadOnlyMemory<byte> data, string? subject = null, string source = "atomic", string dataContentType = "application/json", TimeProvider? time = null) =>
        new(Guid.NewGuid().ToString("n"), source, topic, subject, dataContentType, data, (time ?? TimeProvider.System).GetUtcNow(), pubSubName, topic);
}

/// <summary>What a subscriber answers for one delivery (Dapr's SUCCESS / RETRY / DROP).</summary>
public enum DeliveryResult
{
    /// <summary>Processed: never delivered again.</summary>
    Success,

    /// <summary>Not processed now: delivered again after a backoff, until the retry policy is exhausted.</summary>
    Retry,

    /// <summary>Will never be processable: goes to the dead-letter topic (if any) without further retries.</summary>
    Drop,
}

/// <summary>Exponential backoff for redeliveries; once <see cref="MaxAttempts"/> deliveries have failed, the event is dead-lettered.</summary>
public sealed record RetryPolicy(int MaxAttempts = 5, TimeSpan? InitialDelay = null, double Multiplier = 2, TimeSpan? MaxDelay = null)
{
    public static RetryPolicy Default { get; } = new();

    public TimeSpan DelayBefore(int attempt)
    {
        TimeSpan initial = InitialDelay ?? TimeSpan.FromMilliseconds(100);
        TimeSpan max = MaxDelay ?? TimeSpan.FromSeconds(10);
        double ms = initial.TotalMilliseconds * Math.Pow(Multiplier, Math.Max(0, attempt - 1));
        return TimeSpan.FromMilliseconds(Math.Min(ms, max.TotalMilliseconds));
    }
}

/// <summary>
/// One subscription: its handler, where events go that are dropped or exhaust their retries, and how it shares the
/// topic. Subscriptions with the same <paramref name="Consumer"/> (Dapr's consumer group, normally the app id) share
/// one copy of each event; each distinct consumer receives every event. Without a consumer name, each subscription
/// is its own consumer, named by the order in which the process subscribes to the topic (stable across restarts
/// when start-up subscribes in a fixed order). <paramref name="MaxConcurrency"/> bounds the handler calls in flight.
/// </summary>
public sealed record Subscription(
    string PubSubName,
    string Topic,
    Func<CloudEvent, CancellationToken, Task<DeliveryResult>> Handler,
    string? DeadLetterTopic = null,
    RetryPolicy? Retry = null,
    string? Consumer = null,
    int MaxConcurrency = 1);

/// <summary>
/// The pub/sub building block: at-least-once delivery of CloudEvents to every subscription of a topic. Handlers must
/// be idempotent: a delivery can repeat (a handler that throws counts as <see cref="DeliveryResult.Retry"/>).
/// </summary>
public interface IPubSub
{
    /// <summary>The component name (for example <c>pubsub</c>).</summary>
    string Name { get; }

    /// <summary>Accepts the event for delivery; once this completes the event is not lost.</summary>
    Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken = default);

    /// <summary>Accepts several events at once, all or none.</summary>
    Task PublishBulkAsync(IReadOnlyList<CloudEvent> cloudEvents, CancellationToken cancellationToken = default);

    /// <summary>Starts delivering the topic's events to the handler; dispose to stop.</summary>
    IAsyncDisposable Subscribe(Subscription subscription);
}
