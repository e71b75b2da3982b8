using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Components.PubSub;

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
    private readonly ConcurrentDictionary<string, Group> _groups = new(StringComparer.Ordinal);
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

        Worker worker;
        lock (_registryLock)
        {
            // In memory first, so that a publish right after Subscribe returns already fans out to this consumer.
            AddConsumer(subscription.Topic, consumer);
            string key = Group.Key(subscription.Topic, consumer);
            bool created = false;
            if (!_groups.TryGetValue(key, out Group? group))
            {
                group = _groups[key] = new Group(this, subscription.Topic, consumer);
                created = true;
            }

            worker = new Worker(this, group, subscription);
            group.Workers = [.. group.Workers, worker];
            if (created)
            {
                group.Start(); // one backlog read per consumer, however many subscriptions share it
            }
        }

        worker.Start();
        return worker;
    }

    /// <summary>
    /// The deliveries this process holds and has not settled yet (queued, running or waiting for a retry), per topic and
    /// consumer subscribed here: the queue depth. Read from counters, never from the store, so it costs nothing to
    /// sample. Events kept for a consumer that is not subscribed in this process are not counted.
    /// </summary>
    public IReadOnlyList<PendingDeliveries> PendingCounts()
    {
        var result = new List<PendingDeliveries>(_groups.Count);
        foreach (Group group in _groups.Values)
        {
            result.Add(new PendingDeliveries(group.Topic, group.Consumer, group.PendingCount));
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Group group in _groups.Values)
        {
            foreach (Worker worker in group.Workers)
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

    /// <summary>Gives a committed delivery to its consumer in this process, if subscribed; otherwise it waits in the store.</summary>
    private void Hand(string topic, string consumer, Pending pending)
    {
        if (_groups.TryGetValue(Group.Key(topic, consumer), out Group? group))
        {
            group.Enqueue(pending);
        }
    }

    private void Remove(Worker worker)
    {
        lock (_registryLock)
        {
            Group group = worker.Group;
            group.Workers = Array.FindAll(group.Workers, w => w != worker);
            if (group.Workers.Length == 0)
            {
                // A later subscription of this consumer starts afresh from the store, where everything unsettled still is.
                _groups.TryRemove(KeyValuePair.Create(Group.Key(group.Topic, group.Consumer), group));
            }
        }
    }

    /// <summary>How many deliveries of <paramref name="Topic"/> to <paramref name="Consumer"/> are unsettled in this process.</summary>
    public sealed record PendingDeliveries(string Topic, string Consumer, int Count);

    /// <summary>The operations an outbox adds to a state transaction, and the hand-off to run after it commits.</summary>
    public sealed record Outbox(IReadOnlyList<StateOperation> Operations, Action Dispatch);

    private sealed record Pending(string Key, CloudEvent Event, int Attempt);

    /// <summary>
    /// One consumer of a topic in this process: the subscriptions sharing its events, and the deliveries handed to
    /// them and not yet settled (so that an event read from the backlog and handed over at publish time runs once).
    /// </summary>
    private sealed class Group(DurablePubSub owner, string topic, string consumer)
    {
        /// <summary>How many settled keys a consumer remembers (see <see cref="Settled"/>).</summary>
        private const int RememberedSettlements = 4096;

        private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, byte> _settled = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<string> _settledOrder = new();
        private int _next;
        private int _pending;

        public string Topic { get; } = topic;

        public string Consumer { get; } = consumer;

        /// <summary>Copy-on-write under the owner's registry lock.</summary>
        public Worker[] Workers { get; set; } = [];

        /// <summary>Completes when the consumer is registered and its backlog handed out.</summary>
        public Task Loaded { get; private set; } = Task.CompletedTask;

        /// <summary>Deliveries handed to this consumer and not settled yet.</summary>
        public int PendingCount => Volatile.Read(ref _pending);

        public static string Key(string topic, string consumer) => string.Concat(topic, Separator, consumer);

        public void Start() => Loaded = Task.Run(LoadAsync);

        public void Enqueue(Pending pending)
        {
            if (_settled.ContainsKey(pending.Key) || !_inFlight.TryAdd(pending.Key, 0))
            {
                return;
            }

            Interlocked.Increment(ref _pending);
            Worker[] workers = Workers;
            if (workers.Length == 0)
            {
                Release(pending.Key); // nobody here: it stays in the store for the next subscription
                return;
            }

            workers[(int)((uint)Interlocked.Increment(ref _next) % (uint)workers.Length)].Write(pending);
        }

        /// <summary>
        /// The delivery is done. Its key is remembered for a while: the backlog read at start-up can find and deliver
        /// an event before the hand-off of the publish that stored it arrives, and that late hand-off must not deliver
        /// it a second time. Keys are never reused, so remembering one is always right.
        /// </summary>
        public void Settled(string key)
        {
            if (_settled.TryAdd(key, 0))
            {
                _settledOrder.Enqueue(key);
                while (_settledOrder.Count > RememberedSettlements && _settledOrder.TryDequeue(out string? old))
                {
                    _settled.TryRemove(old, out _);
                }
            }

            Release(key);
        }

        /// <summary>The delivery is no longer held here, but not done: the event stays stored.</summary>
        private void Release(string key)
        {
            if (_inFlight.TryRemove(key, out _))
            {
                Interlocked.Decrement(ref _pending);
            }
        }

        private async Task LoadAsync()
        {
            await owner._store.SaveAsync(new StateWrite(owner.ConsumerKey(Topic, Consumer), "1"u8.ToArray())).ConfigureAwait(false);
            await foreach ((string key, StateItem item) in owner._store.ListAsync(owner.MessagePrefix(Topic, Consumer)).ConfigureAwait(false))
            {
                CloudEvent cloudEvent;
                try
                {
                    cloudEvent = CloudEventJson.Parse(item.Value.Span);
                }
                catch (FormatException)
                {
                    await owner._committer.CommitAsync([new StateOperation.Delete(key)], CancellationToken.None).ConfigureAwait(false); // never deliverable
                    continue;
                }

                Enqueue(new Pending(key, cloudEvent, 1));
            }
        }
    }

    /// <summary>The delivery loop of one subscription.</summary>
    private sealed class Worker : IAsyncDisposable
    {
        private readonly DurablePubSub _owner;
        private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
        private readonly CancellationTokenSource _stop = new();
        private readonly SemaphoreSlim _slots;
        private Task _loop = Task.CompletedTask;
        private Lazy<Task>? _disposal;

        public Worker(DurablePubSub owner, Group group, Subscription subscription)
        {
            _owner = owner;
            Group = group;
            Subscription = subscription;
            _slots = new SemaphoreSlim(subscription.MaxConcurrency, subscription.MaxConcurrency);
        }

        public Group Group { get; }

        public Subscription Subscription { get; }

        public void Start() => _loop = Task.Run(RunAsync);

        public void Write(Pending pending) => _queue.Writer.TryWrite(pending);

        /// <summary>Stops the loop and waits for running handlers; a second or concurrent call waits for the same stop.</summary>
        public ValueTask DisposeAsync()
        {
            var mine = new Lazy<Task>(StopAsync);
            Lazy<Task> first = Interlocked.CompareExchange(ref _disposal, mine, null) ?? mine;
            return new ValueTask(first.Value);
        }

        private async Task StopAsync()
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
            await Group.Loaded.WaitAsync(stop).ConfigureAwait(false);
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
                Group.Settled(pending.Key);
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
