using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using static Atomic.Sessions.Tests.TestLedger;

namespace Atomic.Sessions.Tests;

public sealed class SessionSigningTests
{
    private static readonly SessionSetup Setup = new("test",
        [new Party("alice", Alice.PublicKey), new Party("bob", Bob.PublicKey)], JsonDocument.Parse("{}").RootElement.Clone());

    [Fact]
    public void ReadInput_gives_the_output_of_the_subject_and_its_BEEF()
    {
        ContributedInput coin = Coin(Alice, 12_345);
        byte[] bytes = coin.Beef.ToBytes();

        ContributedInput read = SessionSigning.ReadInput(bytes, 0);

        read.OutPoint.Should().Be(coin.OutPoint);
        read.Source.Should().Be(new TxOutput(12_345, P2pkh(Alice)));
        read.Beef.AtomicTxId.Should().Be(coin.OutPoint.TxId);
    }

    [Fact]
    public void ReadInput_refuses_a_BEEF_that_is_not_atomic()
    {
        byte[] plain = Coin(Alice).Beef.ToBytes(atomic: false);

        Action read = () => SessionSigning.ReadInput(plain, 0);

        read.ShouldThrow(SessionCodes.ContributionInvalid, "must be Atomic BEEF (BRC-95)");
    }

    [Fact]
    public void ReadInput_refuses_an_atomic_BEEF_without_its_subject()
    {
        Beef beef = Coin(Alice).Beef;
        byte[] bytes = new Beef(BeefVersion.V2, beef.Bumps, beef.Transactions, Coin(Bob).OutPoint.TxId).ToBytes();

        Action read = () => SessionSigning.ReadInput(bytes, 0);

        read.ShouldThrow(SessionCodes.ContributionInvalid, "does not hold its subject");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(long.MaxValue)]
    public void ReadInput_refuses_an_output_the_subject_does_not_have(long index)
    {
        byte[] bytes = Coin(Alice).Beef.ToBytes();

        Action read = () => SessionSigning.ReadInput(bytes, index);

        read.ShouldThrow(SessionCodes.ContributionInvalid, $"has 1 outputs, not an output {index}");
    }

    [Fact]
    public void ReadInput_throws_a_format_error_for_bytes_that_are_no_BEEF()
    {
        Action read = () => SessionSigning.ReadInput(new byte[] { 1, 2, 3 }, 0);

        read.Should().Throw<BsvFormatException>();
    }

    [Fact]
    public void Check_accepts_the_owners_signature()
    {
        (AssembledSession assembled, _) = Assembled();

        foreach (SessionInput input in assembled.Inputs)
        {
            Script unlocking = Signer.Unlock(assembled.Unsigned, input.Index, SourceOf(input), Alice);
            SessionSigning.Check(assembled.Unsigned, input, unlocking).IsSuccess.Should().BeTrue();
        }
    }

    [Fact]
    public void Check_refuses_a_signature_by_another_key()
    {
        (AssembledSession assembled, _) = Assembled();
        SessionInput p2pkh = assembled.Inputs[0];
        SessionInput token = assembled.Inputs[1];

        // Bob's signature and key on Alice's P2PKH coin, then Bob's signature with Alice's key.
        Script bobs = Signer.Unlock(assembled.Unsigned, 0, SourceOf(p2pkh), Bob);
        var w = new BsvWriter();
        Script.WritePushData(w, Signer.Signature(assembled.Unsigned, 0, SourceOf(p2pkh), Bob));
        Script.WritePushData(w, Alice.PublicKey.ToBytes());

        SessionSigning.Check(assembled.Unsigned, p2pkh, bobs).IsSuccess.Should().BeFalse();
        SessionSigning.Check(assembled.Unsigned, p2pkh, new Script(w.ToArray())).IsSuccess.Should().BeFalse();
        SessionSigning.Check(assembled.Unsigned, token, Signer.Unlock(assembled.Unsigned, 1, SourceOf(token), Bob)).IsSuccess
            .Should().BeFalse();
    }

    [Fact]
    public void Check_refuses_a_valid_signature_of_another_sighash_type_than_all_forkid()
    {
        (AssembledSession assembled, _) = Assembled();
        SessionInput input = assembled.Inputs[0];
        Script single = Unlocking(Signer.Signature(assembled.Unsigned, 0, SourceOf(input), Alice, SigHashType.Single | SigHashType.ForkId));

        ScriptResult result = SessionSigning.Check(assembled.Unsigned, input, single);
        result.IsSuccess.Should().BeFalse("SIGHASH_SINGLE would leave the other outputs unsigned");
        result.Error.Should().Be(ScriptError.SigHashtype);
    }

    [Fact]
    public void Check_refuses_a_signature_over_another_digest()
    {
        (AssembledSession assembled, _) = Assembled();
        SessionInput input = assembled.Inputs[0];
        TxOutput source = SourceOf(input);

        Script otherAmount = Unlocking(Signer.Signature(assembled.Unsigned, 0, source with { Satoshis = source.Satoshis + 1 }, Alice));
        Script otherInput = Unlocking(Signer.Signature(assembled.Unsigned, 1, source, Alice));
        Script noForkId = Unlocking(Signer.Signature(assembled.Unsigned, 0, source, Alice, SigHashType.All));
        var changed = new Transaction(1, assembled.Unsigned.Inputs, [.. assembled.Unsigned.Outputs, new TxOutput(1, P2pkh(Bob))], 0);
        Script otherTransaction = Unlocking(Signer.Signature(changed, 0, source, Alice));

        (string Digest, Script Unlocking)[] wrong =
        [
            ("another amount", otherAmount), ("another input", otherInput),
            ("no FORKID", noForkId), ("another transaction", otherTransaction),
        ];
        foreach ((string digest, Script unlocking) in wrong)
        {
            SessionSigning.Check(assembled.Unsigned, input, unlocking).IsSuccess.Should().BeFalse("the signature is over {0}", digest);
        }
    }

    [Fact]
    public void A_signed_request_verifies_with_the_parties_identity_key()
    {
        byte[] body = Encoding.UTF8.GetBytes("""{"inputs":[],"outputs":[]}""");

        string signature = SessionSigning.SignRequest(Alice, body);

        SessionSigning.VerifyRequest(Alice.PublicKey, body, signature).Should().BeTrue();
        SessionSigning.VerifyRequest(Alice.PublicKey, body, signature.ToUpperInvariant()).Should().BeTrue();
    }

    [Fact]
    public void A_tampered_body_or_another_key_fails_the_request_signature()
    {
        byte[] body = Encoding.UTF8.GetBytes("""{"price":1000}""");
        string signature = SessionSigning.SignRequest(Alice, body);

        SessionSigning.VerifyRequest(Alice.PublicKey, Encoding.UTF8.GetBytes("""{"price":1}"""), signature).Should().BeFalse();
        SessionSigning.VerifyRequest(Bob.PublicKey, body, signature).Should().BeFalse();
        SessionSigning.VerifyRequest(Alice.PublicKey, body, SessionSigning.SignRequest(Bob, body)).Should().BeFalse();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("zz")]
    [InlineData("abc")]
    [InlineData("00")]
    [InlineData("3006020101020101")]
    [InlineData("30440220")]
    public void A_request_signature_that_is_not_DER_hex_fails(string? signature) =>
        SessionSigning.VerifyRequest(Alice.PublicKey, "{}"u8, signature).Should().BeFalse();

    [Fact]
    public void A_request_signature_longer_than_any_DER_signature_fails()
    {
        string signature = SessionSigning.SignRequest(Alice, "{}"u8);

        SessionSigning.VerifyRequest(Alice.PublicKey, "{}"u8, signature + new string('0', 148 - signature.Length)).Should().BeFalse();
    }

    [Fact]
    public void The_atomic_BEEF_holds_the_signed_transaction_and_all_its_ancestry()
    {
        (AssembledSession assembled, Contribution[] contributions) = Assembled();
        Transaction signed = SessionSigning.WithUnlocking(assembled.Unsigned, Signer.UnlockAll(assembled, _ => [Alice]));

        byte[] bytes = SessionSigning.AtomicBeef(signed, contributions.SelectMany(c => c.Inputs));

        Beef beef = Beef.FromBytes(bytes);
        beef.AtomicTxId.Should().Be(signed.Id);
        beef.IsValid().Should().BeTrue();
        beef.Find(signed.Id)!.Transaction!.ToBytes().Should().Equal(signed.ToBytes());
        foreach (BeefTx ancestor in contributions.SelectMany(c => c.Inputs).SelectMany(i => i.Beef.Transactions))
        {
            BeefTx? held = beef.Find(ancestor.TxId);
            held.Should().NotBeNull();
            held!.IsProven.Should().Be(ancestor.IsProven);
        }

        int ancestry = contributions.SelectMany(c => c.Inputs).SelectMany(i => i.Beef.Transactions).Select(t => t.TxId).Distinct().Count();
        beef.Transactions.Should().HaveCount(ancestry + 1);
    }

    private static Script Unlocking(byte[] signature)
    {
        var w = new BsvWriter();
        Script.WritePushData(w, signature);
        Script.WritePushData(w, Alice.PublicKey.ToBytes());
        return new Script(w.ToArray());
    }

    /// <summary>Alice spends a P2PKH coin and a token coin (with an unproven parent chain); Bob brings a coin too.</summary>
    private static (AssembledSession Assembled, Contribution[] Contributions) Assembled()
    {
        IReadOnlyList<ContributedInput> tokens = Tokens(Alice, 10, out string assetId, 10);
        Contribution alice = SessionRun.Contribution("alice", Alice, [Coin(Alice), tokens[0]],
            new TxOutput(1, TokenTopicManager.Lock(Bob.PublicKey, assetId, 10)));
        Contribution bob = SessionRun.Contribution("bob", Alice, [Coin(Alice, 30_000)], new TxOutput(5_000, P2pkh(Alice)));
        return (SessionAssembler.Assemble(Setup, [alice, bob], SessionRun.Rate), [alice, bob]);
    }
}
