using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using Atomic.Sessions.Templates;
using static Atomic.Sessions.Tests.TestLedger;

namespace Atomic.Sessions.Tests;

public sealed class SwapTemplateTests
{
    private const string AnyAsset = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0";

    private readonly SwapTemplate _swap = new();

    private static string Terms(string assetId) =>
        $$"""{"seller": "alice", "buyer": "bob", "assetId": "{{assetId}}", "amount": 10, "price": 5000}""";

    private static SessionSetup Setup(string terms) => SessionRun.Setup(SwapTemplate.TemplateName, terms, ("alice", Alice), ("bob", Bob));

    [Fact]
    public void Terms_naming_both_parties_an_asset_an_amount_and_a_price_are_accepted() =>
        _swap.CheckTerms(Setup(Terms(AnyAsset))).Should().Be(SessionCheck.Ok);

    [Theory]
    [InlineData("seller", null, "terms.seller is required")]
    [InlineData("seller", "\"mallory\"", "not a party")]
    [InlineData("buyer", "\"alice\"", "they differ")]
    [InlineData("assetId", "\"ISSUE\"", "asset id")]
    [InlineData("assetId", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.01\"", "asset id")]
    [InlineData("amount", "0", "above zero")]
    [InlineData("amount", "-3", "above zero")]
    [InlineData("amount", "1.5", "above zero")]
    [InlineData("amount", "\"10\"", "as a number")]
    [InlineData("price", null, "terms.price")]
    public void Bad_terms_are_refused(string field, string? value, string reason) =>
        _swap.CheckTerms(Setup(SessionRun.Mutate(Terms(AnyAsset), field, value))).ShouldRefuse(SessionCodes.TermsInvalid, reason);

    [Fact]
    public void A_swap_of_three_parties_is_refused() =>
        _swap.CheckTerms(SessionRun.Setup(SwapTemplate.TemplateName, Terms(AnyAsset), ("alice", Alice), ("bob", Bob), ("carol", Carol)))
            .ShouldRefuse(SessionCodes.TermsInvalid, "two parties");

    [Fact]
    public void The_sellers_tokens_to_the_buyer_with_the_remainder_kept_are_accepted()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Alice, 15, out string assetId, 15);
        Contribution seller = SessionRun.Contribution("alice", Alice, [coins[0],
            Coin(Alice)], Token(Bob, assetId, 10), Token(Alice, assetId, 5));

        _swap.CheckContribution(Setup(Terms(assetId)), [], seller).Should().Be(SessionCheck.Ok);
    }

    [Fact]
    public void A_seller_input_of_another_asset_is_refused()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Alice, 10, out string assetId, 10);
        (ContributedInput other, _) = Mint(Alice, 10);
        Contribution seller = SessionRun.Contribution("alice", Alice, [coins[0],
            other], Token(Bob, assetId, 10), Token(Alice, TokenTopicManager.AssetIdOf(other.OutPoint), 10));

        _swap.CheckContribution(Setup(Terms(assetId)), [], seller).ShouldRefuse(SessionCodes.ContributionInvalid, "holds asset");
    }

    [Theory]
    [InlineData(9, "bob", "no token output of 10")]
    [InlineData(10, "carol", "no token output of 10")]
    public void The_wrong_amount_or_recipient_is_refused(ulong amount, string to, string reason)
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Alice, 10, out string assetId, 10);
        TxOutput[] outputs = amount < 10
            ? [Token(Bob, assetId, amount), Token(Alice, assetId, 10 - amount)]
            : [Token(to == "bob" ? Bob : Carol, assetId, amount)];
        Contribution seller = SessionRun.Contribution("alice", Alice, [coins[0]], outputs);

        _swap.CheckContribution(Setup(Terms(assetId)), [], seller).ShouldRefuse(SessionCodes.ContributionInvalid, reason);
    }

    [Fact]
    public void Tokens_not_conserved_are_refused()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Alice, 15, out string assetId, 15);
        Contribution seller = SessionRun.Contribution("alice", Alice, [coins[0]], Token(Bob, assetId, 10));

        _swap.CheckContribution(Setup(Terms(assetId)), [], seller).ShouldRefuse(SessionCodes.ContributionInvalid, "spends 15");
    }

    [Fact]
    public void A_seller_short_of_the_asset_is_refused()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Alice, 5, out string assetId, 5);
        Contribution seller = SessionRun.Contribution("alice", Alice, [coins[0]], Token(Bob, assetId, 10));

        _swap.CheckContribution(Setup(Terms(assetId)), [], seller).ShouldRefuse(SessionCodes.ContributionInvalid, "hold 5");
    }

    [Fact]
    public void A_seller_output_minting_an_asset_is_refused()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Alice, 10, out string assetId, 10);
        Contribution seller = SessionRun.Contribution("alice", Alice, [coins[0]],
            Token(Bob, assetId, 10), Token(Alice, TokenTopicManager.Issue, 5));

        _swap.CheckContribution(Setup(Terms(assetId)), [], seller).ShouldRefuse(SessionCodes.ContributionInvalid, "mints one");
    }

    [Fact]
    public void The_buyer_paying_the_price_is_accepted() =>
        _swap.CheckContribution(Setup(Terms(AnyAsset)), [], Buyer(5_000)).Should().Be(SessionCheck.Ok);

    [Fact]
    public void A_price_unpaid_is_refused() =>
        _swap.CheckContribution(Setup(Terms(AnyAsset)), [], Buyer(4_999)).ShouldRefuse(SessionCodes.ContributionInvalid, "price is 5000");

    [Fact]
    public void A_price_paid_to_another_key_is_refused()
    {
        Contribution buyer = SessionRun.Contribution("bob", Bob, [Coin(Bob)], new TxOutput(5_000, P2pkh(Carol)));

        _swap.CheckContribution(Setup(Terms(AnyAsset)), [], buyer).ShouldRefuse(SessionCodes.ContributionInvalid, "pays the seller 0");
    }

    [Fact]
    public void A_buyer_spending_tokens_is_refused()
    {
        (ContributedInput token, _) = Mint(Bob, 3);
        Contribution buyer = SessionRun.Contribution("bob", Bob, [Coin(Bob), token], new TxOutput(5_000, P2pkh(Alice)));

        _swap.CheckContribution(Setup(Terms(AnyAsset)), [], buyer).ShouldRefuse(SessionCodes.ContributionInvalid, "burned");
    }

    [Fact]
    public void A_buyer_output_or_change_holding_a_token_is_refused()
    {
        // Backed by no coin of the deal: tm_tokens would then admit none of the asset's outputs, the seller's included.
        Contribution minting = SessionRun.Contribution("bob", Bob, [Coin(Bob)], new TxOutput(5_000, P2pkh(Alice)), Token(Bob, AnyAsset, 1));
        _swap.CheckContribution(Setup(Terms(AnyAsset)), [], minting).ShouldRefuse(SessionCodes.ContributionInvalid, "backed by nothing");

        Contribution change = SessionRun.Contribution("bob", Bob, [Coin(Bob)], new TxOutput(5_000, P2pkh(Alice))) with { Change = Token(Bob, AnyAsset, 1).LockingScript };
        _swap.CheckContribution(Setup(Terms(AnyAsset)), [], change).ShouldRefuse(SessionCodes.ContributionInvalid, "backed by nothing");
    }

    [Fact]
    public void A_buyer_paying_more_than_it_brings_is_refused() =>
        _swap.CheckContribution(Setup(Terms(AnyAsset)), [], Buyer(5_000, 4_000))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "do not cover");

    [Fact]
    public void A_stranger_is_refused() =>
        _swap.CheckContribution(Setup(Terms(AnyAsset)), [], Buyer(5_000) with { Party = "carol" })
            .ShouldRefuse(SessionCodes.ContributionInvalid, "no part");

    [Fact]
    public void The_swap_is_complete_with_both_contributions()
    {
        SessionSetup setup = Setup(Terms(AnyAsset));
        Contribution seller = SessionRun.Contribution("alice", Alice, []);

        _swap.IsComplete(setup, []).Should().BeFalse();
        _swap.IsComplete(setup, [Buyer(5_000)]).Should().BeFalse();
        _swap.IsComplete(setup, [seller]).Should().BeFalse();
        _swap.IsComplete(setup, [Buyer(5_000), seller]).Should().BeTrue();
        _swap.Topics(setup).Should().Equal(TokenTopicManager.TopicName);
    }

    [Fact]
    public async Task A_swap_settles_in_one_transaction_both_parties_signed()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Alice, 25, out string assetId, 20, 5);
        SessionSetup setup = Setup(Terms(assetId));
        Contribution seller = SessionRun.Contribution("alice", Alice, [coins[0],
            coins[1], Coin(Alice, 2_000)], Token(Bob, assetId, 10), Token(Alice, assetId, 15));

        (AssembledSession assembled, Transaction signed, _) = await SessionRun.FinishAsync(_swap, setup, [Buyer(5_000), seller],
            i => [i.Party == "alice" ? Alice : Bob]);

        SessionRun.TokensAdmitted(assembled, signed).Should().Equal(SessionRun.TokenOutputs(signed)).And.HaveCount(2);
        assembled.Inputs.Select(i => i.Party).Should().Equal("alice", "alice", "alice", "bob");
    }


    private static Contribution Buyer(ulong pays, ulong brings = 100_000) =>
        SessionRun.Contribution("bob", Bob, [Coin(Bob, brings)], new TxOutput(pays, P2pkh(Alice)));
}
