using System.Security.Cryptography;

namespace Atomic.Bsv.Primitives;

/// <summary>The hash functions of Bitcoin script and the wire formats, all writing into caller-provided spans.</summary>
public static class Hashes
{
    public const int Sha256Size = 32;
    public const int Ripemd160Size = 20;
    public const int Sha1Size = 20;

    public static void Sha256(ReadOnlySpan<byte> data, Span<byte> destination) => SHA256.HashData(data, destination);

    public static byte[] Sha256(ReadOnlySpan<byte> data) => SHA256.HashData(data);

    /// <summary>SHA-256 of SHA-256: txids, block hashes, merkle nodes and signature digests.</summary>
    public static void Hash256(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        Span<byte> first = stackalloc byte[Sha256Size];
        SHA256.HashData(data, first);
        SHA256.HashData(first, destination);
    }

    public static byte[] Hash256(ReadOnlySpan<byte> data)
    {
        byte[] result = new byte[Sha256Size];
        Hash256(data, result);
        return result;
    }

    /// <summary>RIPEMD-160 of SHA-256: addresses and P2PKH/P2SH script hashes.</summary>
    public static void Hash160(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        Span<byte> first = stackalloc byte[Sha256Size];
        SHA256.HashData(data, first);
        Ripemd160.Hash(first, destination);
    }

    public static byte[] Hash160(ReadOnlySpan<byte> data)
    {
        byte[] result = new byte[Ripemd160Size];
        Hash160(data, result);
        return result;
    }

    public static void Sha1(ReadOnlySpan<byte> data, Span<byte> destination) => SHA1.HashData(data, destination);

    public static void Ripemd160Hash(ReadOnlySpan<byte> data, Span<byte> destination) => Ripemd160.Hash(data, destination);
}
