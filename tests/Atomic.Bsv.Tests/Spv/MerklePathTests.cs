using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;

namespace Atomic.Bsv.Tests.Spv;

public class MerklePathTests
{
    private const string SdkMerkleTests = "transaction/__tests/MerklePath.test.ts";

    private static string Brc74Hex => SdkTestSource.StringConstant(SdkMerkleTests, "BRC74Hex");

    private static Hash256 Brc74Root => Hash256.FromDisplayHex(SdkTestSource.StringConstant(SdkMerkleTests, "BRC74Root"));

    public static TheoryData<int> ValidBumps() => Indexes("transaction/__tests/bump.valid.vectors.ts");

    public static TheoryData<int> InvalidBumps() => Indexes("transaction/__tests/bump.invalid.vectors.ts");

    private static TheoryData<int> Indexes(string file)
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < SdkTestSource.FieldValues(file, "bump").Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Fact]
    public void The_BRC74_example_round_trips_and_proves_its_three_txids()
    {
        var path = MerklePath.FromHex(Brc74Hex);
        path.BlockHeight.Should().Be(813706);
        path.ToHex().Should().Be(Brc74Hex);
        foreach (string name in new[] { "BRC74TXID1", "BRC74TXID2", "BRC74TXID3" })
        {
            path.ComputeRoot(Hash256.FromDisplayHex(SdkTestSource.StringConstant(SdkMerkleTests, name))).Should().Be(Brc74Root, name);
        }
    }

    [Fact]
    public void The_JSON_form_round_trips()
    {
        var path = MerklePath.FromHex(Brc74Hex);
        string json = path.ToJson().ToJsonString();
        json.Should().Contain("\"blockHeight\":813706").And.Contain("\"duplicate\":true").And.Contain("\"txid\":true");
        MerklePath.FromJson(json).ToHex().Should().Be(Brc74Hex);
    }

    [Theory]
    [MemberData(nameof(ValidBumps))]
    public void Valid_bump_vector_parses_and_round_trips(int index)
    {
        string hex = SdkTestSource.FieldValues("transaction/__tests/bump.valid.vectors.ts", "bump")[index];
        MerklePath.FromHex(hex).ToHex().Should().Be(hex);
    }

    [Theory]
    [MemberData(nameof(InvalidBumps))]
    public void Invalid_bump_vector_is_rejected_with_the_reference_reason(int index)
    {
        const string file = "transaction/__tests/bump.invalid.vectors.ts";
        string hex = SdkTestSource.FieldValues(file, "bump")[index];
        string error = SdkTestSource.FieldValues(file, "error")[index];
        BsvFormatException e = FluentActions.Invoking(() => MerklePath.FromHex(hex)).Should().Throw<BsvFormatException>().Which;
        if (e.Code == ReasonCodes.BeefTruncated)
        {
            // @bsv/sdk's reader silently reads past the end, so it reports a later symptom; we stop at the end of the input.
            e.Offset.Should().Be(hex.Length / 2, $"the vector ends early (the reference says: {error})");
        }
        else
        {
            e.Code.Should().Be(ReasonCodes.BeefMalformed);
            e.Reason.Should().Be(error);
        }
    }

    [Fact]
    public void A_path_built_from_a_whole_block_gives_the_block_merkle_root()
    {
        IReadOnlyList<string> hashes = SdkTestSource.HashesIn(SdkMerkleTests, "BLOCK_125632");
        var root = Hash256.FromDisplayHex(hashes[0]);
        List<Hash256> txids = hashes.Skip(1).Select(Hash256.FromDisplayHex).ToList();
        txids.Should().HaveCountGreaterThan(2);

        MerklePath.ComputeBlockRoot(txids).Should().Be(root);
        foreach (Hash256 txid in txids)
        {
            MerklePath path = MerklePath.FromBlock(125632, txids, [txid]);
            path.ComputeRoot(txid).Should().Be(root);
            MerklePath.FromBytes(path.ToBytes()).ComputeRoot(txid).Should().Be(root);
        }
    }

    [Fact]
    public void Combining_paths_of_one_block_proves_both_txids_and_stays_trimmed()
    {
        List<Hash256> block = Enumerable.Range(1, 11).Select(i => Hash256.FromDisplayHex(i.ToString("x64"))).ToList();
        MerklePath a = MerklePath.FromBlock(7, block, [block[2]]);
        MerklePath b = MerklePath.FromBlock(7, block, [block[9]]);
        MerklePath both = a.Combine(b);
        both.Contains(block[2]).Should().BeTrue();
        both.Contains(block[9]).Should().BeTrue();
        both.ComputeRoot(block[9]).Should().Be(MerklePath.ComputeBlockRoot(block));
        both.ToHex().Should().Be(MerklePath.FromBlock(7, block, [block[2], block[9]]).ToHex());
    }

    [Fact]
    public void Combining_paths_of_different_blocks_is_refused()
    {
        List<Hash256> block = Enumerable.Range(1, 4).Select(i => Hash256.FromDisplayHex(i.ToString("x64"))).ToList();
        FluentActions.Invoking(() => MerklePath.FromBlock(1, block, [block[0]]).Combine(MerklePath.FromBlock(2, block, [block[1]])))
            .Should().Throw<MerklePathException>();
    }

    [Fact]
    public void A_txid_not_in_the_path_has_no_root()
    {
        var path = MerklePath.FromHex(Brc74Hex);
        FluentActions.Invoking(() => path.ComputeRoot(Hash256.FromDisplayHex(new string('1', 64)))).Should().Throw<MerklePathException>();
    }

    [Theory]
    [InlineData("fe8a6a0c00", "BEEF_TRUNCATED")] // height only
    [InlineData("fe8a6a0c0000", "BEEF_MALFORMED")] // tree height 0
    [InlineData("fe8a6a0c0041", "BEEF_MALFORMED")] // tree height 65
    [InlineData("fe8a6a0c0001fdffff", "BEEF_TRUNCATED")] // 65535 leaves declared, none present
    [InlineData("fe8a6a0c000101000401", "BEEF_MALFORMED")] // unknown flag bits
    public void Hostile_headers_are_rejected_before_allocation(string hex, string code) =>
        FluentActions.Invoking(() => MerklePath.FromHex(hex)).Should().Throw<BsvFormatException>().Where(e => e.Code == code);

    [Fact]
    public void A_single_level_path_of_a_large_block_validates_in_linear_time()
    {
        // Every txid of a 50,000-transaction block at level 0: validation must not recompute the tree per leaf.
        List<Hash256> block = Enumerable.Range(1, 50_000).Select(i => Hash256.FromDisplayHex(i.ToString("x64"))).ToList();
        var level0 = block.Select((h, i) => new MerklePathLeaf((ulong)i, h, true, false));
        var path = new MerklePath(9, [level0]);
        path.ComputeRoot(block[12345]).Should().Be(MerklePath.ComputeBlockRoot(block));
    }
}
