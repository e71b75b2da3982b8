using System.Text;
using System.Text.Json;
using Atomic.Overlay;
using Atomic.Overlay.Revocation;
using Atomic.Overlay.Tokens;
using Atomic.Services.Baskets;
using Atomic.Services.Contracts;
using Atomic.Services.Pipeline;
using Atomic.Services.Topics;
using Dapr.Actors;
using Dapr.Actors.Client;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atomic.Services.Tests;

/// <summary>The overlay stage's <c>beef.verified</c> handler: what it drops, what it retries, and whom it calls.</summary>
public sealed class OverlayAdmissionTests
{
    private static readonly string Beef = Convert.ToBase64String(File.ReadAllBytes(PipelineFixture.Samples("chain.beef")));
    private static readonly string TxId = Atomic.Bsv.Spv.Beef.FromBytes(Convert.FromBase64String(Beef)).SubjectTxId!.Value.ToDisplayHex();

    private static readonly TopicCatalog Catalog = new(
        [new TokenTopicManager(), new RevocationTopicManager()],
        [new TokenLookupService(), new RevocationLookupService()]);

    private static BeefVerified? Event(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<BeefVerified>(json);
        }
        catch (JsonException)
        {
            return null; // what the route hands over for a body that is not the event's JSON
        }
    }

    private static BeefVerified Verified(IReadOnlyList<string> topics, IReadOnlyList<string> baskets) => new(TxId, Beef, topics, baskets);

    /// <summary>Records on a sidecar that is not there: these events carry their BEEF, so the store is never asked.</summary>
    private static readonly TxRecords NoStore = new(new Dapr.Client.DaprClientBuilder().UseGrpcEndpoint("http://127.0.0.1:9").Build(), TimeProvider.System);

    [Fact]
    public async Task An_event_for_no_topic_and_no_basket_is_done_without_reading_its_beef()
    {
        var actors = new RecordingActors();
        var service = new OverlayAdmission(actors, Catalog, NoStore, NullLogger<OverlayAdmission>.Instance);

        (await service.HandleAsync(new BeefVerified(TxId, null, [], []))).Should().Be(Delivery.Success);
        actors.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task A_beef_by_reference_that_cannot_be_read_now_is_retried()
    {
        var service = new OverlayAdmission(new RecordingActors(), Catalog, NoStore, NullLogger<OverlayAdmission>.Instance);

        (await service.HandleAsync(new BeefVerified(TxId, null, ["tm_tokens"], []))).Should().Be(Delivery.Retry);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("{\"txid\": \"abc\", \"beef\": \"AAAA\", \"topics\": [\"tm_tokens\"]}")]
    [InlineData("{\"txid\": \"0000000000000000000000000000000000000000000000000000000000000000\", \"beef\": \"%%%\", \"topics\": [\"tm_tokens\"]}")]
    public async Task Unreadable_events_are_dropped_without_calling_an_actor(string json)
    {
        var actors = new RecordingActors();
        var service = new OverlayAdmission(actors, Catalog, NoStore, NullLogger<OverlayAdmission>.Instance);

        (await service.HandleAsync(Event(json))).Should().Be(Delivery.Drop);
        actors.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Each_served_topic_and_each_basket_gets_one_call_and_the_rest_are_skipped()
    {
        var actors = new RecordingActors();
        var service = new OverlayAdmission(actors, Catalog, NoStore, NullLogger<OverlayAdmission>.Instance);

        Delivery result = await service.HandleAsync(Verified(["tm_tokens", "tm_elsewhere", "tm_revocation"], [" Wallet ", "default"]));

        result.Should().Be(Delivery.Success);
        actors.Calls.Should().Equal(
            "TopicManager/tm_tokens.Admit", "TopicManager/tm_revocation.Admit", "BasketManager/wallet.ApplyTransaction");
    }

    [Fact]
    public async Task A_failing_actor_makes_the_delivery_retry()
    {
        var actors = new RecordingActors { Fail = true };
        var service = new OverlayAdmission(actors, Catalog, NoStore, NullLogger<OverlayAdmission>.Instance);

        (await service.HandleAsync(Verified(["tm_tokens"], []))).Should().Be(Delivery.Retry);
    }

    [Fact]
    public void The_overlay_apps_subscription_has_its_own_dead_letter_topic()
    {
        TopicsApi.AdmissionDeadLetterTopic.Should().Be("beef.verified.overlay.dead").And.NotBe(Names.Topics.BeefVerified + ".dead", "the broadcaster reads that one");
    }

    /// <summary>Actor proxies that record each call ("Type/id.Method") instead of calling a sidecar.</summary>
    private sealed class RecordingActors : IActorProxyFactory
    {
        public List<string> Calls { get; } = [];

        public bool Fail { get; init; }

        public TActorInterface CreateActorProxy<TActorInterface>(ActorId actorId, string actorType, ActorProxyOptions? options = null)
            where TActorInterface : IActor =>
            (TActorInterface)(object)(typeof(TActorInterface) == typeof(Contracts.ITopicManager) ? new Topic(this, actorId.GetId()) : new Basket(this, actorId.GetId()));

        public object CreateActorProxy(ActorId actorId, Type actorInterfaceType, string actorType, ActorProxyOptions? options = null) =>
            throw new NotSupportedException();

        public ActorProxy Create(ActorId actorId, string actorType, ActorProxyOptions? options = null) => throw new NotSupportedException();

        private Task<T> Call<T>(string call, T answer)
        {
            Calls.Add(call);
            return Fail ? Task.FromException<T>(new Dapr.DaprException("the sidecar is down")) : Task.FromResult(answer);
        }

        private sealed class Topic(RecordingActors owner, string id) : Contracts.ITopicManager
        {
            public Task<AdmittanceInstructions> Admit(AdmitRequest request) => owner.Call($"TopicManager/{id}.Admit", new AdmittanceInstructions([], [], []));

            public Task<LookupResult> Lookup(LookupRequest request) => owner.Call($"TopicManager/{id}.Lookup", new LookupResult([]));

            public Task<TopicHoldings> Holdings() => owner.Call($"TopicManager/{id}.Holdings", new TopicHoldings([], [], new Dictionary<string, string>()));
        }

        private sealed class Basket(RecordingActors owner, string id) : IBasketManager
        {
            public Task<ApplyResult> Apply(ApplyRequest request) => owner.Call($"BasketManager/{id}.Apply", new ApplyResult(true, 0));

            public Task<ApplyResult> ApplyTransaction(ApplyTransactionRequest request) => owner.Call($"BasketManager/{id}.ApplyTransaction", new ApplyResult(true, 0));

            public Task<ListResult> List(ListRequest request) => owner.Call($"BasketManager/{id}.List", new ListResult(0, []));

            public Task<RelinquishResult> Relinquish(RelinquishRequest request) => owner.Call($"BasketManager/{id}.Relinquish", new RelinquishResult(false));
        }
    }
}
