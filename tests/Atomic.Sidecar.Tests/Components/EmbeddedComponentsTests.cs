using System.Text;
using Atomic.Sidecar.Components;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Tests.Components;

public sealed class EmbeddedComponentsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("atomic-embedded-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static string RepositoryRoot()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Atomic.Dapr.sln")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        return root;
    }

    private static ComponentDefinition Component(string name, string type, params (string Key, string Value)[] metadata) =>
        new($"components/{name}.yaml", name, type, "v1", metadata.ToDictionary(m => m.Key, m => m.Value), []);

    private static ComponentDefinition Sqlite(string name, params (string Key, string Value)[] extra) =>
        Component(name, "state.sqlite", [("connectionString", $"data/{name}.db"), .. extra]);

    private Task<EmbeddedComponents> Build(params ComponentDefinition[] components) => EmbeddedComponents.BuildAsync(components, _directory);

    [Fact]
    public async Task The_repository_components_give_a_sqlite_actor_store_and_a_txstore_whose_outbox_commits_with_the_durable_pubsub()
    {
        await using EmbeddedComponents components = await EmbeddedComponents.LoadAsync(Path.Combine(RepositoryRoot(), "components"), _directory);
        components.ActorStateStore.Should().BeSameAs(components.StateStores["statestore"]);
        components.StateStores["statestore"].Should().BeOfType<SqliteStateStore>();
        OutboxStateStore txstore = components.StateStores["txstore"].Should().BeOfType<OutboxStateStore>().Subject;
        txstore.Outbox.Should().Be(("pubsub", "beef.submitted"));
        DurablePubSub pubsub = components.PubSubs["pubsub"].Should().BeOfType<DurablePubSub>().Subject;
        pubsub.Store.Should().NotBeSameAs(components.StateStores["statestore"]);
        pubsub.Store.Name.Should().Be("txstore");
        File.Exists(Path.Combine(_directory, "data", "state.db")).Should().BeTrue("both stores share one SQLite file under the base directory");
        Directory.EnumerateFiles(Path.Combine(_directory, "data")).Select(Path.GetFileName).Should().NotContain(n => n!.StartsWith("tx", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_repository_components_commit_a_record_and_its_beef_submitted_event_together()
    {
        await using EmbeddedComponents components = await EmbeddedComponents.LoadAsync(Path.Combine(RepositoryRoot(), "components"), _directory);
        var received = new TaskCompletionSource<CloudEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using IAsyncDisposable _ = components.PubSubs["pubsub"].Subscribe(new Subscription("pubsub", "beef.submitted", (e, _) =>
        {
            received.TrySetResult(e);
            return Task.FromResult(DeliveryResult.Success);
        }, Consumer: "atomic-verifier"));
        await components.StateStores["txstore"].ExecuteTransactionAsync([new StateOperation.Upsert(new StateWrite("tx||cd", Encoding.UTF8.GetBytes("{\"txid\":\"cd\"}")))]);
        (await received.Task.WaitAsync(TimeSpan.FromSeconds(20))).Subject.Should().Be("tx||cd");
        (await components.StateStores["statestore"].GetAsync("tx||cd")).Should().BeNull("records live in txstore's own table");
    }

    [Fact]
    public async Task A_store_with_outbox_metadata_publishes_its_transactions_through_the_named_pubsub()
    {
        await using EmbeddedComponents components = await Build(
            Sqlite("statestore", ("actorStateStore", "true"), ("outboxPublishPubsub", "pubsub"), ("outboxPublishTopic", "beef.submitted")),
            Component("pubsub", "pubsub.in-memory"));
        IStateStore store = components.StateStores["statestore"];
        store.Should().BeOfType<OutboxStateStore>().Which.Outbox.Should().Be(("pubsub", "beef.submitted"));

        var received = new TaskCompletionSource<CloudEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using IAsyncDisposable _ = components.PubSubs["pubsub"].Subscribe(new Subscription("pubsub", "beef.submitted", (e, _) =>
        {
            received.TrySetResult(e);
            return Task.FromResult(DeliveryResult.Success);
        }));
        await store.ExecuteTransactionAsync([new StateOperation.Upsert(new StateWrite("tx||ab", Encoding.UTF8.GetBytes("{\"txid\":\"ab\"}")))]);
        CloudEvent e = await received.Task.WaitAsync(TimeSpan.FromSeconds(20));
        e.Subject.Should().Be("tx||ab");
        Encoding.UTF8.GetString(e.Data.Span).Should().Be("{\"txid\":\"ab\"}");
    }

    [Fact]
    public async Task The_durable_pubsub_counts_the_deliveries_it_holds_unsettled_per_topic_and_consumer()
    {
        await using EmbeddedComponents components = await Build(Sqlite("statestore", ("actorStateStore", "true")), Component("pubsub", "pubsub.in-memory"));
        var pubsub = (DurablePubSub)components.PubSubs["pubsub"];
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int started = 0;
        await using IAsyncDisposable _ = pubsub.Subscribe(new Subscription("pubsub", "work", async (e, ct) =>
        {
            Interlocked.Increment(ref started);
            await release.Task.WaitAsync(ct);
            return DeliveryResult.Success;
        }, Consumer: "worker", MaxConcurrency: 1));

        for (int i = 0; i < 3; i++)
        {
            await pubsub.PublishAsync(CloudEvent.Create("pubsub", "work", "{}"u8.ToArray(), $"s{i}"));
        }

        pubsub.PendingCounts().Should().ContainSingle().Which.Should().Be(new DurablePubSub.PendingDeliveries("work", "worker", 3));
        release.SetResult();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (pubsub.PendingCounts().Single().Count > 0)
        {
            await Task.Delay(10, deadline.Token);
        }

        started.Should().Be(3);
    }

    [Fact]
    public async Task A_durable_subscription_disposed_twice_at_once_stops_once_and_both_calls_complete()
    {
        // A host stopped twice at once (a test factory and the app's own Run) disposes its subscriptions twice.
        await using EmbeddedComponents components = await Build(Sqlite("statestore", ("actorStateStore", "true")), Component("pubsub", "pubsub.in-memory"));
        IAsyncDisposable subscription = components.PubSubs["pubsub"].Subscribe(new Subscription("pubsub", "work", (_, _) => Task.FromResult(DeliveryResult.Success), Consumer: "worker", MaxConcurrency: 4));
        Task both = Task.WhenAll(subscription.DisposeAsync().AsTask(), subscription.DisposeAsync().AsTask());
        await both.WaitAsync(TimeSpan.FromSeconds(20));
        await subscription.DisposeAsync();
    }

    [Fact]
    public async Task Without_any_state_store_the_pubsub_lives_in_memory()
    {
        await using EmbeddedComponents components = await Build(Component("pubsub", "pubsub.in-memory"));
        components.PubSubs["pubsub"].Should().BeOfType<InMemoryPubSub>();
        components.ActorStateStore.Should().BeNull();
    }

    [Fact]
    public async Task A_pubsub_keeps_its_events_in_the_store_its_metadata_names()
    {
        await using EmbeddedComponents components = await Build(
            Sqlite("statestore", ("actorStateStore", "true")), Sqlite("events"), Component("pubsub", "pubsub.in-memory", ("stateStore", "events")));
        components.PubSubs["pubsub"].Should().BeOfType<DurablePubSub>().Which.Store.Should().BeSameAs(components.StateStores["events"]);
    }

    public static TheoryData<string, ComponentDefinition[], string> Misconfigurations => new()
    {
        { "an unknown pub/sub type", [Component("pubsub", "pubsub.redis")], "spec.type" },
        { "a building block the embedded runtime lacks", [Component("queue", "bindings.kafka")], "spec.type" },
        { "two actor state stores", [Sqlite("a", ("actorStateStore", "true")), Sqlite("b", ("actorStateStore", "true"))], "spec.metadata.actorStateStore" },
        { "a pub/sub naming a missing store", [Sqlite("statestore"), Component("pubsub", "pubsub.in-memory", ("stateStore", "nope"))], "spec.metadata.stateStore" },
        { "a pub/sub that cannot tell which store to use", [Sqlite("a"), Sqlite("b"), Component("pubsub", "pubsub.in-memory")], "spec.metadata.stateStore" },
        { "an outbox without its topic", [Sqlite("statestore", ("outboxPublishPubsub", "pubsub")), Component("pubsub", "pubsub.in-memory")], "spec.metadata.outboxPublishTopic" },
        { "an outbox naming a missing pub/sub", [Sqlite("statestore", ("outboxPublishPubsub", "nope"), ("outboxPublishTopic", "t"))], "spec.metadata.outboxPublishPubsub" },
        {
            "an outbox whose pub/sub keeps its events in another store",
            [Sqlite("statestore", ("actorStateStore", "true")), Sqlite("orders", ("outboxPublishPubsub", "pubsub"), ("outboxPublishTopic", "t")), Component("pubsub", "pubsub.in-memory")],
            "spec.metadata.outboxPublishPubsub"
        },
    };

    [Theory]
    [MemberData(nameof(Misconfigurations))]
    public async Task A_misconfiguration_stops_start_up_naming_the_file_and_field(string what, ComponentDefinition[] components, string field)
    {
        Func<Task> build = () => Build(components);
        (await build.Should().ThrowAsync<ComponentException>(what)).Which.Field.Should().Be(field);
    }
}
