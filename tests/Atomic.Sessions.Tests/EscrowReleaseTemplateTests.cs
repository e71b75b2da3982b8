using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Transactions;
using Atomic.Sessions.Templates;
using static Atomic.Sessions.Tests.TestLedger;

namespace Atomic.Sessions.Tests;

public sealed class EscrowReleaseTemplateTests
{
    private static readonly TxOutput Escrowed = new(50_000, EscrowTemplate.EscrowLock(Alice.PublicKey, Bob.PublicKey, Carol.PublicKey));

    private readonly EscrowReleaseTemplate _release = new();

    private static string Terms(ContributedInput escrow, string payTo = "bob") =>
        $$"""
        {"escrow": "{{Obligations.Describe(escrow.OutPoint)}}", "buyer": "alice", "seller": "bob", "arbiter": "carol", "payTo": "{{payTo}}"}
        """;

    private static SessionSetup Setup(string terms) =>
        SessionRun.Setup(EscrowReleaseTemplate.TemplateName, terms, ("alice", Alice), ("bob", Bob), ("carol", Carol));

    [Fact]
    public void Terms_paying_the_buyer_or_the_seller_are_accepted()
    {
        ContributedInput escrow = Output(Escrowed);

        _release.CheckTerms(Setup(Terms(escrow))).Should().Be(SessionCheck.Ok);
        _release.CheckTerms(Setup(Terms(escrow, "alice"))).Should().Be(SessionCheck.Ok);
        _release.Topics(Setup(Terms(escrow))).Should().BeEmpty();
    }

    [Theory]
    [InlineData("escrow", null, "terms.escrow is required")]
    [InlineData("escrow", "\"abc.0\"", "terms.escrow must name an output '<txid>.<vout>'")]
    [InlineData("escrow", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.01\"", "terms.escrow must name an output")]
    [InlineData("escrow", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "terms.escrow must name an output")]
    [InlineData("payTo", "\"carol\"", "terms.payTo must name the buyer (alice) or the seller (bob), not 'carol'")]
    [InlineData("payTo", null, "terms.payTo is required")]
    [InlineData("seller", "\"alice\"", "three different parties")]
    [InlineData("arbiter", "\"mallory\"", "not a party")]
    public void Bad_terms_are_refused(string path, string? value, string reason) =>
        _release.CheckTerms(Setup(SessionRun.Mutate(Terms(Output(Escrowed)), path, value))).ShouldRefuse(SessionCodes.TermsInvalid, reason);

    [Theory]
    [InlineData("bob")]
    [InlineData("alice")]
    [InlineData("carol")]
    public void Any_of_the_three_may_release_to_payTo(string party)
    {
        ContributedInput escrow = Output(Escrowed);
        var contribution = new Contribution(party, [escrow], [new TxOutput(10_000, P2pkh(Bob))], P2pkh(Bob));

        _release.CheckContribution(Setup(Terms(escrow)), [], contribution).Should().Be(SessionCheck.Ok);
        _release.CheckContribution(Setup(Terms(escrow)), [], contribution with { Outputs = [] }).Should().Be(SessionCheck.Ok);
    }

    [Fact]
    public void An_output_or_the_change_to_anyone_but_payTo_is_refused()
    {
        ContributedInput escrow = Output(Escrowed);
        SessionSetup setup = Setup(Terms(escrow));

        _release.CheckContribution(setup, [], new Contribution("carol", [escrow], [], P2pkh(Carol)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "must go to P2PKH of bob's identity key");
        _release.CheckContribution(setup, [], new Contribution("carol", [escrow], [new TxOutput(500, P2pkh(Carol))], P2pkh(Bob)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "output 0 does not pay P2PKH of bob's identity key");
    }

    [Fact]
    public void Spending_anything_but_the_escrow_is_refused()
    {
        ContributedInput escrow = Output(Escrowed);
        SessionSetup setup = Setup(Terms(escrow));

        _release.CheckContribution(setup, [], new Contribution("bob", [Output(Escrowed)], [], P2pkh(Bob)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, $"the escrow output {Obligations.Describe(escrow.OutPoint)} and nothing else");
        _release.CheckContribution(setup, [], new Contribution("bob", [escrow, Coin(Bob)], [], P2pkh(Bob)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "and nothing else");
        _release.CheckContribution(setup, [], new Contribution("bob", [], [], P2pkh(Bob)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "and nothing else");
    }

    [Fact]
    public void An_escrow_output_locked_otherwise_is_refused()
    {
        var swapped = new TxOutput(50_000, EscrowTemplate.EscrowLock(Bob.PublicKey, Alice.PublicKey, Carol.PublicKey));
        ContributedInput reordered = Output(swapped);
        ContributedInput p2pkh = Coin(Bob, 50_000);

        _release.CheckContribution(Setup(Terms(reordered)), [], new Contribution("bob", [reordered], [], P2pkh(Bob)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "is not locked by the 2-of-3 escrow of alice, bob and carol");
        _release.CheckContribution(Setup(Terms(p2pkh)), [], new Contribution("bob", [p2pkh], [], P2pkh(Bob)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "is not locked by the 2-of-3 escrow");
    }

    [Fact]
    public void Outputs_beyond_the_escrow_are_refused()
    {
        ContributedInput escrow = Output(Escrowed);

        _release.CheckContribution(Setup(Terms(escrow)), [], new Contribution("bob", [escrow], [Pay(Bob, 50_001)], P2pkh(Bob)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "the escrow holds 50000 satoshis, less than the outputs' 50001");
    }

    [Fact]
    public void One_contribution_releases_the_escrow()
    {
        ContributedInput escrow = Output(Escrowed);
        SessionSetup setup = Setup(Terms(escrow));
        var bob = new Contribution("bob", [escrow], [], P2pkh(Bob));
        var carol = bob with { Party = "carol" };

        _release.CheckContribution(setup, [bob], carol)
            .ShouldRefuse(SessionCodes.ContributionInvalid, "one contribution releases the escrow, and bob has made it");
        _release.CheckContribution(setup, [], bob with { Party = "dave" }).ShouldRefuse(SessionCodes.ContributionInvalid, "not a party");
        _release.IsComplete(setup, []).Should().BeFalse();
        _release.IsComplete(setup, [carol]).Should().BeTrue();
    }

    [Theory]
    [InlineData("bob", "carol", "ac")]
    [InlineData("alice", "alice", "ab")]
    [InlineData("bob", "bob", "bc")]
    public async Task Two_of_three_release_everything_but_the_fee_to_payTo(string payTo, string by, string signers)
    {
        ContributedInput escrow = Output(Escrowed);
        SessionSetup setup = Setup(Terms(escrow, payTo));
        Bsv.Scripts.Script to = P2pkh(payTo == "bob" ? Bob : Alice);
        PrivateKey[] keys = [.. signers.Select(c => c switch { 'a' => Alice, 'b' => Bob, _ => Carol })];

        (AssembledSession assembled, Transaction signed, _) =
            await SessionRun.FinishAsync(_release, setup, [new Contribution(by, [escrow], [], to)], _ => keys);

        signed.Outputs.Should().ContainSingle().Which.Should().Be(new TxOutput(50_000 - assembled.Fee, to));
    }

    [Fact]
    public async Task The_escrow_a_session_funded_is_released_to_the_seller()
    {
        (ContributedInput escrow, Transaction funding) = await EscrowTemplateTests.FundAsync();
        SessionSetup setup = Setup(Terms(escrow));
        var release = new Contribution("carol", [escrow], [new TxOutput(20_000, P2pkh(Bob))], P2pkh(Bob));

        (AssembledSession assembled, Transaction signed, Bsv.Spv.Beef beef) =
            await SessionRun.FinishAsync(_release, setup, [release], _ => [Bob, Carol]);

        signed.Outputs.Should().Equal(new TxOutput(20_000, P2pkh(Bob)), new TxOutput(30_000 - assembled.Fee, P2pkh(Bob)));
        beef.Find(funding.Id).Should().NotBeNull();
    }
}
