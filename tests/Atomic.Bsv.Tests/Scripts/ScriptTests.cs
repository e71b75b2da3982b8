using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;

namespace Atomic.Bsv.Tests.Scripts;

public class ScriptTests
{
    [Fact]
    public void FromNodeAsm_reads_names_numbers_strings_and_raw_hex()
    {
        Script s = Script.FromNodeAsm("DUP OP_HASH160 0x14 0x89abcdefabbaabbaabbaabbaabbaabbaabbaabba EQUALVERIFY CHECKSIG 'ab' 17 -1 0 1000");
        s.ToHex().Should().Be("76a91489abcdefabbaabbaabbaabbaabbaabbaabbaabba88ac" + "026162" + "0111" + "4f" + "00" + "02e803");
    }

    [Fact]
    public void FromNodeAsm_rejects_unknown_tokens() =>
        FluentActions.Invoking(() => Script.FromNodeAsm("DUP FROBNICATE")).Should().Throw<FormatException>().WithMessage("*FROBNICATE*");

    [Fact]
    public void FindAndDelete_removes_only_matches_on_operation_boundaries()
    {
        // The pattern 0x02 0x0102 appears once as an operation and once inside another push's data.
        byte[] script = Hex.Decode("0201020302010276");
        byte[] pattern = Hex.Decode("020102");
        Hex.Encode(Script.FindAndDelete(script, pattern)).Should().Be("0302010276");
    }

    [Fact]
    public void FindAndDelete_removes_repeated_adjacent_matches()
    {
        byte[] script = Hex.Decode("01aa01aa01aa76");
        Hex.Encode(Script.FindAndDelete(script, Hex.Decode("01aa"))).Should().Be("76");
    }

    [Fact]
    public void RemoveCodeSeparators_keeps_separator_bytes_inside_pushes()
    {
        byte[] script = Hex.Decode("ab01abac");
        Hex.Encode(Script.RemoveCodeSeparators(script)).Should().Be("01abac");
    }

    [Fact]
    public void ScriptReader_reports_a_truncated_push_as_malformed()
    {
        var reader = new ScriptReader(Hex.Decode("4d0500aabb"));
        reader.TryRead(out _, out _, out bool malformed).Should().BeTrue();
        malformed.Should().BeTrue();
        reader.TryRead(out _, out _, out _).Should().BeFalse();
    }

    [Fact]
    public void IsPushOnly_counts_OP_RESERVED_as_a_push_like_the_node() =>
        Script.IsPushOnly(Hex.Decode("0050515f60")).Should().BeTrue();

    [Fact]
    public void ToAsm_shows_pushes_as_hex_and_opcodes_by_name() =>
        Script.FromHex("76a914000000000000000000000000000000000000000088ac").ToAsm()
            .Should().Be("OP_DUP OP_HASH160 0000000000000000000000000000000000000000 OP_EQUALVERIFY OP_CHECKSIG");
}
