using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Atomic.Bsv.Primitives;

/// <summary>
/// A bounded forward reader over bytes: its whole state is the buffer and one offset, every read checks the bytes
/// remaining, and declared lengths are checked before anything is allocated.
/// </summary>
public ref struct BsvReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _offset;

    public BsvReader(ReadOnlySpan<byte> buffer, string truncatedCode = ReasonCodes.Truncated, int baseOffset = 0)
    {
        _buffer = buffer;
        _offset = 0;
        TruncatedCode = truncatedCode;
        BaseOffset = baseOffset;
    }

    /// <summary>The reason code thrown when input ends early (BEEF readers use <see cref="ReasonCodes.BeefTruncated"/>).</summary>
    public string TruncatedCode { get; }

    /// <summary>Added to <see cref="Offset"/> in exceptions, for readers over a slice of a larger input.</summary>
    public int BaseOffset { get; }

    public readonly int Offset => _offset;

    public readonly int Remaining => _buffer.Length - _offset;

    public readonly bool IsAtEnd => _offset == _buffer.Length;

    /// <summary>The bytes consumed so far.</summary>
    public readonly ReadOnlySpan<byte> Consumed => _buffer[.._offset];

    public readonly ReadOnlySpan<byte> Buffer => _buffer;

    public byte ReadByte()
    {
        if (_offset >= _buffer.Length)
        {
            ThrowTruncated(1);
        }

        return _buffer[_offset++];
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0)
        {
            ThrowFormat(ReasonCodes.TxMalformed, $"negative length {count}");
        }

        if (count > Remaining)
        {
            ThrowTruncated(count);
        }

        ReadOnlySpan<byte> slice = _buffer.Slice(_offset, count);
        _offset += count;
        return slice;
    }

    public ushort ReadUInt16LE() => BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2));

    public uint ReadUInt32LE() => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4));

    public int ReadInt32LE() => BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4));

    public ulong ReadUInt64LE() => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));

    /// <summary>Bitcoin's CompactSize varint (1, 3, 5 or 9 bytes).</summary>
    public ulong ReadVarInt()
    {
        byte prefix = ReadByte();
        return prefix switch
        {
            < 0xfd => prefix,
            0xfd => ReadUInt16LE(),
            0xfe => ReadUInt32LE(),
            _ => ReadUInt64LE(),
        };
    }

    /// <summary>
    /// Reads a varint that declares a count of items of at least <paramref name="minItemSize"/> bytes each, and
    /// rejects it before allocation when the remaining input cannot hold that many or it exceeds <paramref name="max"/>.
    /// </summary>
    public int ReadCount(int minItemSize, int max, string what)
    {
        int start = _offset;
        ulong n = ReadVarInt();
        if (n > (ulong)max)
        {
            BsvFormatException.Throw(ReasonCodes.LimitExceeded, BaseOffset + start, $"{what} count {n} exceeds the limit {max}");
        }

        if (minItemSize > 0 && n > (ulong)(Remaining / minItemSize))
        {
            BsvFormatException.Throw(TruncatedCode, BaseOffset + start, $"{what} count {n} needs at least {n * (ulong)minItemSize} bytes, {Remaining} remain");
        }

        return (int)n;
    }

    /// <summary>A varint length followed by that many bytes, checked against the remaining input first.</summary>
    public ReadOnlySpan<byte> ReadVarBytes(string what)
    {
        int start = _offset;
        ulong n = ReadVarInt();
        if (n > (ulong)Remaining)
        {
            BsvFormatException.Throw(TruncatedCode, BaseOffset + start, $"{what} declares {n} bytes, {Remaining} remain");
        }

        return ReadBytes((int)n);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowTruncated(int wanted) =>
        BsvFormatException.Throw(TruncatedCode, BaseOffset + _offset, $"needed {wanted} bytes, {Remaining} remain");

    /// <summary>Throws <paramref name="code"/> when bytes follow the <paramref name="what"/> just read (parsers take exactly one).</summary>
    public readonly void EnsureAtEnd(string code, string what)
    {
        if (!IsAtEnd)
        {
            ThrowFormat(code, $"{Remaining} trailing bytes after the {what}");
        }
    }

    [DoesNotReturn]
    public readonly void ThrowFormat(string code, string message) => BsvFormatException.Throw(code, BaseOffset + _offset, message);
}
