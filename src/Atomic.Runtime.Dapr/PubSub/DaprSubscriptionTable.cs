using Atomic.Runtime.PubSub;

namespace Atomic.Runtime.Dapr.PubSub;

/// <summary>
/// The app's subscriptions, as the sidecar sees them: one Dapr subscription (and one delivery route) per pub/sub and
/// topic. Dapr delivers each event once per app, so this table does what the port promises beyond that: each consumer
/// of the topic (subscriptions sharing a <see cref="Subscription.Consumer"/>, or each unnamed subscription alone) gets
/// the event, a subscription runs at most <see cref="Subscription.MaxConcurrency"/> handlers at once, and once an event
/// has failed <see cref="RetryPolicy.MaxAttempts"/> deliveries the app answers DROP so the sidecar dead-letters it.
/// Each consumer keeps its own dead-letter topic: the sidecar knows one per topic (the first subscription's), so the
/// event a consumer with another one drops, or gives up on, is published to that topic by the app itself.
/// </summary>
/// <remarks>
/// The backoff between redeliveries is the sidecar's resiliency policy, not <see cref="RetryPolicy"/>. Attempts are
/// counted in memory (at most <see cref="MaxTrackedEvents"/> events): a restart or an overflow means more attempts,
/// never fewer.
/// </remarks>
public sealed class DaprSubscriptionTable
{
    /// <summary>Where deliveries arrive: <c>/dapr/pubsub/{pubsub}/{topic}</c>.</summary>
    public const string RoutePrefix = "/dapr/pubsub/";

    public const int MaxTrackedEvents = 10_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string PubSub, string Topic), TopicSubscriptions> _topics = [];
    private long _nextId;

    /// <summary>The delivery route of a pub/sub and topic, path segments escaped.</summary>
    public static string RouteFor(string pubsub, string topic) => $"{RoutePrefix}{Uri.EscapeDataString(pubsub)}/{Uri.EscapeDataString(topic)}";

    /// <summary>
    /// Adds a subscription; dispose to remove it. The first subscription of a topic names the dead-letter topic the
    /// sidecar is told; a later one with another dead-letter topic needs <paramref name="deadLetters"/>, the pub/sub the
    /// app publishes its dead letters to.
    /// </summary>
    public IAsyncDisposable Add(Subscription subscription, IPubSub? deadLetters = null)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentException.ThrowIfNullOrWhiteSpace(subscription.Topic);
        ArgumentOutOfRangeException.ThrowIfLessThan(subscription.MaxConcurrency, 1, nameof(subscription));
        lock (_lock)
        {
            (string, string) key = (subscription.PubSubName, subscription.Topic);
            if (!_topics.TryGetValue(key, out TopicSubscriptions? topic))
            {
                _topics[key] = topic = new TopicSubscriptions(subscription.DeadLetterTopic);
            }
            else if (!string.Equals(topic.DeadLetterTopic, subscription.DeadLetterTopic, StringComparison.Ordinal) && subscription.DeadLetterTopic is not null && deadLetters is null)
            {
                throw new InvalidOperationException(
                    $"topic '{subscription.Topic}' of pub/sub '{subscription.PubSubName}' already has dead-letter topic '{topic.DeadLetterTopic ?? "(none)"}': on Dapr an app has one subscription, so one dead-letter topic, per topic, and no pub/sub was given to publish '{subscription.DeadLetterTopic}' to");
            }

            var registration = new Registration(this, key, subscription, subscription.Consumer ?? $"#{++_nextId}", deadLetters);
            topic.Registrations.Add(registration);
            return registration;
        }
    }

    /// <summary>The programmatic subscriptions the app answers on <c>GET /dapr/subscribe</c>.</summary>
    public IReadOnlyList<DaprSubscriptionEntry> Entries()
    {
        lock (_lock)
        {
            return _topics
                .OrderBy(t => t.Key.PubSub, StringComparer.Ordinal).ThenBy(t => t.Key.Topic, StringComparer.Ordinal)
                .Select(t => new DaprSubscriptionEntry(t.Key.PubSub, t.Key.Topic, RouteFor(t.Key.PubSub, t.Key.Topic), t.Value.DeadLetterTopic, null))
                .ToList();
        }
    }

    /// <summary>
    /// Runs one delivery through the topic's consumers. With no live subscription the answer is Retry: the event is
    /// kept for when the app subscribes again (the sidecar only learns of an unsubscription at the app's next start).
    /// </summary>
    public async Task<DeliveryResult> DeliverAsync(string pubsub, string topic, CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        TopicSubscriptions? entry;
        List<Registration> chosen;
        lock (_lock)
        {
            if (!_topics.TryGetValue((pubsub, topic), out entry) || entry.Registrations.Count == 0)
            {
                return DeliveryResult.Retry;
            }

            chosen = [.. entry.Registrations.GroupBy(r => r.Consumer, StringComparer.Ordinal)
                .Select(g => g.ElementAt((int)(entry.NextTurn(g.Key) % (ulong)g.Count())))];
        }

        DeliveryResult[] results = await Task.WhenAll(chosen.Select(r => r.RunAsync(cloudEvent, cancellationToken))).ConfigureAwait(false);
        if (results.Contains(DeliveryResult.Retry))
        {
            int limit = chosen.Where((_, i) => results[i] == DeliveryResult.Retry).Max(r => (r.Subscription.Retry ?? RetryPolicy.Default).MaxAttempts);
            lock (_lock)
            {
                if (entry.Failed(cloudEvent.Id) < limit)
                {
                    return DeliveryResult.Retry;
                }
            }
        }

        // Settled: what each consumer dropped or gave up on goes to its dead-letter topic, the sidecar's or its own.
        bool sidecarDrops = false;
        for (int i = 0; i < chosen.Count; i++)
        {
            if (results[i] == DeliveryResult.Success)
            {
                continue;
            }

            Registration registration = chosen[i];
            string? own = registration.Subscription.DeadLetterTopic;
            if (string.Equals(own, entry.DeadLetterTopic, StringComparison.Ordinal))
            {
                sidecarDrops = true;
                continue;
            }

            if (own is null || registration.DeadLetters is not IPubSub deadLetters)
            {
                continue; // no dead-letter topic of its own (Add refuses another without a pub/sub): dropped for it, not put in another's
            }

            try
            {
                await deadLetters.PublishAsync(cloudEvent with { Topic = own, PubSubName = deadLetters.Name }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                return DeliveryResult.Retry; // nothing is lost: the next delivery dead-letters it again
            }
        }

        lock (_lock)
        {
            entry.Settled(cloudEvent.Id);
        }

        return sidecarDrops ? DeliveryResult.Drop : DeliveryResult.Success;
    }

    private void Remove(Registration registration)
    {
        lock (_lock)
        {
            if (_topics.TryGetValue(registration.Key, out TopicSubscriptions? topic) && topic.Registrations.Remove(registration) && topic.Registrations.Count == 0)
            {
                _topics.Remove(registration.Key);
            }
        }
    }

    /// <summary>The subscriptions of one topic, their turn counters and the failed-attempt counts (guarded by the table's lock).</summary>
    private sealed class TopicSubscriptions(string? deadLetterTopic)
    {
        private readonly Dictionary<string, ulong> _turns = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);

        public string? DeadLetterTopic { get; } = deadLetterTopic;

        public List<Registration> Registrations { get; } = [];

        public ulong NextTurn(string consumer)
        {
            _turns.TryGetValue(consumer, out ulong turn);
            _turns[consumer] = turn + 1;
            return turn;
        }

        /// <summary>Counts one more failed delivery of the event.</summary>
        public int Failed(string eventId)
        {
            if (_failures.Count >= MaxTrackedEvents && !_failures.ContainsKey(eventId))
            {
                _failures.Clear();
            }

            int failures = _failures.GetValueOrDefault(eventId) + 1;
            _failures[eventId] = failures;
            return failures;
        }

        public void Settled(string eventId) => _failures.Remove(eventId);
    }

    private sealed class Registration(DaprSubscriptionTable table, (string, string) key, Subscription subscription, string consumer, IPubSub? deadLetters) : IAsyncDisposable
    {
        private readonly SemaphoreSlim _slots = new(subscription.MaxConcurrency, subscription.MaxConcurrency);

        public (string PubSub, string Topic) Key { get; } = key;

        public Subscription Subscription { get; } = subscription;

        public string Consumer { get; } = consumer;

        /// <summary>Where the app publishes this consumer's dead letters when they are not the sidecar's.</summary>
        public IPubSub? DeadLetters { get; } = deadLetters;

        public async Task<DeliveryResult> RunAsync(CloudEvent cloudEvent, CancellationToken cancellationToken)
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await Subscription.Handler(cloudEvent, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                return DeliveryResult.Retry; // the port's rule: a handler that throws counts as Retry
            }
            finally
            {
                _slots.Release();
            }
        }

        public ValueTask DisposeAsync()
        {
            table.Remove(this);
            return ValueTask.CompletedTask;
        }
    }
}
