using System.Text;
using System.Text.Json;
using Atomic.Overlay;
using Atomic.Overlay.Revocation;
using Atomic.Overlay.Tokens;
using Atomic.Runtime.Actors;
using Atomic.Runtime.PubSub;
using Atomic.Services.Overlay;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atomic.Services.Tests;

/// <summary>The overlay's <c>beef.verified</c> handler: what it drops, what it retries, and whom it calls.</summary>
public sealed class OverlayServiceTests
{
    private static readonly string Beef = Convert.ToBase64String(File.ReadAllBytes(PipelineFixture.Samples("chain.beef")));
    private static readonly string TxId = Atomic.Bsv.Spv.Beef.FromBytes(Convert.FromBase64String(Beef)).SubjectTxId!.Value.ToDisplayHex();

    private static readonly TopicCatalog Catalog = new(
        [new TokenTopicManager(), new RevocationTopicManager()],
        [new TokenLookupService(), new RevocationLookupService()]);

    private static CloudEvent Event(string json) => CloudEvent.Create(Names.PubSub, Names.Topics.BeefVerified, Encoding.UTF8.GetBytes(json));

    private static CloudEvent Verified(IReadOnlyList<string> topics, IReadOnlyList<string> baskets) =>
        CloudEvent.Create(Names.PubSub, Names.Topics.BeefVerified, JsonSerializer.SerializeToUtf8Bytes(new BeefVerified(TxId, Beef, topics, baskets)));

    [Theory]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("{\"txid\": \"abc\", \"beef\": \"AAAA\"}")]
    [InlineData("{\"txid\": \"0000000000000000000000000000000000000000000000000000000000000000\"}")]
    [InlineData("{\"txid\": \"0000000000000000000000000000000000000000000000000000000000000000\", \"beef\": \"%%%\"}")]
    public async Task Unreadable_events_are_dropped_without_calling_an_actor(string json)
    {
        var actors = new RecordingActors();
        var service = new OverlayService(actors, Catalog, NullLogger<OverlayService>.Instance);

        (await service.HandleAsync(Event(json), default)).Should().Be(DeliveryResult.Drop);
        actors.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Each_served_topic_and_each_basket_gets_one_call_and_the_rest_are_skipped()
    {
        var actors = new RecordingActors();
        var service = new OverlayService(actors, Catalog, NullLogger<OverlayService>.Instance);

        DeliveryResult result = await service.HandleAsync(Verified(["tm_tokens", "tm_elsewhere", "tm_revocation"], [" Wallet ", "default"]), default);

        result.Should().Be(DeliveryResult.Success);
        actors.Calls.Should().Equal(
            "TopicManager/tm_tokens.Admit", "TopicManager/tm_revocation.Admit", "BasketManager/wallet.ApplyTransaction");
    }

    [Fact]
    public async Task A_failing_actor_makes_the_delivery_retry()
    {
        var actors = new RecordingActors { Fail = true };
        var service = new OverlayService(actors, Catalog, NullLogger<OverlayService>.Instance);

        (await service.HandleAsync(Verified(["tm_tokens"], []), default)).Should().Be(DeliveryResult.Retry);
    }

    [Fact]
    public void The_subscription_is_the_overlay_apps_own_with_its_own_dead_letter_topic()
    {
        Subscription subscription = new OverlayService(new RecordingActors(), Catalog, NullLogger<OverlayService>.Instance).Subscription(3);

        subscription.Topic.Should().Be(Names.Topics.BeefVerified);
        subscription.Consumer.Should().Be(Names.Apps.Overlay);
        subscription.MaxConcurrency.Should().Be(3);
        subscription.DeadLetterTopic.Should().Be("beef.verified.overlay.dead").And.NotBe(Names.Topics.BeefVerified + ".dead", "the broadcaster reads that one");
    }

    private sealed class RecordingActors : IActorClient
    {
        public List<string> Calls { get; } = [];

        public bool Fail { get; init; }

        public Task<ReadOnlyMemory<byte>> InvokeMethodAsync(string actorType, string actorId, string method, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
        {
            Calls.Add($"{actorType}/{actorId}.{method}");
            if (Fail)
            {
                throw new ActorInvocationException(actorType, actorId, method, "System.InvalidOperationException", "the store is down");
            }

            object response = method == "Admit" ? new AdmittanceInstructions([], [], []) : new ApplyResult(true, 0);
            return Task.FromResult<ReadOnlyMemory<byte>>(ActorJson.Serialize(response));
        }
    }
}
