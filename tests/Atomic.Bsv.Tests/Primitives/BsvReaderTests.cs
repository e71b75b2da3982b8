using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Tests.Primitives;

public class BsvReaderTests
{
    [Theory]
    [InlineData("00", 0UL, 1)]
    [InlineData("fc", 252UL, 1)]
    [InlineData("fdfd00", 253UL, 3)]
    [InlineData("fdffff", 65535UL, 3)]
    [InlineData("fe00000100", 65536UL, 5)]
    [InlineData("ff0000000001000000", 4294967296UL, 9)]
    public void ReadVarInt_reads_every_width_and_Write_agrees(string hex, ulong value, int size)
    {
        var reader = new BsvReader(Hex.Decode(hex));
        reader.ReadVarInt().Should().Be(value);
        reader.Offset.Should().Be(size);
        VarInt.SizeOf(value).Should().Be(size);
        new BsvWriter().WriteVarInt(value).ToArray().Should().Equal(Hex.Decode(hex));
    }

    [Fact]
    public void Reading_past_the_end_throws_BsvFormatException_with_the_offset()
    {
        byte[] data = [1, 2, 3];
        Action read = () =>
        {
            var reader = new BsvReader(data);
            reader.ReadByte();
            reader.ReadUInt32LE();
        };

        read.Should().Throw<BsvFormatException>().Where(e => e.Offset == 1 && e.Code == ReasonCodes.Truncated);
    }

    [Fact]
    public void A_declared_length_beyond_the_input_is_rejected_before_allocation()
    {
        byte[] data = Hex.Decode("ffffffffffffffff7f00");
        Action read = () =>
        {
            var reader = new BsvReader(data, ReasonCodes.BeefTruncated);
            reader.ReadVarBytes("payload");
        };

        read.Should().Throw<BsvFormatException>().Where(e => e.Code == ReasonCodes.BeefTruncated && e.Offset == 0);
    }

    [Fact]
    public void ReadCount_rejects_counts_over_the_limit_and_counts_the_input_cannot_hold()
    {
        byte[] big = Hex.Decode("fe40420f00");
        Action overLimit = () =>
        {
            var reader = new BsvReader(big);
            reader.ReadCount(1, 1000, "item");
        };
        overLimit.Should().Throw<BsvFormatException>().Where(e => e.Code == ReasonCodes.LimitExceeded);

        byte[] small = Hex.Decode("05aabb");
        Action tooFew = () =>
        {
            var reader = new BsvReader(small);
            reader.ReadCount(1, 1000, "item");
        };
        tooFew.Should().Throw<BsvFormatException>().Where(e => e.Code == ReasonCodes.Truncated);
    }

    [Fact]
    public void BaseOffset_is_added_to_reported_positions()
    {
        byte[] data = [1];
        Action read = () =>
        {
            var reader = new BsvReader(data, ReasonCodes.Truncated, baseOffset: 100);
            reader.ReadUInt16LE();
        };

        read.Should().Throw<BsvFormatException>().Where(e => e.Offset == 100);
    }
}
