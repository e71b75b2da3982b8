using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Atomic.Bsv.Primitives;

/// <summary>
/// A 32-byte hash held by value (txids, block hashes, merkle nodes) in internal byte order; shown reversed
/// ("display order") as the node and block explorers do.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct Hash256 : IEquatable<Hash256>
{
    public const int Size = 32;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    public Hash256(ReadOnlySpan<byte> internalOrder)
    {
        if (internalOrder.Length != Size)
        {
            throw new ArgumentException("a hash is 32 bytes", nameof(internalOrder));
        }

        _a = BinaryPrimitives.ReadUInt64LittleEndian(internalOrder);
        _b = BinaryPrimitives.ReadUInt64LittleEndian(internalOrder[8..]);
        _c = BinaryPrimitives.ReadUInt64LittleEndian(internalOrder[16..]);
        _d = BinaryPrimitives.ReadUInt64LittleEndian(internalOrder[24..]);
    }

    public static Hash256 Zero => default;

    public bool IsZero => (_a | _b | _c | _d) == 0;

    /// <summary>Parses display-order hex (the way txids are written).</summary>
    public static Hash256 FromDisplayHex(string hex)
    {
        if (hex is null || hex.Length != 64 || !Hex.TryDecode(hex, out byte[] bytes))
        {
            throw new FormatException("a hash is 64 hex digits");
        }

        Array.Reverse(bytes);
        return new Hash256(bytes);
    }

    public static bool TryFromDisplayHex(string? hex, out Hash256 hash)
    {
        hash = default;
        if (hex is null || hex.Length != 64 || !Hex.TryDecode(hex, out byte[] bytes))
        {
            return false;
        }

        Array.Reverse(bytes);
        hash = new Hash256(bytes);
        return true;
    }

    public static Hash256 FromInternalHex(string hex) => new(Hex.Decode(hex));

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], _d);
    }

    public byte[] ToInternalBytes()
    {
        byte[] b = new byte[Size];
        CopyTo(b);
        return b;
    }

    public string ToDisplayHex()
    {
        Span<byte> b = stackalloc byte[Size];
        CopyTo(b);
        b.Reverse();
        return Convert.ToHexStringLower(b);
    }

    public string ToInternalHex()
    {
        Span<byte> b = stackalloc byte[Size];
        CopyTo(b);
        return Convert.ToHexStringLower(b);
    }

    public override string ToString() => ToDisplayHex();

    public bool Equals(Hash256 other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is Hash256 h && Equals(h);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c, _d);

    public static bool operator ==(Hash256 left, Hash256 right) => left.Equals(right);

    public static bool operator !=(Hash256 left, Hash256 right) => !left.Equals(right);
}
