using System.Buffers.Binary;
using System.Numerics;
using Atomic.Bsv.Primitives;

namespace Atomic.DevChain.Chain;

/// <summary>
/// An 80-byte block header (version, previous block hash, merkle root, time, bits, nonce), hashed with double
/// SHA-256 as the node does. The dev chain mines at regtest difficulty (bits <c>207fffff</c>), so a real proof of
/// work takes a couple of nonces.
/// </summary>
public sealed record BlockHeader(int Version, Hash256 PreviousHash, Hash256 MerkleRoot, uint Time, uint Bits, uint Nonce)
{
    public const int Size = 80;

    /// <summary>Regtest's proof-of-work limit: about one hash in two meets it.</summary>
    public const uint RegtestBits = 0x207fffff;

    /// <summary>The version miners signal today (BIP9 top bits).</summary>
    public const int DefaultVersion = 0x20000000;

    public Hash256 Hash => new(Hashes.Hash256(ToBytes()));

    public byte[] ToBytes()
    {
        byte[] bytes = new byte[Size];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, Version);
        PreviousHash.CopyTo(bytes.AsSpan(4));
        MerkleRoot.CopyTo(bytes.AsSpan(36));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(68), Time);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(72), Bits);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(76), Nonce);
        return bytes;
    }

    public static BlockHeader FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a block header is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }

        return new BlockHeader(
            BinaryPrimitives.ReadInt32LittleEndian(bytes),
            new Hash256(bytes.Slice(4, 32)),
            new Hash256(bytes.Slice(36, 32)),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[68..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[72..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[76..]));
    }

    /// <summary>The target the compact <see cref="Bits"/> encode (mantissa · 256^(exponent − 3)).</summary>
    public static BigInteger Target(uint bits)
    {
        int exponent = (int)(bits >> 24);
        var mantissa = new BigInteger(bits & 0x007fffff);
        return exponent <= 3 ? mantissa >> (8 * (3 - exponent)) : mantissa << (8 * (exponent - 3));
    }

    /// <summary>The expected number of hashes to meet <see cref="Bits"/>: 2^256 / (target + 1), as the node counts chain work.</summary>
    public BigInteger Work => (BigInteger.One << 256) / (Target(Bits) + 1);

    public bool MeetsTarget => new BigInteger(Hash.ToInternalBytes(), isUnsigned: true, isBigEndian: false) <= Target(Bits);

    /// <summary>This header with the first nonce (from 0) whose hash meets the target.</summary>
    public BlockHeader Solve()
    {
        for (uint nonce = 0; ; nonce++)
        {
            BlockHeader candidate = this with { Nonce = nonce };
            if (candidate.MeetsTarget)
            {
                return candidate;
            }

            if (nonce == uint.MaxValue)
            {
                throw new InvalidOperationException("no nonce meets the target; use easier bits");
            }
        }
    }
}
