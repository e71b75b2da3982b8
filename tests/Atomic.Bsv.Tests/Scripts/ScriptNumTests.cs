using System.Numerics;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;

namespace Atomic.Bsv.Tests.Scripts;

public class ScriptNumTests
{
    [Theory]
    [InlineData(0, "")]
    [InlineData(1, "01")]
    [InlineData(-1, "81")]
    [InlineData(127, "7f")]
    [InlineData(128, "8000")]
    [InlineData(-128, "8080")]
    [InlineData(255, "ff00")]
    [InlineData(256, "0001")]
    [InlineData(-256, "0081")]
    [InlineData(2147483647, "ffffff7f")]
    [InlineData(-2147483648, "0000008080")]
    public void Encode_and_Decode_are_inverse_and_minimal(long value, string hex)
    {
        Hex.Encode(ScriptNum.Encode(value)).Should().Be(hex);
        ScriptNum.Decode(Hex.Decode(hex)).Should().Be(new BigInteger(value));
        ScriptNum.IsMinimallyEncoded(Hex.Decode(hex)).Should().BeTrue();
    }

    [Fact]
    public void Big_numbers_round_trip_beyond_eight_bytes()
    {
        BigInteger big = BigInteger.Pow(2, 300) + 12345;
        ScriptNum.Decode(ScriptNum.Encode(big)).Should().Be(big);
        ScriptNum.Decode(ScriptNum.Encode(-big)).Should().Be(-big);
    }

    [Theory]
    [InlineData("00", false)]
    [InlineData("80", false)]
    [InlineData("0100", false)]
    [InlineData("0080", false)]
    [InlineData("ff00", true)]
    [InlineData("ff80", true)]
    public void Minimal_encoding_rule_matches_the_node(string hex, bool minimal) =>
        ScriptNum.IsMinimallyEncoded(Hex.Decode(hex)).Should().Be(minimal);

    [Theory]
    [InlineData("", "")]
    [InlineData("00", "")]
    [InlineData("0000", "")]
    [InlineData("80", "")]
    [InlineData("0080", "")]
    [InlineData("010000", "01")]
    [InlineData("010080", "81")]
    [InlineData("ff0000", "ff00")]
    [InlineData("ff0080", "ff80")]
    public void MinimallyEncode_strips_padding_and_keeps_the_sign(string hex, string expected) =>
        Hex.Encode(ScriptNum.MinimallyEncode(Hex.Decode(hex))).Should().Be(expected);

    [Theory]
    [InlineData("", false)]
    [InlineData("00", false)]
    [InlineData("0080", false)]
    [InlineData("80", false)]
    [InlineData("01", true)]
    [InlineData("0001", true)]
    [InlineData("8000", true)]
    public void CastToBool_treats_negative_zero_as_false(string hex, bool expected) =>
        ScriptNum.CastToBool(Hex.Decode(hex)).Should().Be(expected);
}
