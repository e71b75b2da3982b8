using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using static Atomic.Overlay.Tests.OverlayTestKit;

namespace Atomic.Overlay.Tests;

public sealed class PushDropTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Lock_then_decode_gives_back_the_owner_and_every_field(int count)
    {
        byte[][] fields = Enumerable.Range(0, count).Select(i => new byte[] { (byte)(0x20 + i), 0x01, 0x02 }).ToArray();
        Script script = PushDrop.Lock(Alice.PublicKey, fields);

        PushDrop.TryDecode(script, out PushDropFields decoded).Should().BeTrue();
        decoded.Owner.Should().Be(Alice.PublicKey);
        decoded.Fields.Should().BeEquivalentTo(fields, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Fields_are_pushed_minimally_as_the_sdk_pushes_them()
    {
        Script script = PushDrop.Lock(Alice.PublicKey, [[], [0], [5], [0x81], new byte[80]]);
        script.ToAsm().Should().EndWith("OP_CHECKSIG OP_0 OP_0 OP_5 OP_1NEGATE " + new string('0', 160) + " OP_2DROP OP_2DROP OP_DROP");
        PushDrop.TryDecode(script, out PushDropFields decoded).Should().BeTrue();
        decoded.Fields.Select(f => Hex.Encode(f)).Should().Equal("00", "00", "05", "81", new string('0', 160));
    }

    [Fact]
    public void The_lock_after_shape_decodes_too()
    {
        var writer = new BsvWriter();
        Script.WritePushData(writer, "hello"u8);
        Script.WritePushData(writer, "world"u8);
        writer.WriteByte((byte)OpCode.OP_2DROP);
        Script.WritePushData(writer, Bob.PublicKey.ToBytes());
        writer.WriteByte((byte)OpCode.OP_CHECKSIG);

        PushDrop.TryDecode(new Script(writer.ToArray()), out PushDropFields decoded).Should().BeTrue();
        decoded.Owner.Should().Be(Bob.PublicKey);
        decoded.Fields.Select(f => System.Text.Encoding.UTF8.GetString(f)).Should().Equal("hello", "world");
    }

    [Theory]
    [InlineData("76a914000000000000000000000000000000000000000088ac")] // P2PKH
    [InlineData("")]
    [InlineData("006a0568656c6c6f")] // OP_RETURN data
    [InlineData("21020000000000000000000000000000000000000000000000000000000000000000ac0568656c6c6f75")] // not a key on the curve
    [InlineData("4c")] // truncated push
    public void Other_scripts_are_not_pushdrop(string hex)
    {
        PushDrop.TryDecode(Script.FromHex(hex), out _).Should().BeFalse();
    }

    [Fact]
    public void Drops_must_remove_exactly_the_fields()
    {
        Script good = PushDrop.Lock(Alice.PublicKey, [[1, 2], [3, 4]]);
        byte[] bytes = good.ToBytes();
        bytes[^1] = (byte)OpCode.OP_DROP; // one field left on the stack
        PushDrop.TryDecode(new Script(bytes), out _).Should().BeFalse();
    }
}
