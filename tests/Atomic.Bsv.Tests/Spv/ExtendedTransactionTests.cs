using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Spv;

public class ExtendedTransactionTests
{
    [Fact]
    public void The_EF_of_a_BEEF_subject_carries_each_source_amount_and_script_and_round_trips()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000, 5_000);
        Transaction a = chain.Spend([(funding, 0), (funding, 1)], 14_000);
        var beef = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a)]);

        ExtendedTransaction ef = ExtendedTransaction.FromBeef(beef);
        byte[] bytes = ef.ToBytes();
        Hex.Encode(bytes.AsSpan(4, 6)).Should().Be("0000000000ef");
        ExtendedTransaction.IsExtendedFormat(bytes).Should().BeTrue();
        ExtendedTransaction.IsExtendedFormat(a.ToBytes()).Should().BeFalse();

        ExtendedTransaction parsed = ExtendedTransaction.FromBytes(bytes);
        parsed.Transaction.Id.Should().Be(a.Id);
        parsed.SourceOutputs.Select(o => o.Satoshis).Should().Equal(10_000UL, 5_000UL);
        parsed.SourceOutputs[0].LockingScript.Should().Be(funding.Outputs[0].LockingScript);
        parsed.ToHex().Should().Be(ef.ToHex());
        // Previous satoshis are 8 bytes (BRC-30), right after each input's sequence.
        bytes.Length.Should().Be(a.Size + 6 + (2 * (8 + 1 + 25)));
    }

    [Fact]
    public void Every_truncation_of_an_EF_transaction_is_rejected()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000);
        Transaction a = chain.Spend([(funding, 0)], 9_000);
        byte[] bytes = ExtendedTransaction.FromBeef(new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a)])).ToBytes();
        for (int length = 0; length < bytes.Length; length++)
        {
            FluentActions.Invoking(() => ExtendedTransaction.FromBytes(bytes.AsSpan(0, length))).Should().Throw<BsvFormatException>();
        }
    }

    [Fact]
    public void A_BEEF_without_the_parent_cannot_give_an_EF()
    {
        var chain = new TestChain();
        (Transaction funding, _) = chain.Funding(10_000);
        Transaction a = chain.Spend([(funding, 0)], 9_000);
        FluentActions.Invoking(() => ExtendedTransaction.FromBeef(new Beef(BeefVersion.V2, [], [BeefTx.FromTransaction(a)])))
            .Should().Throw<BsvFormatException>().Where(e => e.Code == ReasonCodes.BeefMissingInput);
    }
}
