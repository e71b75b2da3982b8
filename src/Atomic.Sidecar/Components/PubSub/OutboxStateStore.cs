using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Components.PubSub;

/// <summary>
/// Dapr's transactional outbox (<c>outboxPublishPubsub</c>, <c>outboxPublishTopic</c> on a state store component):
/// every upsert of a transaction is published to the topic exactly when the transaction commits, because the events
/// are written by that same transaction into the store the durable pub/sub delivers from.
/// </summary>
/// <remarks>
/// As on Dapr: an upsert with <c>outbox.projection: "true"</c> is not saved but replaces the published payload of the
/// upsert with the same key (a projection without such an upsert fails the whole transaction); <c>cloudevent.*</c>
/// metadata overrides the event's id, source, type and subject; deletes publish nothing. Our defaults: the event's
/// type is the topic name and its subject is the state key. Single writes outside a transaction publish nothing.
/// </remarks>
public sealed class OutboxStateStore : IStateStore
{
    private readonly IStateStore _inner;
    private readonly DurablePubSub _pubsub;
    private readonly string _topic;
    private readonly TimeProvider _time;

    public OutboxStateStore(IStateStore inner, DurablePubSub pubsub, string topic, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(pubsub);
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        if (!ReferenceEquals(pubsub.Store, inner))
        {
            throw new ArgumentException($"the outbox of state store '{inner.Name}' needs pub/sub '{pubsub.Name}' to keep its events in that same store (it uses '{pubsub.Store.Name}')", nameof(pubsub));
        }

        _inner = inner;
        _pubsub = pubsub;
        _topic = topic;
        _time = timeProvider ?? TimeProvider.System;
    }

    public string Name => _inner.Name;

    /// <summary>The pub/sub and topic every committed upsert is published to.</summary>
    public (string PubSub, string Topic) Outbox => (_pubsub.Name, _topic);

    public Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken = default) => _inner.GetAsync(key, cancellationToken);

    public Task<IReadOnlyList<(string Key, StateItem? Item)>> GetBulkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        _inner.GetBulkAsync(keys, cancellationToken);

    public Task<string> SaveAsync(StateWrite write, CancellationToken cancellationToken = default) => _inner.SaveAsync(write, cancellationToken);

    public Task SaveBulkAsync(IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken = default) => _inner.SaveBulkAsync(writes, cancellationToken);

    public Task DeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default) => _inner.DeleteAsync(key, etag, cancellationToken);

    public IAsyncEnumerable<(string Key, StateItem Item)> ListAsync(string prefix, CancellationToken cancellationToken = default) => _inner.ListAsync(prefix, cancellationToken);

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        Dictionary<string, StateWrite>? projections = null;
        var saved = new List<StateOperation>(operations.Count + 1);
        foreach (StateOperation operation in operations)
        {
            if (operation is StateOperation.Upsert { Write: var write } && IsProjection(write))
            {
                projections ??= new Dictionary<string, StateWrite>(StringComparer.Ordinal);
                projections[write.Key] = write;
            }
            else
            {
                saved.Add(operation);
            }
        }

        var events = new List<CloudEvent>();
        foreach (StateOperation operation in saved)
        {
            if (operation is not StateOperation.Upsert { Write: var write })
            {
                continue;
            }

            StateWrite published = write;
            if (projections is not null && projections.Remove(write.Key, out StateWrite? projection))
            {
                published = projection;
            }

            events.Add(ToEvent(write.Key, published, write));
        }

        if (projections is { Count: > 0 })
        {
            throw new ArgumentException($"outbox projection for key '{projections.Keys.First()}' has no upsert of the same key in the transaction", nameof(operations));
        }

        DurablePubSub.Outbox outbox = _pubsub.Prepare(events);
        saved.AddRange(outbox.Operations);
        await _inner.ExecuteTransactionAsync(saved, cancellationToken).ConfigureAwait(false);
        outbox.Dispatch();
    }

    private static bool IsProjection(StateWrite write) =>
        write.Metadata is not null
        && write.Metadata.TryGetValue(StateMetadata.OutboxProjection, out string? value)
        && string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);

    private CloudEvent ToEvent(string key, StateWrite published, StateWrite saved)
    {
        string? Meta(string name) =>
            published.Metadata?.GetValueOrDefault(name) ?? saved.Metadata?.GetValueOrDefault(name);

        return new CloudEvent(
            Meta(StateMetadata.CloudEventPrefix + "id") ?? Guid.NewGuid().ToString("n"),
            Meta(StateMetadata.CloudEventPrefix + "source") ?? "atomic",
            Meta(StateMetadata.CloudEventPrefix + "type") ?? _topic,
            Meta(StateMetadata.CloudEventPrefix + "subject") ?? key,
            Meta(StateMetadata.ContentType) ?? "application/json",
            published.Value,
            _time.GetUtcNow(),
            _pubsub.Name,
            _topic)
        {
            TraceParent = Meta(StateMetadata.CloudEventPrefix + "traceparent"),
            TraceState = Meta(StateMetadata.CloudEventPrefix + "tracestate"),
        };
    }
}
