using System.Text.Json;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using static Atomic.Overlay.Tests.OverlayTestKit;

namespace Atomic.Overlay.Tests;

public sealed class TokenTopicManagerTests
{
    private readonly TokenTopicManager _manager = new();

    private (Transaction Mint, string AssetId) Mint(ulong amount)
    {
        Transaction mint = Tx(1, TokenTopicManager.Lock(Alice.PublicKey, TokenTopicManager.Issue, amount), P2pkh(Alice));
        return (mint, TokenTopicManager.AssetIdOf(new OutPoint(mint.Id, 0)));
    }

    [Fact]
    public void An_issue_is_admitted_and_names_its_asset_after_its_outpoint()
    {
        (Transaction mint, string assetId) = Mint(1_000);
        TopicAdmission admission = _manager.IdentifyAdmissibleOutputs(mint, []);
        admission.OutputsToAdmit.Should().Equal(0);
        TokenTopicManager.Read(mint.Outputs[0].LockingScript, new OutPoint(mint.Id, 0))!.AssetId.Should().Be(assetId);
    }

    [Fact]
    public void A_transfer_whose_amounts_add_up_is_admitted_and_its_spent_coins_leave_the_topic()
    {
        (Transaction mint, string assetId) = Mint(1_000);
        Transaction transfer = Tx(2, TokenTopicManager.Lock(Bob.PublicKey, assetId, 600), TokenTopicManager.Lock(Alice.PublicKey, assetId, 400), P2pkh(Bob));
        TopicAdmission admission = _manager.IdentifyAdmissibleOutputs(transfer, [Coin(transfer, 1, mint, 0)]);
        admission.OutputsToAdmit.Should().Equal(0, 1);
        admission.CoinsRemoved.Should().Equal(1);
        admission.CoinsToRetain.Should().BeEmpty();
    }

    [Theory]
    [InlineData(601, 400)] // inflation
    [InlineData(500, 400)] // tokens lost
    public void A_transfer_that_does_not_conserve_the_amount_admits_none_of_that_asset(ulong a, ulong b)
    {
        (Transaction mint, string assetId) = Mint(1_000);
        Transaction transfer = Tx(1, TokenTopicManager.Lock(Bob.PublicKey, assetId, a), TokenTopicManager.Lock(Alice.PublicKey, assetId, b));
        _manager.IdentifyAdmissibleOutputs(transfer, [Coin(transfer, 0, mint, 0)]).OutputsToAdmit.Should().BeEmpty();
    }

    [Fact]
    public void Assets_are_judged_separately_and_spending_an_unknown_coin_proves_nothing()
    {
        (Transaction mintA, string a) = Mint(10);
        (Transaction _, string b) = Mint(20);
        Transaction transfer = Tx(1, TokenTopicManager.Lock(Bob.PublicKey, a, 10), TokenTopicManager.Lock(Bob.PublicKey, b, 20));
        // Only asset a's coin is a previous coin of the topic: asset b's output claims tokens it does not spend.
        _manager.IdentifyAdmissibleOutputs(transfer, [Coin(transfer, 0, mintA, 0)]).OutputsToAdmit.Should().Equal(0);
    }

    [Fact]
    public void A_transfer_may_merge_coins_and_mint_in_the_same_transaction()
    {
        (Transaction m1, string assetId) = Mint(5);
        Transaction split = Tx(1, TokenTopicManager.Lock(Alice.PublicKey, assetId, 2), TokenTopicManager.Lock(Alice.PublicKey, assetId, 3));
        Transaction merge = Tx(2, TokenTopicManager.Lock(Bob.PublicKey, assetId, 5), TokenTopicManager.Lock(Bob.PublicKey, TokenTopicManager.Issue, 7));
        _manager.IdentifyAdmissibleOutputs(split, [Coin(split, 0, m1, 0)]).OutputsToAdmit.Should().Equal(0, 1);
        _manager.IdentifyAdmissibleOutputs(merge, [Coin(merge, 0, split, 0), Coin(merge, 1, split, 1)]).OutputsToAdmit.Should().Equal(0, 1);
    }

    [Theory]
    [InlineData("ISSUE", "0")]
    [InlineData("ISSUE", "007")]
    [InlineData("ISSUE", "-1")]
    [InlineData("ISSUE", "1e3")]
    [InlineData("ISSUE", "18446744073709551616")]
    [InlineData("issue", "5")]
    [InlineData("ABCDEF.0", "5")]
    public void Malformed_token_fields_are_not_tokens(string asset, string amount)
    {
        Script script = PushDrop.Lock(Alice.PublicKey, [System.Text.Encoding.UTF8.GetBytes(asset), System.Text.Encoding.UTF8.GetBytes(amount)]);
        Transaction tx = Tx(1, script);
        _manager.IdentifyAdmissibleOutputs(tx, []).OutputsToAdmit.Should().BeEmpty();
    }

    [Fact]
    public void The_lookup_finds_unspent_tokens_by_asset_and_owner_and_rejects_unreadable_queries()
    {
        (Transaction mint, string assetId) = Mint(9);
        var service = new TokenLookupService();
        var output = new AdmittedOutput(TokenTopicManager.TopicName, new OutPoint(mint.Id, 0), mint.Outputs[0]);
        service.Matches(Json($$"""{"assetId":"{{assetId}}"}"""), output).Should().BeTrue();
        service.Matches(Json($$"""{"owner":"{{Alice.PublicKey.ToHex()}}"}"""), output).Should().BeTrue();
        service.Matches(Json($$"""{"owner":"{{Bob.PublicKey.ToHex()}}"}"""), output).Should().BeFalse();
        ((Action)(() => service.Matches(Json("""{"nothing":1}"""), output))).Should().Throw<LookupQueryException>();
        ((Action)(() => service.Matches(Json("""[1]"""), output))).Should().Throw<LookupQueryException>();
        ((Action)(() => service.Matches(Json("""{"assetId":5}"""), output))).Should().Throw<LookupQueryException>();
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;
}
