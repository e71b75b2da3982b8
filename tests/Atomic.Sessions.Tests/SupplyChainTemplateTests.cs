using System.Security.Cryptography;
using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using Atomic.Sessions.Templates;
using static Atomic.Sessions.Tests.TestLedger;

namespace Atomic.Sessions.Tests;

public sealed class SupplyChainTemplateTests
{
    private const string AnyAsset = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.0";

    private static readonly byte[] Documents = SHA256.HashData(Encoding.UTF8.GetBytes("bill of lading 42; invoice 7"));

    private readonly SupplyChainTemplate _chain = new();

    /// <summary>alice pays bob, bob ships carol tokens, carol pays alice; dave, if there, only looks on.</summary>
    private static string Terms(string assetId) => $$"""
        {
          "transfers": [
            {"from": "alice", "to": "bob", "satoshis": 5000},
            {"from": "bob", "to": "carol", "assetId": "{{assetId}}", "amount": 10},
            {"from": "carol", "to": "alice", "satoshis": 1000}
          ],
          "documentsSha256": "{{Hex.Encode(Documents)}}"
        }
        """;

    private static string SatoshisOnly => $$"""
        {"transfers": [{"from": "alice", "to": "bob", "satoshis": 5000}, {"from": "bob", "to": "carol", "satoshis": 700}],
         "documentsSha256": "{{Hex.Encode(Documents)}}"}
        """;

    private static SessionSetup Setup(string terms) =>
        SessionRun.Setup(SupplyChainTemplate.TemplateName, terms, ("alice", Alice), ("bob", Bob), ("carol", Carol));

    private static TxOutput Commitment => new(0, SupplyChainTemplate.DocumentsCommitment(Documents));

    [Fact]
    public void The_documents_commitment_is_OP_FALSE_OP_RETURN_and_the_digest()
    {
        Script script = SupplyChainTemplate.DocumentsCommitment(Documents);

        script.ToBytes().Should().Equal([0x00, 0x6a, 0x20, .. Documents]);
        FluentActions.Invoking(() => SupplyChainTemplate.DocumentsCommitment(new byte[31])).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Terms_of_transfers_between_parties_and_a_documents_digest_are_accepted()
    {
        _chain.CheckTerms(Setup(Terms(AnyAsset))).Should().Be(SessionCheck.Ok);
        _chain.CheckTerms(Setup(SatoshisOnly)).Should().Be(SessionCheck.Ok);
        _chain.CheckTerms(Setup(SessionRun.Mutate(Terms(AnyAsset), "documentsSha256", $"\"{Hex.Encode(Documents).ToUpperInvariant()}\"")))
            .Should().Be(SessionCheck.Ok);
    }

    [Theory]
    [InlineData("transfers", null, "terms.transfers is required")]
    [InlineData("transfers", "[]", "terms.transfers must not be empty")]
    [InlineData("transfers", "{}", "as an array")]
    [InlineData("transfers.0", "5", "terms.transfers[0] must be an object")]
    [InlineData("transfers.0.from", "\"mallory\"", "terms.transfers[0].from names 'mallory', who is not a party")]
    [InlineData("transfers.0.to", null, "terms.transfers[0].to is required")]
    [InlineData("transfers.0.to", "\"alice\"", "from alice to itself")]
    [InlineData("transfers.0.satoshis", "0", "terms.transfers[0].satoshis must be a whole number above zero")]
    [InlineData("transfers.0.satoshis", null, "neither satoshis nor an assetId")]
    [InlineData("transfers.0.amount", "3", "not both")]
    [InlineData("transfers.1.amount", null, "terms.transfers[1].amount is required")]
    [InlineData("transfers.1.amount", "-10", "terms.transfers[1].amount must be a whole number above zero")]
    [InlineData("transfers.1.assetId", "\"gold\"", "terms.transfers[1].assetId must be an asset id")]
    [InlineData("documentsSha256", null, "terms.documentsSha256 is required")]
    [InlineData("documentsSha256", "\"abcd\"", "64 hex digits")]
    [InlineData("documentsSha256", "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"", "64 hex digits")]
    public void Bad_terms_are_refused(string path, string? value, string reason) =>
        _chain.CheckTerms(Setup(SessionRun.Mutate(Terms(AnyAsset), path, value))).ShouldRefuse(SessionCodes.TermsInvalid, reason);

    [Fact]
    public void A_chain_of_two_parties_is_refused() =>
        _chain.CheckTerms(SessionRun.Setup(SupplyChainTemplate.TemplateName, SatoshisOnly, ("alice", Alice), ("bob", Bob)))
            .ShouldRefuse(SessionCodes.TermsInvalid, "three parties or more");

    [Fact]
    public void The_first_party_paying_its_transfer_and_committing_to_the_documents_is_accepted() =>
        _chain.CheckContribution(Setup(Terms(AnyAsset)), [], Alices(Pay(Bob, 5_000), Commitment)).Should().Be(SessionCheck.Ok);

    [Fact]
    public void The_first_party_without_the_documents_output_is_refused() =>
        _chain.CheckContribution(Setup(Terms(AnyAsset)), [], Alices(Pay(Bob, 5_000)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "alice gives no data output");

    [Theory]
    [InlineData(1, false)]
    [InlineData(0, true)]
    public void A_documents_output_with_satoshis_or_another_digest_is_refused(ulong satoshis, bool otherDigest)
    {
        byte[] digest = otherDigest ? SHA256.HashData("forged"u8) : Documents;
        TxOutput data = new(satoshis, SupplyChainTemplate.DocumentsCommitment(digest));

        _chain.CheckContribution(Setup(Terms(AnyAsset)), [], Alices(Pay(Bob, 5_000), data))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "alice gives no data output");
    }

    [Fact]
    public void A_documents_output_from_another_party_than_the_first_is_refused()
    {
        Contribution carol = SessionRun.Contribution("carol", Carol, [Coin(Carol)], Pay(Alice, 1_000), Commitment);

        _chain.CheckContribution(Setup(Terms(AnyAsset)), [], carol)
            .ShouldRefuse(SessionCodes.ContributionInvalid, "output 1 of carol pays 0 satoshis to the script 006a20");
    }

    [Fact]
    public void A_satoshi_transfer_short_of_its_amount_is_refused() =>
        _chain.CheckContribution(Setup(Terms(AnyAsset)), [], Alices(Pay(Bob, 4_999), Commitment))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "alice gives no P2PKH output of at least 5000 satoshis to bob's identity key");

    [Fact]
    public void A_satoshi_transfer_to_the_wrong_party_is_refused() =>
        _chain.CheckContribution(Setup(Terms(AnyAsset)), [], Alices(Pay(Carol, 5_000), Commitment))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "to bob's identity key");

    [Fact]
    public void A_payment_the_terms_do_not_ask_for_is_refused() =>
        _chain.CheckContribution(Setup(Terms(AnyAsset)), [], Alices(Pay(Bob, 5_000), Commitment, Pay(Carol, 100)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "output 2 of alice pays 100 satoshis to carol's identity key, which the terms");

    [Fact]
    public void An_output_to_a_script_of_nobodys_is_refused() =>
        _chain.CheckContribution(Setup(Terms(AnyAsset)), [], Alices(Pay(Bob, 5_000), Commitment, new TxOutput(100, new Script([0x51]))))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "output 2 of alice pays 100 satoshis to the script 51");

    [Fact]
    public void A_party_may_pay_itself_besides_its_transfers() =>
        _chain.CheckContribution(Setup(Terms(AnyAsset)), [], Alices(Pay(Bob, 5_000), Commitment, Pay(Alice, 100)))
            .Should().Be(SessionCheck.Ok);

    [Fact]
    public void Two_transfers_to_one_party_need_two_outputs_each_covering_its_own()
    {
        string terms = SessionRun.Mutate(Terms(AnyAsset), "transfers.2", """{"from": "alice", "to": "bob", "satoshis": 1000}""");
        SessionSetup setup = Setup(terms);

        _chain.CheckContribution(setup, [], Alices(Pay(Bob, 1_200), Pay(Bob, 5_000), Commitment)).Should().Be(SessionCheck.Ok);
        _chain.CheckContribution(setup, [], Alices(Pay(Bob, 6_000), Commitment))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "at least 5000");
        _chain.CheckContribution(setup, [], Alices(Pay(Bob, 4_999), Pay(Bob, 5_000), Commitment)).Should().Be(SessionCheck.Ok);
        _chain.CheckContribution(setup, [], Alices(Pay(Bob, 999), Pay(Bob, 5_000), Commitment))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "to bob's identity key");
    }

    [Fact]
    public void A_token_transfer_with_the_remainder_kept_is_accepted()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Bob, 25, out string assetId, 25);
        Contribution bob = SessionRun.Contribution("bob", Bob, [coins[0], Coin(Bob)], Token(Carol, assetId, 10), Token(Bob, assetId, 15));

        _chain.CheckContribution(Setup(Terms(assetId)), [], bob).Should().Be(SessionCheck.Ok);
    }

    [Fact]
    public void A_token_transfer_of_another_asset_is_refused()
    {
        _ = Tokens(Bob, 10, out string assetId, 10);
        IReadOnlyList<ContributedInput> others = Tokens(Bob, 10, out string otherId, 10);
        Contribution bob = SessionRun.Contribution("bob", Bob, [others[0]], Token(Carol, otherId, 10));

        _chain.CheckContribution(Setup(Terms(assetId)), [], bob)
            .ShouldRefuse(SessionCodes.ContributionInvalid, $"bob gives no token output of exactly 10 of {assetId} owned by carol's");
    }

    [Theory]
    [InlineData(9, "carol")]
    [InlineData(11, "carol")]
    [InlineData(10, "alice")]
    public void A_token_transfer_of_the_wrong_amount_or_to_the_wrong_party_is_refused(ulong amount, string to)
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Bob, 20, out string assetId, 20);
        TxOutput given = Token(to == "carol" ? Carol : Alice, assetId, amount);
        Contribution bob = SessionRun.Contribution("bob", Bob, [coins[0]], given, Token(Bob, assetId, 20 - amount));

        _chain.CheckContribution(Setup(Terms(assetId)), [], bob)
            .ShouldRefuse(SessionCodes.ContributionInvalid, "bob gives no token output of exactly 10");
    }

    [Fact]
    public void A_token_transfer_not_conserved_is_refused()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Bob, 25, out string assetId, 25);
        Contribution kept = SessionRun.Contribution("bob", Bob, [coins[0]], Token(Carol, assetId, 10));
        Contribution conjured = SessionRun.Contribution("bob", Bob, [coins[0]], Token(Carol, assetId, 10), Token(Bob, assetId, 16));
        Contribution unbacked = SessionRun.Contribution("bob", Bob, [Coin(Bob)], Token(Carol, assetId, 10));

        _chain.CheckContribution(Setup(Terms(assetId)), [], kept)
            .ShouldRefuse(SessionCodes.ContributionInvalid, $"bob's inputs hold 25 of {assetId} and its outputs give 10");
        _chain.CheckContribution(Setup(Terms(assetId)), [], conjured).ShouldRefuse(SessionCodes.ContributionInvalid, "hold 25");
        _chain.CheckContribution(Setup(Terms(assetId)), [], unbacked).ShouldRefuse(SessionCodes.ContributionInvalid, "hold 0");
    }

    [Fact]
    public void Another_asset_spent_must_come_back_whole()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Bob, 10, out string assetId, 10);
        IReadOnlyList<ContributedInput> others = Tokens(Bob, 4, out string otherId, 4);
        Contribution kept = SessionRun.Contribution("bob", Bob, [coins[0], others[0]], Token(Carol, assetId, 10), Token(Bob, otherId, 4));
        Contribution given = SessionRun.Contribution("bob", Bob, [coins[0],
            others[0]], Token(Carol, assetId, 10), Token(Carol, otherId, 4));
        Contribution burned = SessionRun.Contribution("bob", Bob, [coins[0], others[0]], Token(Carol, assetId, 10));

        _chain.CheckContribution(Setup(Terms(assetId)), [], kept).Should().Be(SessionCheck.Ok);
        _chain.CheckContribution(Setup(Terms(assetId)), [], given)
            .ShouldRefuse(SessionCodes.ContributionInvalid, $"gives 4 of {otherId} to carol's identity key");
        _chain.CheckContribution(Setup(Terms(assetId)), [], burned).ShouldRefuse(SessionCodes.ContributionInvalid, $"hold 4 of {otherId}");
    }

    [Fact]
    public void Minting_in_a_session_is_refused()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Bob, 10, out string assetId, 10);
        Contribution bob = SessionRun.Contribution("bob", Bob, [coins[0]],
            Token(Carol, assetId, 10), Token(Bob, TokenTopicManager.Issue, 100));

        _chain.CheckContribution(Setup(Terms(assetId)), [], bob)
            .ShouldRefuse(SessionCodes.ContributionInvalid, "output 1 of bob mints a new asset");
    }

    [Fact]
    public void A_change_script_that_is_a_token_output_is_refused()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Bob, 10, out string assetId, 10);
        Contribution bob = SessionRun.Contribution("bob", Bob, [coins[0], Coin(Bob)], Token(Carol, assetId, 10))
            with
        { Change = TokenTopicManager.Lock(Bob.PublicKey, assetId, 1_000) };

        _chain.CheckContribution(Setup(Terms(assetId)), [], bob)
            .ShouldRefuse(SessionCodes.ContributionInvalid, "bob's change script is a tm_tokens output");
    }

    [Fact]
    public void Token_coins_are_refused_where_no_asset_moves()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Bob, 10, out string assetId, 10);
        Contribution bob = SessionRun.Contribution("bob", Bob, [coins[0], Coin(Bob)], Pay(Carol, 700), Token(Bob, assetId, 10));

        _chain.CheckContribution(Setup(SatoshisOnly), [], bob).ShouldRefuse(SessionCodes.ContributionInvalid, "the terms move no asset");
        _chain.Topics(Setup(SatoshisOnly)).Should().BeEmpty();
        _chain.Topics(Setup(Terms(AnyAsset))).Should().Equal(TokenTopicManager.TopicName);
    }

    [Fact]
    public void A_party_that_only_receives_may_contribute_nothing_or_only_its_own()
    {
        SessionSetup setup = Setup(SatoshisOnly);

        _chain.CheckContribution(setup, [], SessionRun.Contribution("carol", Carol, [])).Should().Be(SessionCheck.Ok);
        _chain.CheckContribution(setup, [], SessionRun.Contribution("carol", Carol, [Coin(Carol)], Pay(Carol, 10)))
            .Should().Be(SessionCheck.Ok);
        _chain.CheckContribution(setup, [], SessionRun.Contribution("carol", Carol, [Coin(Carol)], Pay(Bob, 10)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "pays 10 satoshis to bob's identity key, which the terms do not ask");
    }

    [Fact]
    public void An_input_contributed_twice_is_refused()
    {
        ContributedInput coin = Coin(Bob, 500);

        _chain.CheckContribution(Setup(SatoshisOnly), [], SessionRun.Contribution("bob", Bob, [coin, coin], Pay(Carol, 700)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, $"bob contributes the output {Obligations.Describe(coin.OutPoint)} twice");
    }

    [Fact]
    public void Outputs_beyond_the_inputs_are_refused() =>
        _chain.CheckContribution(Setup(SatoshisOnly), [], SessionRun.Contribution("bob", Bob, [Coin(Bob, 500)], Pay(Carol, 700)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "bob's inputs hold 500 satoshis, less than its outputs' 700");

    [Fact]
    public void A_stranger_is_refused() =>
        _chain.CheckContribution(Setup(SatoshisOnly), [], SessionRun.Contribution("mallory", Dave, []))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "not a party");

    [Fact]
    public void The_chain_is_complete_when_every_party_contributed()
    {
        SessionSetup setup = Setup(SatoshisOnly);
        Contribution a = SessionRun.Contribution("alice", Alice, []);
        Contribution b = SessionRun.Contribution("bob", Bob, []);
        Contribution c = SessionRun.Contribution("carol", Carol, []);

        _chain.IsComplete(setup, [a, b]).Should().BeFalse();
        _chain.IsComplete(setup, [c, a]).Should().BeFalse();
        _chain.IsComplete(setup, [c, a, b]).Should().BeTrue();
    }

    [Fact]
    public async Task A_supply_chain_settles_in_one_transaction_every_party_signed()
    {
        IReadOnlyList<ContributedInput> coins = Tokens(Bob, 30, out string assetId, 30);
        SessionSetup setup = SessionRun.Setup(
            SupplyChainTemplate.TemplateName, Terms(assetId), ("alice", Alice), ("bob", Bob), ("carol", Carol), ("dave", Dave));
        Contribution alice = Alices(Pay(Bob, 5_000), Commitment);
        Contribution bob = SessionRun.Contribution("bob", Bob, [coins[0],
            Coin(Bob, 3_000)], Token(Bob, assetId, 20), Token(Carol, assetId, 10));
        Contribution carol = SessionRun.Contribution("carol", Carol, [Coin(Carol, 4_000)], Pay(Alice, 1_000));
        Contribution dave = SessionRun.Contribution("dave", Dave, []);
        PrivateKey[] keys = [Alice, Bob, Carol, Dave];

        (AssembledSession assembled, Transaction signed, _) = await SessionRun.FinishAsync(_chain, setup, [carol, dave, bob, alice],
            i => [keys[setup.IndexOf(i.Party)]]);

        signed.Outputs.Should().Contain(Commitment);
        SessionRun.TokensAdmitted(assembled, signed).Should().Equal(SessionRun.TokenOutputs(signed)).And.HaveCount(2);
        _chain.Topics(setup).Should().Equal(TokenTopicManager.TopicName);
    }

    private static Contribution Alices(params TxOutput[] outputs) => SessionRun.Contribution("alice", Alice, [Coin(Alice)], outputs);
}
