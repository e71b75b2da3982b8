using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Sessions.Templates;
using static Atomic.Sessions.Tests.TestLedger;

namespace Atomic.Sessions.Tests;

public sealed class BridgeTemplateTests
{
    private static readonly byte[] Secret = Hex.Decode("5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7");

    private static readonly byte[] H = Hashes.Sha256(Secret);

    private static readonly string Terms = $$"""{"initiator": "alice", "counterparty": "bob", "satoshis": 40000, "hash": "{{Hex.Encode(H)}}"}""";

    private static readonly TxOutput IntoLock = new(40_000, BridgeTemplate.HashLock(H, Alice.PublicKey, Bob.PublicKey));

    /// <summary>2026-12-03T12:00:00Z: a time lock (500,000,000 and above), as a bridge's refund has.</summary>
    private const uint LockTime = 1_796_299_200;

    private readonly BridgeTemplate _bridge = new();

    private static SessionSetup Setup(string terms) =>
        SessionRun.Setup(BridgeTemplate.TemplateName, terms, ("alice", Alice), ("bob", Bob));

    [Fact]
    public void The_hash_lock_has_a_claim_branch_with_the_secret_and_a_2_of_2_branch()
    {
        byte[] script = BridgeTemplate.HashLock(H, Alice.PublicKey, Bob.PublicKey).ToBytes();

        script.Should().Equal(
        [
            0x63, 0x82, 0x01, 0x20, 0x88, 0xa8, 0x20, .. H, 0x88, 33, .. Bob.PublicKey.ToBytes(), 0xac,
            0x67, 0x52, 33, .. Alice.PublicKey.ToBytes(), 33, .. Bob.PublicKey.ToBytes(), 0x52, 0xae, 0x68,
        ]);
        Script.FromBytes(script).ToAsm().Should().StartWith("OP_IF OP_SIZE 20 OP_EQUALVERIFY OP_SHA256", "32 is pushed as the byte 0x20");
    }

    [Fact]
    public void Terms_naming_two_parties_an_amount_and_a_digest_are_accepted()
    {
        _bridge.CheckTerms(Setup(Terms)).Should().Be(SessionCheck.Ok);
        _bridge.Topics(Setup(Terms)).Should().BeEmpty();
        BridgeTemplate.Roles(Setup(Terms)).Should().Be(("alice", "bob"));
        BridgeTemplate.LockOutput(Setup(Terms)).Should().Be(IntoLock);
    }

    [Theory]
    [InlineData("initiator", null, "terms.initiator is required")]
    [InlineData("counterparty", "\"mallory\"", "terms.counterparty names 'mallory', who is not a party")]
    [InlineData("counterparty", "\"alice\"", "two different parties")]
    [InlineData("satoshis", "0", "terms.satoshis must be a whole number above zero")]
    [InlineData("satoshis", null, "terms.satoshis is required")]
    [InlineData("hash", null, "terms.hash is required")]
    [InlineData("hash", "\"abcd\"", "terms.hash must be a SHA-256 digest in 64 hex digits")]
    [InlineData("hash", "\"zz00000000000000000000000000000000000000000000000000000000000000\"", "terms.hash must be a SHA-256 digest")]
    public void Bad_terms_are_refused(string path, string? value, string reason) =>
        _bridge.CheckTerms(Setup(SessionRun.Mutate(Terms, path, value))).ShouldRefuse(SessionCodes.TermsInvalid, reason);

    [Fact]
    public void A_third_party_or_a_shared_identity_key_is_refused()
    {
        _bridge.CheckTerms(SessionRun.Setup(BridgeTemplate.TemplateName, Terms, ("alice", Alice), ("bob", Bob), ("carol", Carol)))
            .ShouldRefuse(SessionCodes.TermsInvalid, "a bridge has two parties");
        _bridge.CheckTerms(SessionRun.Setup(BridgeTemplate.TemplateName, Terms, ("alice", Alice), ("bob", Alice)))
            .ShouldRefuse(SessionCodes.TermsInvalid, "different identity keys");
    }

    [Fact]
    public void The_initiator_locking_exactly_the_satoshis_is_accepted_and_anything_else_refused()
    {
        SessionSetup setup = Setup(Terms);
        var otherHash = new TxOutput(40_000, BridgeTemplate.HashLock(Hashes.Sha256(H), Alice.PublicKey, Bob.PublicKey));
        var swapped = new TxOutput(40_000, BridgeTemplate.HashLock(H, Bob.PublicKey, Alice.PublicKey));

        _bridge.CheckContribution(setup, [], Initiator(IntoLock)).Should().Be(SessionCheck.Ok);
        _bridge.CheckContribution(setup, [], Initiator(IntoLock, Pay(Alice, 500))).Should().Be(SessionCheck.Ok);
        foreach (TxOutput wrong in new[] { new TxOutput(39_999, IntoLock.LockingScript), otherHash, swapped, Pay(Bob, 40_000) })
        {
            _bridge.CheckContribution(setup, [], Initiator(wrong))
                .ShouldRefuse(SessionCodes.ContributionInvalid, "alice gives no output of exactly terms.satoshis, 40000 satoshis, locked by");
        }

        _bridge.CheckContribution(setup, [], Initiator(IntoLock, Pay(Bob, 1_000)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "output 1 of alice pays 1000 satoshis to bob's identity key");
    }

    [Fact]
    public void The_counterparty_brings_nothing_but_its_claim_script()
    {
        SessionSetup setup = Setup(Terms);

        _bridge.CheckContribution(setup, [], Counterparty()).Should().Be(SessionCheck.Ok);
        _bridge.CheckContribution(setup, [], SessionRun.Contribution("bob", Bob, [Coin(Bob)]))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "bob brings nothing to the bridge's funding");
        _bridge.CheckContribution(setup, [], SessionRun.Contribution("bob", Bob, [], Pay(Bob, 1)))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "no inputs and no outputs");
        _bridge.CheckContribution(setup, [], SessionRun.Contribution("carol", Carol, []))
            .ShouldRefuse(SessionCodes.ContributionInvalid, "'carol' is not a party of this bridge");
    }

    [Fact]
    public void The_bridge_is_complete_with_both_contributions()
    {
        _bridge.IsComplete(Setup(Terms), [Initiator(IntoLock)]).Should().BeFalse();
        _bridge.IsComplete(Setup(Terms), [Counterparty()]).Should().BeFalse();
        _bridge.IsComplete(Setup(Terms), [Counterparty(), Initiator(IntoLock)]).Should().BeTrue();
    }

    [Fact]
    public async Task The_refund_is_time_locked_and_spends_the_lock_with_both_signatures()
    {
        (Transaction funding, BridgeSpends spends) = await FundAsync();
        Transaction refund = spends.Refund;

        spends.Lock.Should().Be(new OutPoint(funding.Id, (uint)funding.Outputs.ToList().IndexOf(IntoLock)));
        refund.LockTime.Should().Be(LockTime);
        refund.Inputs.Should().ContainSingle().Which.Should().Match<TxInput>(i => i.PrevOut == spends.Lock && i.Sequence == 0xffff_fffe);
        refund.Outputs.Should().ContainSingle().Which.LockingScript.Should().Be(P2pkh(Alice), "the refund pays the initiator's change script");

        byte[] byAlice = Signer.Signature(refund, 0, IntoLock, Alice);
        byte[] byBob = Signer.Signature(refund, 0, IntoLock, Bob);
        SessionSigning.CheckSignature(refund, 0, IntoLock, Alice.PublicKey, byAlice).Should().Be(SessionCheck.Ok);
        SessionSigning.CheckSignature(refund, 0, IntoLock, Bob.PublicKey, byBob).Should().Be(SessionCheck.Ok);
        SessionSigning.CheckSignature(refund, 0, IntoLock, Bob.PublicKey, byAlice).ShouldRefuse(SessionCodes.SignatureInvalid, "does not verify");

        Transaction signed = SessionSigning.WithUnlocking(refund, [(0, BridgeTemplate.RefundUnlocking(byAlice, byBob))]);
        Spend.Validate(signed, 0, IntoLock).IsSuccess.Should().BeTrue(Spend.Validate(signed, 0, IntoLock).ToString());
        FeeOf(signed).Should().BeGreaterThanOrEqualTo(SessionAssembler.FeeFor(signed.Size, SessionRun.Rate), "the estimate never underpays");

        Transaction swappedOrder = SessionSigning.WithUnlocking(refund, [(0, BridgeTemplate.RefundUnlocking(byBob, byAlice))]);
        Transaction aliceTwice = SessionSigning.WithUnlocking(refund, [(0, BridgeTemplate.RefundUnlocking(byAlice, byAlice))]);
        Spend.Validate(swappedOrder, 0, IntoLock).IsSuccess.Should().BeFalse("the signatures go in the keys' order");
        Spend.Validate(aliceTwice, 0, IntoLock).IsSuccess.Should().BeFalse("the initiator alone cannot take the lock back");
    }

    [Fact]
    public async Task The_claim_spends_the_lock_with_the_secret_and_the_counterpartys_signature_only()
    {
        (_, BridgeSpends spends) = await FundAsync();
        Transaction claim = spends.Claim;
        claim.LockTime.Should().Be(0u);
        claim.Inputs.Should().ContainSingle().Which.Sequence.Should().Be(TxInput.FinalSequence);
        claim.Outputs.Should().ContainSingle().Which.LockingScript.Should().Be(P2pkh(Bob), "the claim pays the counterparty's change script");

        byte[] byBob = Signer.Signature(claim, 0, IntoLock, Bob);
        SessionSigning.CheckSignature(claim, 0, IntoLock, Bob.PublicKey, byBob).Should().Be(SessionCheck.Ok);
        ScriptResult right = Validate(claim, BridgeTemplate.ClaimUnlocking(byBob, Secret));
        right.IsSuccess.Should().BeTrue(right.ToString());
        Transaction signed = SessionSigning.WithUnlocking(claim, [(0, BridgeTemplate.ClaimUnlocking(byBob, Secret))]);
        FeeOf(signed).Should().BeGreaterThanOrEqualTo(SessionAssembler.FeeFor(signed.Size, SessionRun.Rate), "the estimate never underpays");

        byte[] wrongSecret = [.. Secret];
        wrongSecret[0] ^= 1;
        Validate(claim, BridgeTemplate.ClaimUnlocking(byBob, wrongSecret)).Error.Should().Be(ScriptError.EqualVerify);
        Validate(claim, BridgeTemplate.ClaimUnlocking(byBob, [.. Secret, 0])).Error.Should().Be(ScriptError.EqualVerify, "a 33-byte secret fails OP_SIZE");
        Validate(claim, BridgeTemplate.ClaimUnlocking(Signer.Signature(claim, 0, IntoLock, Alice), Secret)).IsSuccess
            .Should().BeFalse("only the counterparty claims");
        Validate(claim, BridgeTemplate.ClaimUnlocking(Signer.Signature(spends.Refund, 0, IntoLock, Bob), Secret)).IsSuccess
            .Should().BeFalse("a signature of the refund does not sign the claim");
    }

    [Fact]
    public void A_signature_that_is_not_SIGHASH_ALL_FORKID_or_not_strict_is_refused()
    {
        var tx = new Transaction(1, [new TxInput(new OutPoint(Hash256.Zero, 0), Script.Empty)], [Pay(Bob, 1)], 0);
        byte[] single = Signer.Signature(tx, 0, IntoLock, Bob, SigHashType.Single | SigHashType.ForkId);
        byte[] good = Signer.Signature(tx, 0, IntoLock, Bob);

        SessionSigning.CheckSignature(tx, 0, IntoLock, Bob.PublicKey, good).Should().Be(SessionCheck.Ok);
        SessionSigning.CheckSignature(tx, 0, IntoLock, Bob.PublicKey, single).ShouldRefuse(SessionCodes.SignatureInvalid, "SIGHASH_ALL|FORKID");
        SessionSigning.CheckSignature(tx, 0, IntoLock, Bob.PublicKey, [.. good[..^2], 0x41])
            .ShouldRefuse(SessionCodes.SignatureInvalid, "strict DER");
    }

    [Fact]
    public void Only_the_32_byte_secret_of_the_hash_is_a_preimage()
    {
        BridgeTemplate.CheckPreimage(Setup(Terms), Secret).Should().Be(SessionCheck.Ok);
        BridgeTemplate.CheckPreimage(Setup(Terms), H).ShouldRefuse(SessionCodes.BadPreimage, "SHA-256 of the preimage is not terms.hash");
        BridgeTemplate.CheckPreimage(Setup(Terms), Secret[..31]).ShouldRefuse(SessionCodes.BadPreimage, "32 bytes, not 31");
    }

    [Fact]
    public void The_lock_time_is_the_deadline_in_Unix_seconds_rounded_up()
    {
        DateTimeOffset whole = DateTimeOffset.FromUnixTimeSeconds(LockTime);

        BridgeTemplate.LockTimeOf(whole).Should().Be(LockTime);
        BridgeTemplate.LockTimeOf(whole.AddMilliseconds(1)).Should().Be(LockTime + 1);
        BridgeTemplate.LockTimeOf(whole.AddMilliseconds(-999)).Should().Be(LockTime);
        ((Action)(() => BridgeTemplate.LockTimeOf(new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero))))
            .ShouldThrow(SessionCodes.TermsInvalid, "cannot be an nLockTime");
    }

    [Fact]
    public async Task A_lock_too_small_to_pay_a_spends_fee_is_refused()
    {
        string tiny = SessionRun.Mutate(Terms, "satoshis", "100");
        var intoTinyLock = new TxOutput(100, IntoLock.LockingScript);
        (_, Transaction funding, _) = await SessionRun.FinishAsync(
            _bridge, Setup(tiny), [Initiator(intoTinyLock), Counterparty()], _ => [Alice]);

        ((Action)(() => BridgeTemplate.Spends(Setup(tiny), [Initiator(intoTinyLock), Counterparty()], funding, SessionRun.Rate, LockTime)))
            .ShouldThrow(SessionCodes.InsufficientFunds, "do not pay the refund's fee");
    }

    /// <summary>The funding session, finished, and the spends of its lock.</summary>
    private async Task<(Transaction Funding, BridgeSpends Spends)> FundAsync()
    {
        SessionSetup setup = Setup(Terms);
        Contribution[] contributions = [Counterparty(), Initiator(IntoLock)];
        (_, Transaction funding, _) = await SessionRun.FinishAsync(_bridge, setup, contributions, _ => [Alice]);
        return (funding, BridgeTemplate.Spends(setup, contributions, funding, SessionRun.Rate, LockTime));
    }

    private static ScriptResult Validate(Transaction spend, Script unlocking) =>
        Spend.Validate(SessionSigning.WithUnlocking(spend, [(0, unlocking)]), 0, IntoLock);

    private static ulong FeeOf(Transaction spend) => IntoLock.Satoshis - spend.Outputs[0].Satoshis;

    private static Contribution Initiator(params TxOutput[] outputs) => SessionRun.Contribution("alice", Alice, [Coin(Alice)], outputs);

    private static Contribution Counterparty() => SessionRun.Contribution("bob", Bob, []);
}
