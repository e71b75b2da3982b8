using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using Atomic.Sessions.Templates;
using static Atomic.Sessions.Tests.TestLedger;

namespace Atomic.Sessions.Tests;

public sealed class SessionAssemblerTests
{
    private static readonly SessionSetup Setup = new("test",
        [new Party("alice", Alice.PublicKey), new Party("bob", Bob.PublicKey), new Party("carol", Carol.PublicKey)],
        JsonDocument.Parse("{}").RootElement.Clone());

    private static Contribution Pays(string party, PrivateKey key, ulong[] coins, PrivateKey to, ulong satoshis) =>
        SessionRun.Contribution(party, key, [.. coins.Select(c => Coin(key, c))], new TxOutput(satoshis, P2pkh(to)));

    [Fact]
    public void The_order_is_the_sessions_whatever_order_the_contributions_came_in()
    {
        Contribution a = Pays("alice", Alice, [100_000], Bob, 10_000);
        Contribution b = Pays("bob", Bob, [50_000], Carol, 5_000);
        Contribution c = Pays("carol", Carol, [30_000, 20_000], Alice, 1_000);

        AssembledSession first = SessionAssembler.Assemble(Setup, [c, a, b], SessionRun.Rate);
        AssembledSession second = SessionAssembler.Assemble(Setup, [b, c, a], SessionRun.Rate);

        second.Unsigned.Id.Should().Be(first.Unsigned.Id);
        first.Inputs.Select(i => i.Party).Should().Equal("alice", "bob", "carol", "carol");
        first.Unsigned.Inputs.Select(i => i.PrevOut).Should().Equal(
            a.Inputs[0].OutPoint, b.Inputs[0].OutPoint, c.Inputs[0].OutPoint, c.Inputs[1].OutPoint);
        first.Unsigned.Outputs.Select(o => o.LockingScript).Should().Equal(
            P2pkh(Bob), P2pkh(Carol), P2pkh(Alice), a.Change, b.Change, c.Change);
        first.Inputs.Select(i => i.Index).Should().Equal(0, 1, 2, 3);
    }

    [Fact]
    public void The_fee_is_the_rate_on_the_size_with_every_unlocking_script_estimated()
    {
        Contribution a = Pays("alice", Alice, [100_000, 40_000], Bob, 10_000);
        (ContributedInput token, string assetId) = Mint(Bob, 7);
        Contribution b = SessionRun.Contribution("bob", Bob, [token, Coin(Bob, 20_000)], Token(Alice, assetId, 7));

        AssembledSession assembled = SessionAssembler.Assemble(Setup, [a, b], 5_000);

        int unlocking = assembled.Inputs.Sum(i => SessionAssembler.UnlockingSizeOf(i.SourceLockingScript));
        unlocking.Should().Be(108 + 108 + 75 + 108);
        assembled.Fee.Should().Be(SessionAssembler.FeeFor(assembled.Unsigned.Size + unlocking, 5_000));
    }

    [Theory]
    [InlineData(1, 1000, 1)]
    [InlineData(1, 1, 1)]
    [InlineData(1000, 1, 1)]
    [InlineData(1001, 1, 2)]
    [InlineData(3, 500, 2)]
    [InlineData(250, 500, 125)]
    [InlineData(0, 500, 0)]
    public void The_fee_rounds_up_as_ARC_does(int size, ulong rate, ulong fee) =>
        SessionAssembler.FeeFor(size, rate).Should().Be(fee);

    [Fact]
    public void The_fee_is_shared_in_proportion_to_the_satoshis_brought_with_the_remainder_from_the_first_party()
    {
        Contribution a = Pays("alice", Alice, [100_000], Bob, 1_000);
        Contribution b = Pays("bob", Bob, [100_000], Carol, 1_000);
        Contribution c = Pays("carol", Carol, [100_000], Alice, 1_000);
        ulong rate = Enumerable.Range(1000, 10).Select(r => (ulong)r)
            .First(r => SessionAssembler.Assemble(Setup, [a, b, c], r).Fee % 3 == 1);

        AssembledSession assembled = SessionAssembler.Assemble(Setup, [a, b, c], rate);

        ulong third = assembled.Fee / 3;
        Shares(assembled, a, b, c).Should().Equal(third + 1, third, third);
    }

    [Fact]
    public void Shares_follow_the_satoshis_each_party_brings()
    {
        Contribution a = Pays("alice", Alice, [10_000], Bob, 1_000);
        Contribution b = Pays("bob", Bob, [30_000], Carol, 1_000);
        Contribution c = Pays("carol", Carol, [60_000], Alice, 1_000);

        AssembledSession assembled = SessionAssembler.Assemble(Setup, [a, b, c], 40_000);

        ulong[] shares = Shares(assembled, a, b, c);
        shares.Sum(s => (decimal)s).Should().Be(assembled.Fee);
        ulong[] floors = [assembled.Fee * 1 / 10, assembled.Fee * 3 / 10, assembled.Fee * 6 / 10];
        ulong remainder = assembled.Fee - floors.Aggregate((x, y) => x + y);
        shares.Should().Equal(floors.Select((f, i) => f + ((ulong)i < remainder ? 1UL : 0UL)));
    }

    [Fact]
    public void A_party_that_brings_nothing_pays_no_fee_and_gets_no_change()
    {
        Contribution a = Pays("alice", Alice, [100_000], Bob, 10_000);
        Contribution b = SessionRun.Contribution("bob", Bob, []);

        AssembledSession assembled = SessionAssembler.Assemble(Setup, [a, b], SessionRun.Rate);

        assembled.Unsigned.Outputs.Should().HaveCount(2);
        assembled.Unsigned.Outputs[1].Should().Be(new TxOutput(100_000 - 10_000 - assembled.Fee, a.Change));
    }

    [Fact]
    public void A_change_of_zero_is_left_out()
    {
        Contribution draft = Pays("alice", Alice, [100_000], Bob, 10_000);
        ulong fee = SessionAssembler.Assemble(Setup, [draft], SessionRun.Rate).Fee;
        Contribution exact = draft with { Outputs = [new TxOutput(100_000 - fee, P2pkh(Bob))] };

        AssembledSession assembled = SessionAssembler.Assemble(Setup, [exact], SessionRun.Rate);

        assembled.Fee.Should().Be(fee);
        assembled.Unsigned.Outputs.Should().Equal(new TxOutput(100_000 - fee, P2pkh(Bob)));
    }

    [Fact]
    public void A_party_short_of_its_outputs_is_named()
    {
        Contribution a = Pays("alice", Alice, [100_000], Bob, 10_000);
        Contribution b = Pays("bob", Bob, [1_000], Carol, 5_000);

        Action assemble = () => SessionAssembler.Assemble(Setup, [a, b], SessionRun.Rate);

        assemble.ShouldThrow(SessionCodes.InsufficientFunds, "party bob brings 1000 satoshis for 5000 in outputs");
    }

    [Fact]
    public void A_party_short_of_its_fee_share_is_named()
    {
        Contribution a = Pays("alice", Alice, [100_000], Bob, 10_000);
        Contribution c = Pays("carol", Carol, [5_000], Alice, 5_000);

        Action assemble = () => SessionAssembler.Assemble(Setup, [a, c], SessionRun.Rate);

        assemble.ShouldThrow(SessionCodes.InsufficientFunds, "party carol brings 5000 satoshis for 5000 in outputs and a fee share of");
    }

    [Fact]
    public void An_output_contributed_twice_is_refused()
    {
        ContributedInput coin = Coin(Alice);
        Contribution a = SessionRun.Contribution("alice", Alice, [coin], new TxOutput(1_000, P2pkh(Bob)));
        Contribution b = SessionRun.Contribution("bob", Bob, [coin], new TxOutput(1_000, P2pkh(Carol)));

        Action byTwo = () => SessionAssembler.Assemble(Setup, [a, b], SessionRun.Rate);
        Action byOne = () => SessionAssembler.Assemble(Setup, [a with { Inputs = [coin, coin] }], SessionRun.Rate);

        byTwo.ShouldThrow(SessionCodes.ContributionInvalid, $"the output {Obligations.Describe(coin.OutPoint)} is contributed twice");
        byOne.ShouldThrow(SessionCodes.ContributionInvalid, "is contributed twice");
    }

    [Fact]
    public void A_contribution_by_no_party_of_the_session_is_refused()
    {
        Contribution stranger = Pays("mallory", Dave, [10_000], Bob, 1_000);

        Action assemble = () => SessionAssembler.Assemble(Setup, [stranger], SessionRun.Rate);

        assemble.ShouldThrow(SessionCodes.ContributionInvalid, "names no party of the session");
    }

    [Theory]
    [InlineData("p2pkh", 1, 1000UL)]
    [InlineData("p2pkh", 6, 1000UL)]
    [InlineData("pushdrop", 1, 1000UL)]
    [InlineData("pushdrop", 6, 1000UL)]
    [InlineData("multisig", 1, 1000UL)]
    [InlineData("multisig", 6, 1000UL)]
    [InlineData("mixed", 3, 1000UL)]
    [InlineData("mixed", 3, 100_000UL)]
    public async Task Signed_inputs_validate_and_the_signed_size_never_costs_more_than_the_fee_charged(string kind, int count, ulong rate)
    {
        // A P2PKH coin pays: a token coin holds a satoshi.
        var inputs = new List<(ContributedInput Input, PrivateKey[] Keys)> { (Coin(Alice, 1_000_000), [Alice]) };
        for (int i = 0; i < count; i++)
        {
            string k = kind == "mixed" ? new[] { "p2pkh", "pushdrop", "multisig" }[i % 3] : kind;
            inputs.Add(k switch
            {
                "p2pkh" => (Coin(Alice), [Alice]),
                "pushdrop" => (Tokens(Alice, 50, out _, 50)[0], [Alice]),
                _ => (Output(new TxOutput(100_000, EscrowTemplate.EscrowLock(Alice.PublicKey, Bob.PublicKey, Carol.PublicKey))),
                    [Alice, Carol]),
            });
        }

        // Token coins go back to their owner, so the transaction is one tm_tokens would admit too.
        TxOutput[] outputs = [.. inputs.Select(i => TokenTopicManager.Read(i.Input.Source.LockingScript, i.Input.OutPoint))
            .OfType<Token>().Select(t => Token(Alice, t.AssetId, t.Amount)), Pay(Bob, 2_000)];
        Contribution contribution = SessionRun.Contribution("alice", Alice, [.. inputs.Select(i => i.Input)], outputs);
        Dictionary<int, PrivateKey[]> keys = inputs.Select((i, n) => (n, i.Keys)).ToDictionary(p => p.n, p => p.Keys);

        AssembledSession assembled = SessionAssembler.Assemble(Setup, [contribution], rate);
        Transaction signed = SessionSigning.WithUnlocking(assembled.Unsigned, Signer.UnlockAll(assembled, i => keys[i.Index]));

        for (int i = 0; i < signed.Inputs.Count; i++)
        {
            ScriptResult result = Spend.Validate(signed, i, SourceOf(assembled.Inputs[i]));
            result.IsSuccess.Should().BeTrue(result.ToString());
        }

        SessionAssembler.FeeFor(signed.Size, rate).Should().BeLessThanOrEqualTo(assembled.Fee);
        byte[] beef = SessionSigning.AtomicBeef(signed, contribution.Inputs);
        SpvResult spv = await new SpvVerifier(Tracker()).VerifyAsync(beef);
        spv.IsValid.Should().BeTrue(spv.Error);
    }

    /// <summary>Each party's fee share: what it brought less its outputs and its change (the last outputs, in party order).</summary>
    private static ulong[] Shares(AssembledSession assembled, params Contribution[] contributions)
    {
        IReadOnlyList<TxOutput> outputs = assembled.Unsigned.Outputs;
        ulong ChangeOf(int i) => outputs[outputs.Count - contributions.Length + i].Satoshis;
        return [.. contributions.Select((c, i) => c.InputSatoshis() - c.OutputSatoshis() - ChangeOf(i))];
    }
}
