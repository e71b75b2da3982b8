using System.Buffers;
using System.Buffers.Binary;

namespace Atomic.Bsv.Primitives;

/// <summary>Writes the Bitcoin wire encodings into a growable buffer.</summary>
public sealed class BsvWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public BsvWriter(int initialCapacity = 256) => _buffer = new ArrayBufferWriter<byte>(Math.Max(16, initialCapacity));

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public void Clear() => _buffer.Clear();

    public BsvWriter WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
        return this;
    }

    public BsvWriter WriteBytes(ReadOnlySpan<byte> bytes)
    {
        _buffer.Write(bytes);
        return this;
    }

    public BsvWriter WriteUInt16LE(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
        return this;
    }

    public BsvWriter WriteUInt32LE(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    public BsvWriter WriteInt32LE(int value) => WriteUInt32LE((uint)value);

    public BsvWriter WriteUInt64LE(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
        return this;
    }

    public BsvWriter WriteVarInt(ulong value)
    {
        Span<byte> span = _buffer.GetSpan(9);
        int n = VarInt.Write(value, span);
        _buffer.Advance(n);
        return this;
    }

    public BsvWriter WriteVarBytes(ReadOnlySpan<byte> bytes) => WriteVarInt((ulong)bytes.Length).WriteBytes(bytes);
}

/// <summary>CompactSize varint helpers on spans.</summary>
public static class VarInt
{
    public static int SizeOf(ulong value) => value switch
    {
        < 0xfd => 1,
        <= 0xffff => 3,
        <= 0xffff_ffff => 5,
        _ => 9,
    };

    public static int Write(ulong value, Span<byte> destination)
    {
        if (value < 0xfd)
        {
            destination[0] = (byte)value;
            return 1;
        }

        if (value <= 0xffff)
        {
            destination[0] = 0xfd;
            BinaryPrimitives.WriteUInt16LittleEndian(destination[1..], (ushort)value);
            return 3;
        }

        if (value <= 0xffff_ffff)
        {
            destination[0] = 0xfe;
            BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], (uint)value);
            return 5;
        }

        destination[0] = 0xff;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[1..], value);
        return 9;
    }
}
