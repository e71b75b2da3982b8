using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using Atomic.Sessions.Templates;
using static Atomic.Sessions.Tests.TestLedger;

namespace Atomic.Sessions.Tests;

public sealed class BundleTemplateTests
{
    private const string AnyAsset = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0";
    private const string OtherAsset = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.1";

    private readonly BundleTemplate _bundle = new();

    /// <summary>bob buys 10 of alice's asset and 3 of carol's for 9000 satoshis, 6000 to alice and 3000 to carol.</summary>
    private static string Terms(string alices, string carols) => $$"""
        {
          "buyer": "bob",
          "items": [{"seller": "alice", "assetId": "{{alices}}", "amount": 10}, {"seller": "carol", "assetId": "{{carols}}", "amount": 3}],
          "price": 9000,
          "split": {"alice": 6000, "carol": 3000}
        }
        """;

    private static SessionSetup Setup(string terms) =>
        SessionRun.Setup(BundleTemplate.TemplateName, terms, ("alice", Alice), ("bob", Bob), ("carol", Carol));

    [Fact]
    public void Terms_of_a_buyer_items_a_price_and_its_split_are_accepted()
    {
        _bundle.CheckTerms(Setup(Terms(AnyAsset, OtherAsset))).Should().Be(SessionCheck.Ok);
        _bundle.Topics(Setup(Terms(AnyAsset, OtherAsset))).Should().Equal(TokenTopicManager.TopicName);
    }

    [Fact]
    public void A_bundle_from_one_seller_is_accepted()
    {
        string terms = $$$"""
            {"buyer": "bob", "items": [{"seller": "alice", "assetId": "{{{AnyAsset}}}", "amount": 1}], "price": 5, "split": {"alice": 5}}
            """;

        _bundle.CheckTerms(SessionRun.Setup(BundleTemplate.TemplateName, terms, ("alice", Alice), ("bob", Bob)))
            .Should().Be(SessionCheck.Ok);
    }

    [Theory]
    [InlineData("buyer", null, "terms.buyer is required")]
    [InlineData("buyer", "\"mallory\"", "not a party")]
    [InlineData("items", null, "terms.items is required")]
    [InlineData("items", "[]", "terms.items must not be empty")]
    [InlineData("items.0", "\"alice\"", "terms.items[0] must be an object")]
    [InlineData("items.0.seller", "\"bob\"", "a buyer cannot sell to itself")]
    [InlineData("items.1.seller", "\"dave\"", "terms.items[1].seller names 'dave', who is not a party")]
    [InlineData("items.0.amount", "0", "terms.items[0].amount must be a whole number above zero")]
    [InlineData("items.1.assetId", "\"silver\"", "terms.items[1].assetId must be an asset id")]
    [InlineData("price", "0", "terms.price must be a whole number above zero")]
    [InlineData("price", "9001", "terms.split adds up to 9000 satoshis; the price is 9001")]
    [InlineData("split", null, "terms.split is required, as an object")]
    [InlineData("split", "[6000, 3000]", "terms.split is required, as an object")]
    [InlineData("split.alice", "5000", "terms.split adds up to 8000 satoshis; the price is 9000")]
    [InlineData("split.alice", "0", "terms.split.alice must be a whole number above zero")]
    [InlineData("split.alice", "\"6000\"", "terms.split.alice is required, as a number")]
    [InlineData("split.carol", null, "terms.split gives no share of the price to carol")]
    [InlineData("split.bob", "0", "terms.split names 'bob', who sells no item")]
    public void Bad_terms_are_refused(string path, string? value, string reason) =>
        _bundle.CheckTerms(Setup(SessionRun.Mutate(Terms(AnyAsset, OtherAsset), path, value)))
            .ShouldRefuse(SessionCodes.TermsInvalid, reason);

    [Fact]
    public void A_split_naming_a_seller_twice_is_refused()
    {
        string terms = Terms(AnyAsset, OtherAsset).Replace("\"carol\": 3000", "\"carol\": 1500, \"carol\": 1500", StringComparison.Ordinal);

        _bundle.CheckTerms(Setup(terms)).ShouldRefuse(SessionCodes.TermsInvalid, "terms.split names 'carol' twice");
    }

    [Fact]
    public void A_party_with_no_part_in_the_bundle_is_refused() =>
        _bundle.CheckTerms(SessionRun.Setup(
                BundleTemplate.TemplateName, Terms(AnyAsset, OtherAsset), ("alice", Alice), ("bob", Bob), ("carol", Carol), ("dave", Dave)))
            .ShouldRefuse(SessionCodes.TermsInvalid, "party dave has no part in this bundle");

    [Fact]
    public void The_buyer_paying_every_seller_its_share_is_accepted() =>
        _bundle.CheckContribution(Setup(Terms(AnyAsset, OtherAsset)), [], Buyer(Pay(Carol, 3_000), Pay(Alice, 6_000)))
            .Should().Be(SessionCheck.Ok);

    [Theory]
    [InlineData(5_999, 3_000, "bob gives no P2PKH output of at least 6000 satoshis to alice's identity key (terms.split.alice)")]
    [InlineData(6_000, 0, "bob gives no P2PKH output of at least 3000 satoshis to carol's identity key (terms.split.carol)")]
    public void A_share_unpaid_is_refused(ulong alices, ulong carols, string reason)
    {
        TxOutput[] outputs = carols > 0 ? [Pay(Alice, alices), Pay(Carol, carols)] : [Pay(Alice, alices)];

        _bundle.CheckContribution(Setup(Terms(AnyAsset, OtherAsset)), [], Buyer(outputs))
            .ShouldRefuse(SessionCodes.ContributionInvalid, reason);
    }

    [Fact]
    public void The_whole_price_to_one_seller_is_refused() =>
        _bundle.CheckContribution(Setup(Terms(AnyAsset, OtherAsset)), [], Buyer(Pay(Alice, 9_000)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "3000 satoshis to carol's identity key");

    [Fact]
    public void A_seller_giving_its_items_to_the_buyer_is_accepted()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Alice, 12, out string assetId, 7, 5);
        Contribution alice = SessionRun.Contribution("alice", Alice, [coins[0],
            coins[1]], Token(Bob, assetId, 10), Token(Alice, assetId, 2));

        _bundle.CheckContribution(Setup(Terms(assetId, OtherAsset)), [], alice).Should().Be(SessionCheck.Ok);
    }

    [Theory]
    [InlineData("asset")]
    [InlineData("amount")]
    [InlineData("recipient")]
    public void A_seller_giving_the_wrong_asset_amount_or_recipient_is_refused(string wrong)
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Alice, 10, out string assetId, 10);
        IReadOnlyList<ContributedInput> others = Tokens(Alice, 10, out string otherId, 10);
        Contribution alice = wrong switch
        {
            "asset" => SessionRun.Contribution("alice", Alice, [others[0]], Token(Bob, otherId, 10)),
            "amount" => SessionRun.Contribution("alice", Alice, [coins[0]], Token(Bob, assetId, 9), Token(Alice, assetId, 1)),
            _ => SessionRun.Contribution("alice", Alice, [coins[0]], Token(Carol, assetId, 10)),
        };

        _bundle.CheckContribution(Setup(Terms(assetId, OtherAsset)), [], alice)
            .ShouldRefuse(SessionCodes.ContributionInvalid, $"alice gives no token output of exactly 10 of {assetId} owned by bob's");
    }

    [Fact]
    public void A_seller_not_conserving_its_tokens_is_refused()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Alice, 12, out string assetId, 12);
        Contribution alice = SessionRun.Contribution("alice", Alice, [coins[0]], Token(Bob, assetId, 10));

        _bundle.CheckContribution(Setup(Terms(assetId, OtherAsset)), [], alice)
            .ShouldRefuse(SessionCodes.ContributionInvalid, $"alice's inputs hold 12 of {assetId} and its outputs give 10");
    }

    [Fact]
    public void A_seller_giving_another_sellers_item_is_refused()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Carol, 10, out string assetId, 10);
        Contribution carol = SessionRun.Contribution("carol", Carol, [coins[0]], Token(Bob, assetId, 10));

        _bundle.CheckContribution(Setup(Terms(assetId, OtherAsset)), [], carol)
            .ShouldRefuse(SessionCodes.ContributionInvalid, $"carol gives no token output of exactly 3 of {OtherAsset}");
    }

    [Fact]
    public void A_stranger_is_refused() =>
        _bundle.CheckContribution(Setup(Terms(AnyAsset, OtherAsset)), [], SessionRun.Contribution("dave", Dave, []))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "not a party");

    [Fact]
    public void The_bundle_is_complete_when_the_buyer_and_every_seller_contributed()
    {
        SessionSetup setup = Setup(Terms(AnyAsset, OtherAsset));
        Contribution a = SessionRun.Contribution("alice", Alice, []);
        Contribution b = SessionRun.Contribution("bob", Bob, []);
        Contribution c = SessionRun.Contribution("carol", Carol, []);

        _bundle.IsComplete(setup, [a, c]).Should().BeFalse();
        _bundle.IsComplete(setup, [b, a]).Should().BeFalse();
        _bundle.IsComplete(setup, [c, b, a]).Should().BeTrue();
    }

    [Fact]
    public async Task A_bundle_settles_in_one_transaction_every_party_signed()
    {
        IReadOnlyList<ContributedInput> alices = Tokens(Alice, 10, out string alicesAsset, 10);
        IReadOnlyList<ContributedInput> carols = Tokens(Carol, 8, out string carolsAsset, 4, 4);
        SessionSetup setup = Setup(Terms(alicesAsset, carolsAsset));
        Contribution alice = SessionRun.Contribution("alice", Alice, [alices[0], Coin(Alice, 1_000)], Token(Bob, alicesAsset, 10));
        Contribution carol = SessionRun.Contribution("carol", Carol, [carols[0],
            carols[1], Coin(Carol, 1_000)], Token(Carol, carolsAsset, 5), Token(Bob, carolsAsset, 3));
        Contribution bob = Buyer(Pay(Alice, 6_000), Pay(Carol, 3_000));
        PrivateKey[] keys = [Alice, Bob, Carol];

        (AssembledSession assembled, Transaction signed, _) =
            await SessionRun.FinishAsync(_bundle, setup, [bob, carol, alice], i => [keys[setup.IndexOf(i.Party)]]);

        SessionRun.TokensAdmitted(assembled, signed).Should().Equal(SessionRun.TokenOutputs(signed)).And.HaveCount(3);
    }

    private static Contribution Buyer(params TxOutput[] outputs) => SessionRun.Contribution("bob", Bob, [Coin(Bob)], outputs);
}
