using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Spv;

public class SpvVerifierTests
{
    private static async Task<SpvResult> Verify(TestChain chain, Beef beef, SpvOptions? options = null, uint? tip = null) =>
        await new SpvVerifier(chain.Tracker(tip), options).VerifyAsync(beef.ToBytes());

    [Fact]
    public async Task A_signed_chain_on_a_confirmed_root_is_valid_in_every_version()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000, 5_000);
        Transaction a = chain.Spend([(funding, 0), (funding, 1)], 14_000);
        Transaction b = chain.Spend([(a, 0)], 13_000);
        var beef = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a), BeefTx.FromTransaction(b)]);
        var verifier = new SpvVerifier(chain.Tracker());

        foreach (byte[] bytes in new[] { beef.ToBytes(BeefVersion.V1), beef.ToBytes(BeefVersion.V2), beef.ToAtomicBytes(b.Id) })
        {
            SpvResult result = await verifier.VerifyAsync(bytes);
            result.IsValid.Should().BeTrue(result.ToString());
            result.TxId.Should().Be(b.Id);
        }
    }

    [Fact]
    public async Task An_unmined_ancestor_coming_back_in_its_descendants_BEEF_has_its_signatures_verified_once()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000, 5_000);
        Transaction a = chain.Spend([(funding, 0), (funding, 1)], 14_000);
        Transaction b = chain.Spend([(a, 0)], 13_000);
        var backend = new Transactions.CountingSecp256k1(Atomic.Bsv.Primitives.Secp256k1.Secp256k1Backends.Managed);
        var options = new SpvOptions { Secp256k1 = backend, Signatures = new SignatureCache(1024) };

        (await Verify(chain, new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a)]), options)).IsValid.Should().BeTrue();
        backend.Verifications.Should().Be(2);
        (await Verify(chain, new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a), BeefTx.FromTransaction(b)]), options)).IsValid.Should().BeTrue();
        backend.Verifications.Should().Be(3, "a's two inputs were verified with the first BEEF; only b's is new");

        (await Verify(chain, new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a), BeefTx.FromTransaction(b)]), options with { Signatures = null })).IsValid.Should().BeTrue();
        backend.Verifications.Should().Be(6, "without a cache every input is verified");
        SpvOptions.Default.Signatures.Should().BeSameAs(SignatureCache.Shared, "SPV remembers by default");
    }

    [Fact]
    public async Task An_unknown_root_is_SPV_ROOT_UNKNOWN()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000);
        Transaction a = chain.Spend([(funding, 0)], 9_000);
        var other = new TestChain(2000); // knows no root at height 1000
        SpvResult result = await Verify(other, new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a)]));
        result.Code.Should().Be(ReasonCodes.SpvRootUnknown);
        result.FailingTxId.Should().Be(funding.Id);
    }

    [Fact]
    public async Task A_tampered_signature_is_SCRIPT_FAILED_naming_the_transaction_and_input()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000, 5_000);
        Transaction a = chain.Spend([(funding, 0), (funding, 1)], 14_000);
        byte[] script = a.Inputs[1].UnlockingScript.ToBytes();
        script[10] ^= 1; // inside the signature's r value
        var tampered = new Transaction(a.Version, [a.Inputs[0], a.Inputs[1] with { UnlockingScript = new Script(script) }], a.Outputs, a.LockTime);

        SpvResult result = await Verify(chain, new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(tampered)]));
        result.Code.Should().Be(ReasonCodes.ScriptFailed);
        result.FailingTxId.Should().Be(tampered.Id);
        result.FailingInput.Should().Be(1);
        result.Script!.ErrorName.Should().NotBe("OK");
    }

    [Fact]
    public async Task Spending_more_than_the_inputs_is_OVERSPEND()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000);
        Transaction a = chain.Spend([(funding, 0)], 10_001);
        SpvResult result = await Verify(chain, new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a)]));
        result.Code.Should().Be(ReasonCodes.Overspend);
        result.FailingTxId.Should().Be(a.Id);
    }

    [Fact]
    public async Task A_fee_below_the_policy_is_FEE_TOO_LOW_and_accepted_without_a_policy()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000);
        Transaction a = chain.Spend([(funding, 0)], 9_990); // 10 satoshis for ~191 bytes
        var beef = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a)]);
        (await Verify(chain, beef)).IsValid.Should().BeTrue();
        (await Verify(chain, beef, new SpvOptions { MinFeeRatePerKb = 100 })).Code.Should().Be(ReasonCodes.FeeTooLow);
        (await Verify(chain, beef, new SpvOptions { MinFeeRatePerKb = 50 })).IsValid.Should().BeTrue();
    }

    [Theory]
    [InlineData(1098u, false)] // tip + 1 - 1000 = 99 confirmations at the next block
    [InlineData(1099u, true)] // 100 confirmations: mature
    [InlineData(5000u, true)] // long mature (the reference rejects this case: its check is inverted)
    public async Task Coinbase_outputs_are_spendable_after_100_confirmations(uint tip, bool valid)
    {
        var chain = new TestChain();
        (Transaction coinbase, MerklePath proof) = chain.MinedCoinbase(1000, 50_000);
        Transaction a = chain.Spend([(coinbase, 0)], 49_000);
        SpvResult result = await Verify(chain, new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(coinbase, 0), BeefTx.FromTransaction(a)]), tip: tip);
        result.IsValid.Should().Be(valid, result.ToString());
        if (!valid)
        {
            result.Code.Should().Be(ReasonCodes.SpvCoinbaseImmature);
        }
    }

    [Fact]
    public async Task A_proven_subject_needs_only_its_root()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000);
        (await Verify(chain, new Beef(BeefVersion.V1, [proof], [BeefTx.FromTransaction(funding, 0)]))).IsValid.Should().BeTrue();
    }

    [Fact]
    public async Task Malformed_bytes_give_a_result_with_the_reason_code_not_an_exception()
    {
        var verifier = new SpvVerifier(new TestChain().Tracker());
        SpvResult result = await verifier.VerifyAsync(Hex.Decode("0200beef01"));
        result.IsValid.Should().BeFalse();
        result.Code.Should().Be(ReasonCodes.BeefTruncated);
        result.Error.Should().StartWith("BEEF_TRUNCATED: ");
    }

    [Fact]
    public async Task Many_inputs_verified_in_parallel_give_the_same_verdict_as_serially()
    {
        var chain = new TestChain();
        ulong[] amounts = Enumerable.Repeat(1_000UL, 24).ToArray();
        (Transaction funding, MerklePath proof) = chain.Funding(amounts);
        Transaction a = chain.Spend(Enumerable.Range(0, 24).Select(i => (funding, (uint)i)).ToList(), 23_000);
        var beef = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a)]);
        (await Verify(chain, beef, new SpvOptions { MaxDegreeOfParallelism = 4 })).IsValid.Should().BeTrue();
        (await Verify(chain, beef, new SpvOptions { MaxDegreeOfParallelism = 1 })).IsValid.Should().BeTrue();
    }
}
