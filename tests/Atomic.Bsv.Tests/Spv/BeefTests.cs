using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Spv;

public class BeefTests
{
    /// <summary>Funding (proven) ← a ← b, all paying to one key.</summary>
    private static (TestChain Chain, Beef Beef, Transaction Funding, Transaction A, Transaction B) Chain()
    {
        var chain = new TestChain();
        (Transaction funding, MerklePath proof) = chain.Funding(10_000, 5_000);
        Transaction a = chain.Spend([(funding, 0), (funding, 1)], 14_000);
        Transaction b = chain.Spend([(a, 0)], 13_500);
        var beef = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(a), BeefTx.FromTransaction(b)]);
        return (chain, beef, funding, a, b);
    }

    [Theory]
    [InlineData(BeefVersion.V1, "0100beef")]
    [InlineData(BeefVersion.V2, "0200beef")]
    public void Each_version_round_trips_with_its_wire_prefix(BeefVersion version, string prefix)
    {
        (_, Beef beef, _, _, Transaction b) = Chain();
        string hex = beef.ToHex(version);
        hex.Should().StartWith(prefix);
        Beef parsed = Beef.FromHex(hex);
        parsed.Version.Should().Be(version);
        parsed.ToHex().Should().Be(hex);
        parsed.SubjectTxId.Should().Be(b.Id);
        parsed.IsValid().Should().BeTrue();
    }

    [Fact]
    public void A_large_BEEF_read_from_memory_keeps_serialized_entries_that_parse_and_write_back_identically()
    {
        (_, Beef beef, _, Transaction a, Transaction b) = Chain();
        byte[] bytes = beef.ToBytes();
        Beef lean = Beef.FromMemory(bytes, new BeefLimits { SerializedTransactionsFrom = 0 });
        lean.Transactions.Select(t => t.TxId).Should().Equal(beef.Transactions.Select(t => t.TxId));
        lean.Find(b.Id)!.Transaction!.Id.Should().Be(b.Id);
        lean.Find(a.Id)!.Transaction!.Outputs.Should().Equal(a.Outputs);
        lean.IsValid().Should().BeTrue();
        lean.ToBytes().Should().Equal(bytes);
        Beef.FromBytes(lean.ToAtomicBytes(a.Id)).Transactions.Should().HaveCount(2);
    }

    [Fact]
    public void Atomic_BEEF_stores_the_subject_txid_in_internal_byte_order()
    {
        (_, Beef beef, _, Transaction a, _) = Chain();
        byte[] atomic = beef.ToAtomicBytes(a.Id);
        Hex.Encode(atomic.AsSpan(0, 4)).Should().Be("01010101");
        atomic.AsSpan(4, 32).ToArray().Should().Equal(a.Id.ToInternalBytes());

        Beef parsed = Beef.FromBytes(atomic);
        parsed.AtomicTxId.Should().Be(a.Id);
        parsed.Transactions.Should().HaveCount(2, "the Atomic BEEF of a holds a and its proven parent only");
        parsed.IsValid().Should().BeTrue();
    }

    [Fact]
    public void Atomic_BEEF_with_a_transaction_outside_the_subject_ancestry_is_rejected()
    {
        (_, Beef beef, _, Transaction a, _) = Chain();
        byte[] notAtomic = beef.ToBytes(BeefVersion.V2, atomic: false);
        byte[] forged = [.. Hex.Decode("01010101"), .. a.Id.ToInternalBytes(), .. notAtomic];
        Code(() => Beef.FromBytes(forged).Validate()).Should().Be(ReasonCodes.BeefNotAtomic);
    }

    [Fact]
    public void A_missing_parent_is_BEEF_MISSING_INPUT()
    {
        (_, Beef beef, Transaction funding, _, Transaction b) = Chain();
        var without = new Beef(BeefVersion.V2, beef.Bumps, [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(b)]);
        Code(() => without.Validate()).Should().Be(ReasonCodes.BeefMissingInput);
    }

    [Fact]
    public void A_BUMP_index_out_of_range_or_not_proving_its_transaction_is_BEEF_BAD_BUMP_INDEX()
    {
        (_, Beef beef, Transaction funding, Transaction a, _) = Chain();
        Code(() => new Beef(BeefVersion.V2, beef.Bumps, [BeefTx.FromTransaction(funding, 1)]).Validate()).Should().Be(ReasonCodes.BeefBadBumpIndex);
        Code(() => new Beef(BeefVersion.V2, beef.Bumps, [BeefTx.FromTransaction(a, 0)]).Validate()).Should().Be(ReasonCodes.BeefBadBumpIndex);
    }

    [Fact]
    public void A_duplicate_transaction_is_BEEF_MALFORMED()
    {
        (_, Beef beef, Transaction funding, _, _) = Chain();
        Code(() => new Beef(BeefVersion.V2, beef.Bumps, [BeefTx.FromTransaction(funding, 0), BeefTx.FromTransaction(funding, 0)]).Validate())
            .Should().Be(ReasonCodes.BeefMalformed);
    }

    [Fact]
    public void Txid_only_entries_round_trip_in_V2_and_are_refused_by_V1()
    {
        (_, Beef beef, Transaction funding, Transaction a, _) = Chain();
        var partial = new Beef(BeefVersion.V2, [], [BeefTx.FromTxId(funding.Id), BeefTx.FromTransaction(a)]);
        Beef parsed = Beef.FromBytes(partial.ToBytes());
        parsed.Transactions[0].IsTxIdOnly.Should().BeTrue();
        parsed.IsValid(allowTxIdOnly: true).Should().BeTrue();
        Code(() => parsed.Validate()).Should().Be(ReasonCodes.BeefMissingInput);
        FluentActions.Invoking(() => partial.ToBytes(BeefVersion.V1)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Transactions_out_of_order_are_sorted_parents_first()
    {
        (_, Beef beef, Transaction funding, Transaction a, Transaction b) = Chain();
        var shuffled = new Beef(BeefVersion.V1, beef.Bumps, [BeefTx.FromTransaction(b), BeefTx.FromTransaction(a), BeefTx.FromTransaction(funding, 0)]);
        shuffled.Validate();
        shuffled.SortTopologically();
        shuffled.Transactions.Select(t => t.TxId).Should().Equal(funding.Id, a.Id, b.Id);
    }

    [Fact]
    public void Merging_two_BEEFs_combines_BUMPs_of_one_block_and_deduplicates_transactions()
    {
        (_, Beef beef, Transaction funding, Transaction a, Transaction b) = Chain();
        Beef first = Beef.FromBytes(beef.ToAtomicBytes(a.Id));
        Beef second = Beef.FromBytes(beef.ToAtomicBytes(b.Id));
        var merged = new Beef(BeefVersion.V2);
        merged.Merge(first);
        merged.Merge(second);
        merged.Bumps.Should().HaveCount(1);
        merged.Transactions.Select(t => t.TxId).Should().Equal(funding.Id, a.Id, b.Id);
        merged.IsValid().Should().BeTrue();
    }

    [Fact]
    public void Converting_between_versions_keeps_every_transaction_and_proof()
    {
        (_, Beef beef, _, _, _) = Chain();
        Beef v1 = Beef.FromBytes(beef.ConvertTo(BeefVersion.V1).ToBytes());
        v1.Version.Should().Be(BeefVersion.V1);
        Beef back = Beef.FromBytes(v1.ConvertTo(BeefVersion.V2).ToBytes());
        back.ToHex().Should().Be(beef.ToHex());
    }

    [Theory]
    [InlineData("", "BEEF_TRUNCATED")]
    [InlineData("0100be", "BEEF_TRUNCATED")]
    [InlineData("0100beff00", "BEEF_MALFORMED")] // the reference's bad-prefix case
    [InlineData("0200beef00ffffffffffffffffff", "LIMIT_EXCEEDED")] // absurd transaction count
    [InlineData("0200beeffe00000100", "BEEF_TRUNCATED")] // 65536 BUMPs declared, none present
    [InlineData("0200beef0001030000000000000000000000000000000000000000000000000000000000000000", "BEEF_MALFORMED")] // unknown V2 entry format
    [InlineData("0100beef00fe41420f00", "LIMIT_EXCEEDED")] // 1,000,001 transactions
    [InlineData("0100beef00ff", "BEEF_TRUNCATED")] // 255 transactions declared, none present
    public void Malformed_BEEF_is_rejected_with_a_reason_code(string hex, string code) =>
        Code(() => Beef.FromHex(hex)).Should().Be(code);

    [Fact]
    public void Trailing_bytes_are_BEEF_MALFORMED()
    {
        (_, Beef beef, _, _, _) = Chain();
        Code(() => Beef.FromBytes([.. beef.ToBytes(), 0])).Should().Be(ReasonCodes.BeefMalformed);
    }

    [Fact]
    public void Every_truncation_of_a_valid_BEEF_is_rejected()
    {
        (_, Beef beef, _, _, _) = Chain();
        byte[] bytes = beef.ToBytes();
        for (int length = 0; length < bytes.Length; length++)
        {
            FluentActions.Invoking(() => Beef.FromBytes(bytes.AsSpan(0, length))).Should().Throw<BsvFormatException>($"prefix of {length} bytes");
        }
    }

    [Fact]
    public void The_reference_BEEF_from_the_sdk_tests_parses_validates_and_round_trips()
    {
        IReadOnlyList<string> beefs = SdkTestSource.ArrayStrings("transaction/__tests/Beef.test.ts", "beefs");
        beefs.Should().NotBeEmpty();
        var beef = Beef.FromHex(beefs[0]);
        beef.Validate();
        beef.ToHex().Should().Be(beefs[0]);
    }

    internal static string? Code(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (BsvFormatException e)
        {
            return e.Code;
        }
    }
}
