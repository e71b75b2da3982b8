using System.Text.Json;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Revocation;
using Atomic.Overlay.Tokens;
using Atomic.Services.Baskets;
using Atomic.Services.Contracts;
using Atomic.Services.Pipeline;
using Atomic.Services.Topics;
using Dapr.Actors;
using Microsoft.Extensions.DependencyInjection;
using static Atomic.Services.Tests.OverlayHttp;
using static Atomic.Services.Tests.TestChain;

namespace Atomic.Services.Tests;

/// <summary>Topic admission of real, SPV-valid PushDrop transactions through BRC-22 <c>/submit</c> and the <c>TopicManager</c> actors.</summary>
public sealed class TopicManagerActorTests
{
    [Fact]
    public async Task A_token_issue_is_admitted_and_a_lookup_by_asset_answers_it_with_its_beef()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, string assetId) = chain.Mint(1_000);

        JsonElement steak = await SteakAsync(pipeline.Client, chain.Beef(mint), TokenTopicManager.TopicName);

        JsonElement entry = steak.GetProperty("tm_tokens");
        Ints(entry.GetProperty("outputsToAdmit")).Should().Equal(0);
        Ints(entry.GetProperty("coinsToRetain")).Should().BeEmpty();
        Ints(entry.GetProperty("coinsRemoved")).Should().BeEmpty();
        (await OutputsAsync(pipeline.Client, "ls_tokens", new { assetId })).Should().Equal((mint.Id.ToDisplayHex(), 0, (string?)null));
        (await OutputsAsync(pipeline.Client, "ls_tokens", new { owner = Alice.PublicKey.ToHex() })).Should().ContainSingle();
        (await OutputsAsync(pipeline.Client, "ls_tokens", new { owner = Bob.PublicKey.ToHex() })).Should().BeEmpty();
    }

    [Fact]
    public async Task A_conserving_transfer_admits_its_outputs_and_the_spent_coin_leaves_the_topic()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, string assetId) = chain.Mint(1_000);
        await SteakAsync(pipeline.Client, chain.Beef(mint), TokenTopicManager.TopicName);
        Transaction transfer = chain.Transfer([(mint, 0, Alice)], assetId, (Bob, 600), (Alice, 400));

        JsonElement entry = (await SteakAsync(pipeline.Client, chain.Beef(transfer), TokenTopicManager.TopicName)).GetProperty("tm_tokens");

        Ints(entry.GetProperty("outputsToAdmit")).Should().Equal(0, 1);
        Ints(entry.GetProperty("coinsRemoved")).Should().Equal(0);
        string t = transfer.Id.ToDisplayHex();
        (await OutputsAsync(pipeline.Client, "ls_tokens", new { assetId })).Should().Equal((t, 0, (string?)null), (t, 1, (string?)null));
        (await OutputsAsync(pipeline.Client, "ls_tokens", new { assetId, owner = Bob.PublicKey.ToHex() })).Should().Equal((t, 0, (string?)null));
    }

    [Fact]
    public async Task A_transfer_that_breaks_conservation_admits_nothing_though_it_spends_the_coin()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, string assetId) = chain.Mint(1_000);
        await SteakAsync(pipeline.Client, chain.Beef(mint), TokenTopicManager.TopicName);
        Transaction inflation = chain.Transfer([(mint, 0, Alice)], assetId, (Bob, 601), (Alice, 400));

        JsonElement entry = (await SteakAsync(pipeline.Client, chain.Beef(inflation), TokenTopicManager.TopicName)).GetProperty("tm_tokens");

        Ints(entry.GetProperty("outputsToAdmit")).Should().BeEmpty();
        Ints(entry.GetProperty("coinsRemoved")).Should().ContainSingle().Which.Should().Be(0, "the coin is spent on chain, admitted or not");
        (await OutputsAsync(pipeline.Client, "ls_tokens", new { assetId })).Should().BeEmpty();
    }

    [Fact]
    public async Task Spending_a_coin_the_topic_never_admitted_proves_no_tokens()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, string assetId) = chain.Mint(50);
        Transaction transfer = chain.Transfer([(mint, 0, Alice)], assetId, (Bob, 50));

        JsonElement entry = (await SteakAsync(pipeline.Client, chain.Beef(transfer), TokenTopicManager.TopicName)).GetProperty("tm_tokens");

        Ints(entry.GetProperty("outputsToAdmit")).Should().BeEmpty();
        Ints(entry.GetProperty("coinsRemoved")).Should().BeEmpty();
    }

    [Fact]
    public async Task A_spend_an_observer_failed_to_take_is_given_again_by_the_topics_reminder_until_taken_and_then_no_more()
    {
        var chain = new TestChain();
        var observer = new FlakyObserver(TokenTopicManager.TopicName, failures: 2);
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker,
            services: s => s.AddSingleton<ITopicAdmissionObserver>(observer),
            settings: new Dictionary<string, string?> { ["Atomic:Overlay:ObserverRetry"] = "00:00:01" });
        (Transaction mint, string assetId) = chain.Mint(1_000);
        await SteakAsync(pipeline.Client, chain.Beef(mint), TokenTopicManager.TopicName);
        observer.Calls.Should().Be(0, "an admission that removes nothing tells nobody");
        Transaction transfer = chain.Transfer([(mint, 0, Alice)], assetId, (Bob, 600), (Alice, 400));

        JsonElement entry = (await SteakAsync(pipeline.Client, chain.Beef(transfer), TokenTopicManager.TopicName)).GetProperty("tm_tokens");
        Ints(entry.GetProperty("coinsRemoved")).Should().Equal(0);
        observer.Calls.Should().Be(1, "told once in the admission's turn, and it failed");

        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (observer.Taken.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        observer.Taken.Should().ContainSingle().Which.Should().Be((transfer.Id.ToDisplayHex(), mint.Id.ToDisplayHex() + ".0", mint.Outputs[0].Satoshis));
        observer.Calls.Should().Be(3, "two failures, then taken");
        await Task.Delay(3_000);
        observer.Calls.Should().Be(3, "a notice taken is not given again");
    }

    /// <summary>Observes one topic; throws on its first <c>failures</c> calls, then records what it takes.</summary>
    private sealed class FlakyObserver(string topic, int failures) : ITopicAdmissionObserver
    {
        private int calls;

        public int Calls => Volatile.Read(ref calls);

        public System.Collections.Concurrent.ConcurrentQueue<(string TxId, string Coin, ulong Satoshis)> Taken { get; } = new();

        public bool Observes(string t) => t == topic;

        public Task CoinsRemovedAsync(string t, Transaction transaction, IReadOnlyList<Atomic.Overlay.PreviousCoin> removed, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref calls) <= failures)
            {
                throw new InvalidOperationException("the store refused it");
            }

            foreach (Atomic.Overlay.PreviousCoin coin in removed)
            {
                Taken.Enqueue((transaction.Id.ToDisplayHex(), Outpoints.Format(coin.OutPoint), coin.Output.Satoshis));
            }

            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_spent_revocation_output_is_still_reported_by_lookup_with_the_revoking_txid()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        byte[] serial = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        Transaction revocable = chain.RevocationOutput(serial);
        var query = new { serialNumber = Convert.ToBase64String(serial) };

        Ints((await SteakAsync(pipeline.Client, chain.Beef(revocable), RevocationTopicManager.TopicName)).GetProperty("tm_revocation").GetProperty("outputsToAdmit")).Should().Equal(0);
        (await OutputsAsync(pipeline.Client, "ls_revocation", query)).Should().Equal((revocable.Id.ToDisplayHex(), 0, (string?)null));

        Transaction revoke = chain.Spend([(revocable, 0, Alice)], new TxOutput(0, P2pkh(Alice)));
        JsonElement entry = (await SteakAsync(pipeline.Client, chain.Beef(revoke), RevocationTopicManager.TopicName)).GetProperty("tm_revocation");

        Ints(entry.GetProperty("coinsRemoved")).Should().Equal(0);
        (await OutputsAsync(pipeline.Client, "ls_revocation", query)).Should().Equal((revocable.Id.ToDisplayHex(), 0, revoke.Id.ToDisplayHex()));
        (await OutputsAsync(pipeline.Client, "ls_revocation", new { outpoint = $"{revocable.Id.ToDisplayHex()}.0" })).Should().ContainSingle();
    }

    [Fact]
    public async Task One_transaction_is_judged_by_each_of_its_topics_in_one_steak()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        byte[] serial = new byte[32];
        serial[0] = 9;
        Transaction both = chain.Spend([chain.Coin()],
            new TxOutput(1, TokenTopicManager.Lock(Alice.PublicKey, TokenTopicManager.Issue, 5)),
            new TxOutput(1, RevocationTopicManager.Lock(Alice.PublicKey, serial)));

        JsonElement steak = await SteakAsync(pipeline.Client, chain.Beef(both), TokenTopicManager.TopicName, RevocationTopicManager.TopicName);

        steak.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("tm_tokens", "tm_revocation");
        Ints(steak.GetProperty("tm_tokens").GetProperty("outputsToAdmit")).Should().Equal(0);
        Ints(steak.GetProperty("tm_revocation").GetProperty("outputsToAdmit")).Should().Equal(1);
    }

    [Fact]
    public async Task The_same_beef_submitted_twice_and_delivered_again_by_the_pipeline_is_admitted_once()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, string assetId) = chain.Mint(7);
        byte[] beef = chain.Beef(mint);
        string txid = mint.Id.ToDisplayHex();

        JsonElement first = await SteakAsync(pipeline.Client, beef, TokenTopicManager.TopicName);
        JsonElement again = await SteakAsync(pipeline.Client, beef, TokenTopicManager.TopicName);

        again.GetRawText().Should().Be(first.GetRawText());

        // The verifier publishes beef.verified for it; the overlay's admission of it must answer the stored entry.
        await WaitUntilAsync(() => Task.FromResult(pipeline.Events.TryGetValue(Names.Topics.BeefVerified, out var v) && !v.IsEmpty));
        AdmittanceInstructions direct = await pipeline.Services.GetOverlay().AdmitAsync(TokenTopicManager.TopicName, txid, Convert.ToBase64String(beef));
        direct.OutputsToAdmit.Should().Equal(0);
        (await OutputsAsync(pipeline.Client, "ls_tokens", new { assetId })).Should().ContainSingle();
    }

    [Fact]
    public async Task An_admission_whose_beef_lacks_the_transaction_fails_and_changes_nothing()
    {
        var chain = new TestChain();
        await using PipelineFixture pipeline = await PipelineFixture.StartAsync(chain.Tracker);
        (Transaction mint, string assetId) = chain.Mint(7);
        (Transaction other, _) = chain.Mint(8);

        ITopicManager manager = pipeline.Actors.CreateActorProxy<ITopicManager>(new ActorId(TokenTopicManager.TopicName), ITopicManager.TypeName);
        Func<Task> admit = () => manager.Admit(new AdmitRequest(other.Id.ToDisplayHex(), Convert.ToBase64String(chain.Beef(mint))));

        // The actor's own exception crosses the sidecar as the SDK carries it: its type name and message.
        (await admit.Should().ThrowAsync<Exception>()).Which.Should().Match<Exception>(e => Pipeline.Actors.ErrorType(e) == typeof(ArgumentException).FullName);
        (await OutputsAsync(pipeline.Client, "ls_tokens", new { assetId })).Should().BeEmpty();
    }
}

internal static class ServiceProviderExtensions
{
    public static OverlayAdmission GetOverlay(this IServiceProvider services) =>
        (OverlayAdmission)services.GetService(typeof(OverlayAdmission))!;
}
