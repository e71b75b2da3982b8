using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Atomic.Runtime.PubSub;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Embedded.PubSub;

/// <summary>
/// The embedded runtime's pub/sub when a state store is configured: every event is written to the state store, one
/// copy per consumer of its topic, before <see cref="PublishAsync"/> completes, and deleted only when that consumer's
/// handler has answered. Events therefore survive a crash of the process (as durable as the store), and a state
/// transaction can carry events with it (the outbox, see <see cref="OutboxStateStore"/>).
/// </summary>
/// <remarks>
/// Keys: <c>pubsub||{name}||c||{topic}||{consumer}</c> registers a consumer, so that events published while it is not
/// subscribed (after a crash, before start-up resubscribes) wait for it; <c>pubsub||{name}||m||{topic}||{consumer}||{seq}</c>
/// holds one pending delivery as a CloudEvents JSON envelope. Concurrent publishes and acknowledgements are grouped
/// into one store transaction (group commit). Delivery runs from memory: the process that committed an event hands it
/// to its subscribers at once, and a subscription reads its consumer's backlog from the store when it starts.
/// One process owns a database's deliveries; retries count in memory, so a restart starts an event's count afresh.
/// </remarks>
public sealed class DurablePubSub : IPubSub, IAsyncDisposable
{
    private const string Separator = "||";

    private readonly IStateStore _store;
    private readonly TimeProvider _time;
    private readonly GroupCommitter _committer;
    private readonly ConcurrentDictionary<string, string[]> _consumers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Worker[]> _workers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _anonymous = new(StringComparer.Ordinal);
    private readonly object _registryLock = new();
    private long _sequence;

    private DurablePubSub(string name, IStateStore store, TimeProvider time)
    {
        Name = name;
        _store = store;
        _time = time;
        _sequence = time.GetUtcNow().UtcTicks; // keys stay ordered across restarts: the clock outruns the counter
        _committer = new GroupCommitter(store);
    }

    public string Name { get; }

    /// <summary>The state store holding the events; an outbox must write to this same store.</summary>
    public IStateStore Store => _store;

    /// <summary>Opens the pub/sub named <paramref name="name"/> over <paramref name="store"/>, loading its registered consumers.</summary>
    public static async Task<DurablePubSub> OpenAsync(string name, IStateStore store, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(store);
        CheckName(name, "pub/sub name");
        var pubsub = new DurablePubSub(name, store, timeProvider ?? TimeProvider.System);
        string prefix = $"pubsub{Separator}{name}{Separator}c{Separator}";
        await foreach ((string key, StateItem _) in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            string[] parts = key[prefix.Length..].Split(Separator);
            if (parts.Length == 2)
            {
                pubsub.AddConsumer(parts[0], parts[1]);
            }
        }

        return pubsub;
    }

    public Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        return PublishBulkAsync([cloudEvent], cancellationToken);
    }

    public async Task PublishBulkAsync(IReadOnlyList<CloudEvent> cloudEvents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cloudEvents);
        Outbox outbox = Prepare(cloudEvents);
        if (outbox.Operations.Count == 0)
        {
            return; // no consumer of these topics: like a broker with no subscriptions, nothing is kept
        }

        await _committer.CommitAsync(outbox.Operations, cancellationToken).ConfigureAwait(false);
        outbox.Dispatch();
    }

    /// <summary>
    /// The store operations that record <paramref name="cloudEvents"/> for delivery, to be committed by the caller in
    /// its own transaction on <see cref="Store"/>, and the hand-off to call once that transaction has committed.
    /// </summary>
    public Outbox Prepare(IReadOnlyList<CloudEvent> cloudEvents)
    {
        ArgumentNullException.ThrowIfNull(cloudEvents);
        var operations = new List<StateOperation>(cloudEvents.Count);
        var deliveries = new List<(string Topic, string Consumer, Pending Pending)>(cloudEvents.Count);
        foreach (CloudEvent original in cloudEvents)
        {
            ArgumentNullException.ThrowIfNull(original);
            CheckName(original.Topic, "topic");
            CloudEvent cloudEvent = original.PubSubName == Name ? original : original with { PubSubName = Name };
            if (!_consumers.TryGetValue(cloudEvent.Topic, out string[]? consumers) || consumers.Length == 0)
            {
                continue;
            }

            byte[] envelope = CloudEventJson.Serialize(cloudEvent);
            foreach (string consumer in consumers)
            {
                string key = MessageKey(cloudEvent.Topic, consumer, Interlocked.Increment(ref _sequence));
                operations.Add(new StateOperation.Upsert(new StateWrite(key, envelope)));
                deliveries.Add((cloudEvent.Topic, consumer, new Pending(key, cloudEvent, 1)));
            }
        }

        return new Outbox(operations, () =>
        {
            foreach ((string topic, string consumer, Pending pending) in deliveries)
            {
                Hand(topic, consumer, pending);
            }
        });
    }

    public IAsyncDisposable Subscribe(Subscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        CheckName(subscription.Topic, "topic");
        ArgumentOutOfRangeException.ThrowIfLessThan(subscription.MaxConcurrency, 1, nameof(subscription));
        string consumer = subscription.Consumer
            ?? $"#{_anonymous.AddOrUpdate(subscription.Topic, 0, (_, n) => n + 1).ToString(CultureInfo.InvariantCulture)}";
        CheckName(consumer, "consumer");

        var worker = new Worker(this, subscription, consumer);
        lock (_registryLock)
        {
            // In memory first, so that a publish right after Subscribe returns already fans out to this consumer.
            AddConsumer(subscription.Topic, consumer);
            _workers.AddOrUpdate(Worker.Group(subscription.Topic, consumer), [worker], (_, existing) => [.. existing, worker]);
        }

        worker.Start();
        return worker;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Worker[] workers in _workers.Values)
        {
            foreach (Worker worker in workers)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }
        }

        await _committer.DisposeAsync().ConfigureAwait(false);
    }

    private static void CheckName(string value, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, what);
        if (value.Contains(Separator, StringComparison.Ordinal))
        {
            throw new ArgumentException($"{what} '{value}' must not contain '{Separator}'", what);
        }
    }

    private string MessageKey(string topic, string consumer, long sequence) =>
        string.Concat(MessagePrefix(topic, consumer), sequence.ToString("D19", CultureInfo.InvariantCulture));

    private string MessagePrefix(string topic, string consumer) =>
        $"pubsub{Separator}{Name}{Separator}m{Separator}{topic}{Separator}{consumer}{Separator}";

    private string ConsumerKey(string topic, string consumer) =>
        $"pubsub{Separator}{Name}{Separator}c{Separator}{topic}{Separator}{consumer}";

    private void AddConsumer(string topic, string consumer) =>
        _consumers.AddOrUpdate(topic, [consumer], (_, existing) => Array.IndexOf(existing, consumer) >= 0 ? existing : [.. existing, consumer]);

    /// <summary>Gives a committed delivery to one live subscription of its consumer (round robin); with none, it waits in the store.</summary>
    private void Hand(string topic, string consumer, Pending pending)
    {
        if (_workers.TryGetValue(Worker.Group(topic, consumer), out Worker[]? workers) && workers.Length > 0)
        {
            workers[(int)((ulong)pending.Key.GetHashCode(StringComparison.Ordinal) % (ulong)workers.Length)].Enqueue(pending);
        }
    }

    private void Remove(Worker worker)
    {
        lock (_registryLock)
        {
            string group = Worker.Group(worker.Subscription.Topic, worker.Consumer);
            if (_workers.TryGetValue(group, out Worker[]? workers))
            {
                _workers[group] = Array.FindAll(workers, w => w != worker);
            }
        }
    }

    /// <summary>The operations an outbox adds to a state transaction, and the hand-off to run after it commits.</summary>
    public sealed record Outbox(IReadOnlyList<StateOperation> Operations, Action Dispatch);

    private sealed record Pending(string Key, CloudEvent Event, int Attempt);

    /// <summary>The delivery loop of one subscription.</summary>
    private sealed class Worker : IAsyncDisposable
    {
        private readonly DurablePubSub _owner;
        private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
        private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
        private readonly CancellationTokenSource _stop = new();
        private readonly SemaphoreSlim _slots;
        private Task _loop = Task.CompletedTask;

        public Worker(DurablePubSub owner, Subscription subscription, string consumer)
        {
            _owner = owner;
            Subscription = subscription;
            Consumer = consumer;
            _slots = new SemaphoreSlim(subscription.MaxConcurrency, subscription.MaxConcurrency);
        }

        public Subscription Subscription { get; }

        public string Consumer { get; }

        public static string Group(string topic, string consumer) => string.Concat(topic, Separator, consumer);

        public void Start() => _loop = Task.Run(RunAsync);

        public void Enqueue(Pending pending)
        {
            // A delivery handed over at publish time may also be read from the backlog: run it once.
            if (pending.Attempt > 1 || _inFlight.TryAdd(pending.Key, 0))
            {
                _queue.Writer.TryWrite(pending);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _owner.Remove(this);
            _queue.Writer.TryComplete();
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // stopping
            }

            // Let handlers already running finish (their acknowledgements are still committed).
            for (int i = 0; i < Subscription.MaxConcurrency; i++)
            {
                await _slots.WaitAsync().ConfigureAwait(false);
            }

            _stop.Dispose();
        }

        private async Task RunAsync()
        {
            CancellationToken stop = _stop.Token;
            await _owner._store.SaveAsync(new StateWrite(_owner.ConsumerKey(Subscription.Topic, Consumer), "1"u8.ToArray()), stop).ConfigureAwait(false);
            await foreach ((string key, StateItem item) in _owner._store.ListAsync(_owner.MessagePrefix(Subscription.Topic, Consumer), stop).ConfigureAwait(false))
            {
                CloudEvent cloudEvent;
                try
                {
                    cloudEvent = CloudEventJson.Parse(item.Value.Span);
                }
                catch (FormatException)
                {
                    await _owner._committer.CommitAsync([new StateOperation.Delete(key)], stop).ConfigureAwait(false); // unreadable: never deliverable
                    continue;
                }

                Enqueue(new Pending(key, cloudEvent, 1));
            }

            await foreach (Pending pending in _queue.Reader.ReadAllAsync(stop).ConfigureAwait(false))
            {
                await _slots.WaitAsync(stop).ConfigureAwait(false);
                _ = DeliverAsync(pending, stop);
            }
        }

        private async Task DeliverAsync(Pending pending, CancellationToken stop)
        {
            try
            {
                DeliveryResult result;
                try
                {
                    result = await Subscription.Handler(pending.Event, stop).ConfigureAwait(false);
                }
                catch (Exception) when (!stop.IsCancellationRequested)
                {
                    result = DeliveryResult.Retry; // a handler failure is a retry, as Dapr treats an error response
                }

                RetryPolicy policy = Subscription.Retry ?? RetryPolicy.Default;
                if (result == DeliveryResult.Retry && pending.Attempt < policy.MaxAttempts)
                {
                    _ = RedeliverLaterAsync(pending with { Attempt = pending.Attempt + 1 }, policy.DelayBefore(pending.Attempt), stop);
                    return;
                }

                // Settled: acknowledged, or dropped/exhausted and moved to the dead-letter topic in the same commit.
                Outbox? deadLetter = result != DeliveryResult.Success && Subscription.DeadLetterTopic is string topic
                    ? _owner.Prepare([pending.Event with { Topic = topic }])
                    : null;
                var operations = new List<StateOperation>(1 + (deadLetter?.Operations.Count ?? 0)) { new StateOperation.Delete(pending.Key) };
                if (deadLetter is not null)
                {
                    operations.AddRange(deadLetter.Operations);
                }

                await _owner._committer.CommitAsync(operations, CancellationToken.None).ConfigureAwait(false);
                _inFlight.TryRemove(pending.Key, out _);
                deadLetter?.Dispatch();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // stopping: the delivery stays in the store and is delivered again after a restart
            }
            catch (Exception)
            {
                // The store refused the acknowledgement: the event stays stored and is redelivered on the next start.
            }
            finally
            {
                _slots.Release();
            }
        }

        private async Task RedeliverLaterAsync(Pending pending, TimeSpan delay, CancellationToken stop)
        {
            try
            {
                await Task.Delay(delay, _owner._time, stop).ConfigureAwait(false);
                _queue.Writer.TryWrite(pending);
            }
            catch (OperationCanceledException)
            {
                // stopping
            }
        }
    }

    /// <summary>
    /// Groups concurrent commits into one store transaction: whoever arrives while a commit is running joins the next
    /// one, so the store sees a few large transactions instead of many small ones.
    /// </summary>
    private sealed class GroupCommitter : IAsyncDisposable
    {
        private const int MaxOperationsPerCommit = 4096;

        private readonly IStateStore _store;
        private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
        private readonly Task _loop;

        public GroupCommitter(IStateStore store)
        {
            _store = store;
            _loop = Task.Run(RunAsync);
        }

        public Task CommitAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
        {
            var request = new Request(operations, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            if (!_requests.Writer.TryWrite(request))
            {
                throw new ObjectDisposedException(nameof(DurablePubSub));
            }

            return request.Done.Task.WaitAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            _requests.Writer.TryComplete();
            await _loop.ConfigureAwait(false);
        }

        private async Task RunAsync()
        {
            var batch = new List<Request>();
            var operations = new List<StateOperation>();
            while (await _requests.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                batch.Clear();
                operations.Clear();
                while (operations.Count < MaxOperationsPerCommit && _requests.Reader.TryRead(out Request? request))
                {
                    batch.Add(request);
                    operations.AddRange(request.Operations);
                }

                try
                {
                    await _store.ExecuteTransactionAsync(operations).ConfigureAwait(false);
                    foreach (Request done in batch)
                    {
                        done.Done.TrySetResult();
                    }
                }
                catch (Exception) when (batch.Count > 1)
                {
                    // One request spoiled the group: commit each on its own so only that one fails.
                    foreach (Request single in batch)
                    {
                        try
                        {
                            await _store.ExecuteTransactionAsync(single.Operations).ConfigureAwait(false);
                            single.Done.TrySetResult();
                        }
                        catch (Exception e)
                        {
                            single.Done.TrySetException(e);
                        }
                    }
                }
                catch (Exception e)
                {
                    batch[0].Done.TrySetException(e);
                }
            }
        }

        private sealed record Request(IReadOnlyList<StateOperation> Operations, TaskCompletionSource Done);
    }
}
