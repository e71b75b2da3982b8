using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using Atomic.Sessions.Templates;
using static Atomic.Sessions.Tests.TestLedger;

namespace Atomic.Sessions.Tests;

public sealed class EscrowTemplateTests
{
    private const string AnyAsset = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0";

    private const string Terms = """{"buyer": "alice", "seller": "bob", "arbiter": "carol", "price": 50000}""";

    private static readonly TxOutput IntoEscrow = new(50_000, EscrowTemplate.EscrowLock(Alice.PublicKey, Bob.PublicKey, Carol.PublicKey));

    private readonly EscrowTemplate _escrow = new();

    private static string WithGoods(string assetId) =>
        $$"""{"buyer": "alice", "seller": "bob", "arbiter": "carol", "price": 50000, "assetId": "{{assetId}}", "amount": 4}""";

    private static SessionSetup Setup(string terms) =>
        SessionRun.Setup(EscrowTemplate.TemplateName, terms, ("alice", Alice), ("bob", Bob), ("carol", Carol));

    [Fact]
    public void The_escrow_lock_is_a_bare_2_of_3_multisig_of_buyer_seller_and_arbiter()
    {
        byte[] script = EscrowTemplate.EscrowLock(Alice.PublicKey, Bob.PublicKey, Carol.PublicKey).ToBytes();

        script.Should().Equal(
            [0x52, 33, .. Alice.PublicKey.ToBytes(), 33, .. Bob.PublicKey.ToBytes(), 33, .. Carol.PublicKey.ToBytes(), 0x53, 0xae]);
        SessionAssembler.UnlockingSizeOf(IntoEscrow.LockingScript).Should().Be(1 + (2 * 74));
    }

    [Fact]
    public void Terms_with_and_without_goods_are_accepted()
    {
        _escrow.CheckTerms(Setup(Terms)).Should().Be(SessionCheck.Ok);
        _escrow.CheckTerms(Setup(WithGoods(AnyAsset))).Should().Be(SessionCheck.Ok);
        _escrow.Topics(Setup(Terms)).Should().BeEmpty();
        _escrow.Topics(Setup(WithGoods(AnyAsset))).Should().Equal(TokenTopicManager.TopicName);
    }

    [Theory]
    [InlineData("buyer", null, "terms.buyer is required")]
    [InlineData("seller", "\"mallory\"", "terms.seller names 'mallory', who is not a party")]
    [InlineData("arbiter", "\"alice\"", "three different parties")]
    [InlineData("price", "0", "terms.price must be a whole number above zero")]
    [InlineData("price", null, "terms.price is required")]
    [InlineData("amount", null, "terms.amount is required")]
    [InlineData("assetId", null, "terms.assetId is required")]
    [InlineData("assetId", "\"bread\"", "terms.assetId must be an asset id")]
    [InlineData("amount", "0.5", "terms.amount must be a whole number above zero")]
    public void Bad_terms_are_refused(string path, string? value, string reason) =>
        _escrow.CheckTerms(Setup(SessionRun.Mutate(WithGoods(AnyAsset), path, value))).ShouldRefuse(SessionCodes.TermsInvalid, reason);

    [Fact]
    public void An_escrow_of_four_parties_is_refused() =>
        _escrow.CheckTerms(SessionRun.Setup(
                EscrowTemplate.TemplateName, Terms, ("alice", Alice), ("bob", Bob), ("carol", Carol), ("dave", Dave)))
            .ShouldRefuse(SessionCodes.TermsInvalid, "three parties");

    [Fact]
    public void Parties_sharing_an_identity_key_are_refused() =>
        _escrow.CheckTerms(SessionRun.Setup(EscrowTemplate.TemplateName, Terms, ("alice", Alice), ("bob", Bob), ("carol", Alice)))
            .ShouldRefuse(SessionCodes.TermsInvalid, "three different identity keys");

    [Fact]
    public void The_buyer_paying_the_price_into_the_escrow_is_accepted() =>
        _escrow.CheckContribution(Setup(Terms), [], Buyer(IntoEscrow)).Should().Be(SessionCheck.Ok);

    [Theory]
    [InlineData(49_999, "abc")]
    [InlineData(50_001, "abc")]
    [InlineData(50_000, "acb")]
    [InlineData(50_000, "bac")]
    public void The_wrong_price_or_key_order_is_refused(ulong satoshis, string order)
    {
        PrivateKey[] keys = [.. order.Select(c => c switch { 'a' => Alice, 'b' => Bob, _ => Carol })];
        var output = new TxOutput(satoshis, EscrowTemplate.EscrowLock(keys[0].PublicKey, keys[1].PublicKey, keys[2].PublicKey));

        _escrow.CheckContribution(Setup(Terms), [], Buyer(output))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "alice gives no output of exactly the price, 50000 satoshis, locked by the");
    }

    [Fact]
    public void Paying_the_seller_directly_is_refused()
    {
        Contribution direct = Buyer(new TxOutput(50_000, P2pkh(Bob)));
        Contribution both = Buyer(IntoEscrow, new TxOutput(1_000, P2pkh(Bob)));

        _escrow.CheckContribution(Setup(Terms), [], direct).ShouldRefuse(SessionCodes.ContributionInvalid, "locked by the 2-of-3 escrow");
        _escrow.CheckContribution(Setup(Terms), [], both)
            .ShouldRefuse(SessionCodes.ContributionInvalid, "output 1 of alice pays 1000 satoshis to bob's identity key");
    }

    [Fact]
    public void A_buyer_spending_tokens_where_no_goods_move_is_refused()
    {
        (ContributedInput token, string assetId) = Mint(Alice, 2);
        Contribution buyer = SessionRun.Contribution("alice", Alice, [Coin(Alice), token],
            IntoEscrow, new TxOutput(1, TokenTopicManager.Lock(Alice.PublicKey, assetId, 2)));

        _escrow.CheckContribution(Setup(Terms), [], buyer).ShouldRefuse(SessionCodes.ContributionInvalid, "the terms move no asset");
    }

    [Fact]
    public void The_seller_giving_the_goods_is_accepted_and_the_wrong_goods_refused()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Bob, 6, out string assetId, 6);
        SessionSetup setup = Setup(WithGoods(assetId));
        Contribution right = SessionRun.Contribution("bob", Bob, [coins[0], Coin(Bob)], Token(Alice, assetId, 4), Token(Bob, assetId, 2));
        Contribution short_ = SessionRun.Contribution("bob", Bob, [coins[0]], Token(Alice, assetId, 3), Token(Bob, assetId, 3));
        Contribution toArbiter = SessionRun.Contribution("bob", Bob, [coins[0]], Token(Carol, assetId, 4), Token(Bob, assetId, 2));
        Contribution kept = SessionRun.Contribution("bob", Bob, [coins[0]], Token(Alice, assetId, 4));

        _escrow.CheckContribution(setup, [], right).Should().Be(SessionCheck.Ok);
        _escrow.CheckContribution(setup, [], short_)
            .ShouldRefuse(SessionCodes.ContributionInvalid, $"bob gives no token output of exactly 4 of {assetId} owned by alice's");
        _escrow.CheckContribution(setup, [], toArbiter).ShouldRefuse(SessionCodes.ContributionInvalid, "owned by alice's identity key");
        _escrow.CheckContribution(setup, [], kept)
            .ShouldRefuse(SessionCodes.ContributionInvalid, $"bob's inputs hold 6 of {assetId} and its outputs give 4");
    }

    [Fact]
    public void The_arbiter_and_a_seller_with_no_goods_contribute_nothing()
    {
        SessionSetup setup = Setup(Terms);

        _escrow.CheckContribution(setup, [], SessionRun.Contribution("carol", Carol, [])).Should().Be(SessionCheck.Ok);
        _escrow.CheckContribution(setup, [], SessionRun.Contribution("bob", Bob, [])).Should().Be(SessionCheck.Ok);
        _escrow.CheckContribution(setup, [], SessionRun.Contribution("carol", Carol, [Coin(Carol)]))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "carol has nothing to give in this escrow");
        _escrow.CheckContribution(setup, [], SessionRun.Contribution("bob", Bob, [Coin(Bob)], new TxOutput(1_000, P2pkh(Bob))))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "bob has nothing to give in this escrow");
        _escrow.CheckContribution(Setup(WithGoods(AnyAsset)), [], SessionRun.Contribution("carol", Carol, [],
            new TxOutput(0, P2pkh(Carol))))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "carol has nothing to give");
    }

    [Fact]
    public void A_stranger_is_refused() =>
        _escrow.CheckContribution(Setup(Terms), [], SessionRun.Contribution("dave", Dave, []))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "not a party");

    [Fact]
    public void The_escrow_is_complete_with_the_buyer_and_the_seller_if_goods_move()
    {
        Contribution alice = SessionRun.Contribution("alice", Alice, []);
        Contribution bob = SessionRun.Contribution("bob", Bob, []);
        Contribution carol = SessionRun.Contribution("carol", Carol, []);

        _escrow.IsComplete(Setup(Terms), [carol]).Should().BeFalse();
        _escrow.IsComplete(Setup(Terms), [alice]).Should().BeTrue();
        _escrow.IsComplete(Setup(WithGoods(AnyAsset)), [alice, carol]).Should().BeFalse();
        _escrow.IsComplete(Setup(WithGoods(AnyAsset)), [bob, alice]).Should().BeTrue();
    }

    [Fact]
    public async Task The_price_goes_into_escrow_and_the_goods_to_the_buyer_in_one_transaction() =>
        await FundAsync();

    /// <summary>
    /// The escrow session with goods, finished: the Atomic BEEF of its transaction and the escrow output in it (the
    /// release tests spend it).
    /// </summary>
    internal static async Task<(ContributedInput Escrow, Transaction Signed)> FundAsync()
    {
        var escrow = new EscrowTemplate();
        IReadOnlyList<ContributedInput> coins = Tokens(Bob, 9, out string assetId, 9);
        SessionSetup setup = Setup(WithGoods(assetId));
        Contribution seller = SessionRun.Contribution("bob", Bob, [coins[0],
            Coin(Bob, 1_000)], Token(Alice, assetId, 4), Token(Bob, assetId, 5));
        Contribution arbiter = SessionRun.Contribution("carol", Carol, []);
        PrivateKey[] keys = [Alice, Bob, Carol];

        (AssembledSession assembled, Transaction signed, Beef beef) =
            await SessionRun.FinishAsync(escrow, setup, [arbiter, seller, Buyer(IntoEscrow)], i => [keys[setup.IndexOf(i.Party)]]);

        SessionRun.TokensAdmitted(assembled, signed).Should().Equal(SessionRun.TokenOutputs(signed)).And.HaveCount(2);
        int vout = signed.Outputs.ToList().IndexOf(IntoEscrow);
        vout.Should().BeGreaterThanOrEqualTo(0);
        return (SessionSigning.ReadInput(beef.ToBytes(), vout), signed);
    }

    private static Contribution Buyer(params TxOutput[] outputs) => SessionRun.Contribution("alice", Alice, [Coin(Alice)], outputs);
}
