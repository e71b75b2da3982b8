using System.Collections.Concurrent;
using System.Text;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Tests.Components.PubSub;

/// <summary>
/// The pub/sub conformance suite, plus what durability and the outbox promise, for the embedded pub/sub over each
/// state store: accepted events outlive the process, events wait for a consumer that is not subscribed, and a state
/// transaction publishes exactly when it commits.
/// </summary>
public abstract class DurablePubSubConformance : PubSubConformance, IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly List<DurablePubSub> _opened = [];
    private IStateStore? _store;

    /// <summary>The state store every pub/sub of one test shares (a restart opens a new pub/sub over it).</summary>
    protected abstract IStateStore CreateStore();

    private IStateStore Store => _store ??= CreateStore();

    protected override IPubSub CreatePubSub() => Open().GetAwaiter().GetResult();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (DurablePubSub pubsub in _opened)
        {
            await pubsub.DisposeAsync();
        }

        await DisposeStoreAsync();
    }

    protected virtual Task DisposeStoreAsync() => Task.CompletedTask;

    private async Task<DurablePubSub> Open()
    {
        DurablePubSub pubsub = await DurablePubSub.OpenAsync("pubsub", Store);
        _opened.Add(pubsub);
        return pubsub;
    }

    private static CloudEvent Event(string topic, int n) =>
        CloudEvent.Create("pubsub", topic, Encoding.UTF8.GetBytes($"{{\"n\":{n}}}"), $"tx{n}");

    private static int N(CloudEvent e) => int.Parse(Encoding.UTF8.GetString(e.Data.Span)[5..^1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A subscription that records what it receives and completes once it has seen <paramref name="expected"/> distinct events.</summary>
    private static (Subscription Subscription, ConcurrentDictionary<string, CloudEvent> Received, Task Done) Collector(string topic, int expected, string consumer = "app")
    {
        var received = new ConcurrentDictionary<string, CloudEvent>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = new Subscription("pubsub", topic, (e, _) =>
        {
            received[e.Id] = e;
            if (received.Count >= expected)
            {
                done.TrySetResult();
            }

            return Task.FromResult(DeliveryResult.Success);
        }, Consumer: consumer);
        return (subscription, received, done.Task);
    }

    private async Task<List<string>> PendingMessageKeys()
    {
        var keys = new List<string>();
        await foreach ((string key, StateItem _) in Store.ListAsync("pubsub||pubsub||m||"))
        {
            keys.Add(key);
        }

        return keys;
    }

    private async Task WaitUntilNoPendingMessages()
    {
        using var timeout = new CancellationTokenSource(Patience);
        while ((await PendingMessageKeys()).Count > 0)
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    [Fact]
    public async Task Events_accepted_before_the_process_stops_are_delivered_after_it_restarts()
    {
        DurablePubSub first = await Open();
        var stuck = new TaskCompletionSource();
        await using (first.Subscribe(new Subscription("pubsub", "beef.submitted", async (_, ct) =>
        {
            stuck.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct); // never answers: the process "dies" with every event unacknowledged
            return DeliveryResult.Success;
        }, Consumer: "app")))
        {
            var sent = Enumerable.Range(0, 20).Select(i => Event("beef.submitted", i)).ToList();
            await first.PublishBulkAsync(sent);
            await stuck.Task.WaitAsync(Patience);
        }

        (await PendingMessageKeys()).Should().HaveCount(20, "accepted events stay stored until a handler answers");

        DurablePubSub restarted = await Open();
        (Subscription subscription, ConcurrentDictionary<string, CloudEvent> received, Task done) = Collector("beef.submitted", 20);
        await using IAsyncDisposable _ = restarted.Subscribe(subscription);
        await done.WaitAsync(Patience);
        received.Values.Select(N).Order().Should().Equal(Enumerable.Range(0, 20));
        received.Values.First(e => N(e) == 3).Subject.Should().Be("tx3");
        await WaitUntilNoPendingMessages();
    }

    [Fact]
    public async Task Events_published_while_a_known_consumer_is_not_subscribed_wait_for_it()
    {
        DurablePubSub first = await Open();
        (Subscription once, ConcurrentDictionary<string, CloudEvent> _, Task registered) = Collector("tx.mined", 1);
        await using (first.Subscribe(once))
        {
            await first.PublishAsync(Event("tx.mined", 0));
            await registered.WaitAsync(Patience); // delivered, so the consumer is registered in the store
        }

        DurablePubSub restarted = await Open();
        await restarted.PublishBulkAsync(Enumerable.Range(1, 10).Select(i => Event("tx.mined", i)).ToList());
        (Subscription later, ConcurrentDictionary<string, CloudEvent> received, Task done) = Collector("tx.mined", 10);
        await using IAsyncDisposable _ = restarted.Subscribe(later);
        await done.WaitAsync(Patience);
        received.Values.Select(N).Order().Should().Equal(Enumerable.Range(1, 10));
    }

    [Fact]
    public async Task Handled_events_are_removed_from_the_store()
    {
        DurablePubSub pubsub = await Open();
        (Subscription subscription, ConcurrentDictionary<string, CloudEvent> _, Task done) = Collector("t", 200);
        await using IAsyncDisposable _ = pubsub.Subscribe(subscription);
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => pubsub.PublishAsync(Event("t", i))));
        await done.WaitAsync(Patience);
        await WaitUntilNoPendingMessages();
    }

    [Fact]
    public async Task Subscriptions_of_one_consumer_share_the_events_and_each_event_is_handled_once()
    {
        DurablePubSub pubsub = await Open();
        var counts = new ConcurrentDictionary<string, int>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Subscription Member() => new("pubsub", "beef.verified", (e, _) =>
        {
            counts.AddOrUpdate(e.Id, 1, (_, c) => c + 1);
            if (counts.Count == 100)
            {
                all.TrySetResult();
            }

            return Task.FromResult(DeliveryResult.Success);
        }, Consumer: "atomic-broadcaster");

        await using IAsyncDisposable a = pubsub.Subscribe(Member());
        await using IAsyncDisposable b = pubsub.Subscribe(Member());
        await pubsub.PublishBulkAsync(Enumerable.Range(0, 100).Select(i => Event("beef.verified", i)).ToList());
        await all.Task.WaitAsync(Patience);
        await WaitUntilNoPendingMessages();
        counts.Values.Should().OnlyContain(c => c == 1);
    }

    [Fact]
    public async Task Max_concurrency_lets_handlers_of_one_subscription_run_in_parallel()
    {
        DurablePubSub pubsub = await Open();
        int running = 0, peak = 0, finished = 0;
        var bothStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using IAsyncDisposable _ = pubsub.Subscribe(new Subscription("pubsub", "t", async (_, _) =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            if (now >= 2)
            {
                bothStarted.TrySetResult();
            }

            await bothStarted.Task.WaitAsync(Patience); // holds the first handler until a second one runs beside it
            Interlocked.Decrement(ref running);
            if (Interlocked.Increment(ref finished) == 4)
            {
                allDone.TrySetResult();
            }

            return DeliveryResult.Success;
        }, MaxConcurrency: 4));

        await pubsub.PublishBulkAsync(Enumerable.Range(0, 4).Select(i => Event("t", i)).ToList());
        await allDone.Task.WaitAsync(Patience);
        peak.Should().BeGreaterThanOrEqualTo(2);
    }

    [Fact]
    public async Task A_committed_transaction_publishes_each_upsert_once_with_projections_in_place_of_values()
    {
        DurablePubSub pubsub = await Open();
        var outbox = new OutboxStateStore(Store, pubsub, "beef.submitted");
        (Subscription subscription, ConcurrentDictionary<string, CloudEvent> received, Task done) = Collector("beef.submitted", 2);
        await using IAsyncDisposable _ = pubsub.Subscribe(subscription);

        await outbox.ExecuteTransactionAsync(
        [
            new StateOperation.Upsert(new StateWrite("tx||aa", Encoding.UTF8.GetBytes("{\"status\":\"received\",\"beef\":\"...\"}"))),
            new StateOperation.Upsert(new StateWrite("tx||aa", Encoding.UTF8.GetBytes("{\"txid\":\"aa\"}"), Metadata: new Dictionary<string, string>
            {
                [StateMetadata.OutboxProjection] = "true",
                ["cloudevent.subject"] = "aa",
            })),
            new StateOperation.Upsert(new StateWrite("tx||bb", Encoding.UTF8.GetBytes("{\"status\":\"received\"}"), Metadata: new Dictionary<string, string> { ["cloudevent.type"] = "custom.type" })),
            new StateOperation.Delete("tx||gone"),
        ]);

        await done.WaitAsync(Patience);
        Encoding.UTF8.GetString((await Store.GetAsync("tx||aa"))!.Value.Span).Should().Contain("received", "the projection is published, not saved");
        CloudEvent a = received.Values.Single(e => e.Subject == "aa");
        Encoding.UTF8.GetString(a.Data.Span).Should().Be("{\"txid\":\"aa\"}");
        a.Type.Should().Be("beef.submitted");
        a.Topic.Should().Be("beef.submitted");
        CloudEvent b = received.Values.Single(e => e.Subject == "tx||bb");
        b.Type.Should().Be("custom.type");
        Encoding.UTF8.GetString(b.Data.Span).Should().Be("{\"status\":\"received\"}");
        await WaitUntilNoPendingMessages();
        received.Should().HaveCount(2, "the delete publishes nothing");
    }

    [Fact]
    public async Task A_transaction_that_fails_publishes_nothing_and_saves_nothing()
    {
        DurablePubSub pubsub = await Open();
        var outbox = new OutboxStateStore(Store, pubsub, "beef.submitted");
        var received = new ConcurrentQueue<string>();
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using IAsyncDisposable _ = pubsub.Subscribe(new Subscription("pubsub", "beef.submitted", (e, _) =>
        {
            received.Enqueue(e.Subject!);
            second.TrySetResult();
            return Task.FromResult(DeliveryResult.Success);
        }, Consumer: "app"));

        string etag = await Store.SaveAsync(new StateWrite("tx||cc", "1"u8.ToArray()));
        await Store.SaveAsync(new StateWrite("tx||cc", "2"u8.ToArray())); // the ETag above is now stale

        Func<Task> conflict = () => outbox.ExecuteTransactionAsync(
        [
            new StateOperation.Upsert(new StateWrite("tx||dd", "new"u8.ToArray())),
            new StateOperation.Upsert(new StateWrite("tx||cc", "3"u8.ToArray(), etag)),
        ]);
        await conflict.Should().ThrowAsync<StateConcurrencyException>();

        Func<Task> orphanProjection = () => outbox.ExecuteTransactionAsync(
        [
            new StateOperation.Upsert(new StateWrite("tx||ee", "saved"u8.ToArray())),
            new StateOperation.Upsert(new StateWrite("tx||ff", "projection"u8.ToArray(), Metadata: new Dictionary<string, string> { [StateMetadata.OutboxProjection] = "true" })),
        ]);
        await orphanProjection.Should().ThrowAsync<ArgumentException>().WithMessage("*projection*tx||ff*");

        (await Store.GetAsync("tx||dd")).Should().BeNull();
        (await Store.GetAsync("tx||ee")).Should().BeNull();
        (await PendingMessageKeys()).Should().BeEmpty();

        await outbox.ExecuteTransactionAsync([new StateOperation.Upsert(new StateWrite("tx||gg", "ok"u8.ToArray()))]);
        await second.Task.WaitAsync(Patience);
        await WaitUntilNoPendingMessages();
        received.Should().Equal("tx||gg");
    }

    [Fact]
    public async Task Events_a_transaction_committed_before_the_process_stopped_are_delivered_after_restart()
    {
        DurablePubSub first = await Open();
        (Subscription once, ConcurrentDictionary<string, CloudEvent> _, Task registered) = Collector("beef.submitted", 1);
        await using (first.Subscribe(once))
        {
            await new OutboxStateStore(Store, first, "beef.submitted").ExecuteTransactionAsync([new StateOperation.Upsert(new StateWrite("tx||00", "{}"u8.ToArray()))]);
            await registered.WaitAsync(Patience);
        }

        // The state and its event commit together; nobody is subscribed when the process stops.
        await new OutboxStateStore(Store, first, "beef.submitted").ExecuteTransactionAsync([new StateOperation.Upsert(new StateWrite("tx||01", "{}"u8.ToArray()))]);
        await first.DisposeAsync();

        DurablePubSub restarted = await Open();
        (Subscription later, ConcurrentDictionary<string, CloudEvent> received, Task done) = Collector("beef.submitted", 1);
        await using IAsyncDisposable _ = restarted.Subscribe(later);
        await done.WaitAsync(Patience);
        received.Values.Single().Subject.Should().Be("tx||01");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
