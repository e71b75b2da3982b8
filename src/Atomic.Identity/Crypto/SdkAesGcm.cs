using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Atomic.Identity.Crypto;

/// <summary>
/// AES-GCM as @bsv/sdk 2.1.0 computes it (<c>primitives/AESGCM.ts</c>), for any IV length: its 32-byte IVs are
/// outside what <see cref="AesGcm"/> accepts (12 bytes only), so the mode is built here over AES-ECB.
/// </summary>
/// <remarks>
/// @bsv/sdk documents its GHASH input as non-standard (an extra zero block when the AAD or ciphertext is empty).
/// A leading zero block leaves GHASH at zero, so the tags are in fact standard GCM's; the tests check that against
/// <see cref="AesGcm"/> with 12-byte IVs. The one real difference is that its decryption refuses an empty ciphertext.
/// </remarks>
internal static class SdkAesGcm
{
    public const int BlockSize = 16;
    public const int TagSize = 16;

    public static void Encrypt(
        ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag)
    {
        using Aes aes = CreateAes(key);
        Span<byte> h = stackalloc byte[BlockSize];
        aes.EncryptEcb(new byte[BlockSize], h, PaddingMode.None);
        Span<byte> j0 = stackalloc byte[BlockSize];
        PreCounterBlock(iv, h, j0);
        Ctr(aes, j0, plaintext, ciphertext);
        ComputeTag(aes, h, j0, ciphertext, tag);
    }

    /// <summary>Decrypts and checks the tag in constant time; false when the tag does not match.</summary>
    public static bool TryDecrypt(
        ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext)
    {
        using Aes aes = CreateAes(key);
        Span<byte> h = stackalloc byte[BlockSize];
        aes.EncryptEcb(new byte[BlockSize], h, PaddingMode.None);
        Span<byte> j0 = stackalloc byte[BlockSize];
        PreCounterBlock(iv, h, j0);
        Span<byte> expected = stackalloc byte[TagSize];
        ComputeTag(aes, h, j0, ciphertext, expected);
        if (tag.Length != TagSize || !CryptographicOperations.FixedTimeEquals(expected, tag))
        {
            return false;
        }

        Ctr(aes, j0, ciphertext, plaintext);
        return true;
    }

    private static Aes CreateAes(ReadOnlySpan<byte> key)
    {
        var aes = Aes.Create();
        aes.Key = key.ToArray();
        return aes;
    }

    // J0: IV || 0^31 || 1 for 12-byte IVs, otherwise GHASH(IV padded to a block || 0^64 || bit length of IV as 64 bits).
    private static void PreCounterBlock(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> h, Span<byte> j0)
    {
        if (iv.Length == 12)
        {
            iv.CopyTo(j0);
            j0[12..].Clear();
            j0[15] = 1;
            return;
        }

        int padded = (iv.Length + BlockSize - 1) / BlockSize * BlockSize;
        var input = new byte[padded + BlockSize];
        iv.CopyTo(input);
        BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(padded + 8), (ulong)iv.Length * 8);
        j0.Clear();
        GHash(h, input, j0);
    }

    // Counter mode from inc32(J0); the counter wraps within its low 32 bits.
    private static void Ctr(Aes aes, ReadOnlySpan<byte> j0, ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (input.IsEmpty)
        {
            return;
        }

        int blocks = (input.Length + BlockSize - 1) / BlockSize;
        var counters = new byte[blocks * BlockSize];
        uint counter = BinaryPrimitives.ReadUInt32BigEndian(j0[12..]);
        for (int i = 0; i < blocks; i++)
        {
            Span<byte> block = counters.AsSpan(i * BlockSize, BlockSize);
            j0[..12].CopyTo(block);
            BinaryPrimitives.WriteUInt32BigEndian(block[12..], unchecked(counter + (uint)i + 1));
        }

        byte[] stream = aes.EncryptEcb(counters, PaddingMode.None);
        for (int i = 0; i < input.Length; i++)
        {
            output[i] = (byte)(input[i] ^ stream[i]);
        }
    }

    // T = E(K, J0) xor GHASH(C padded || 0^64 || bit length of C); there is never any AAD.
    private static void ComputeTag(Aes aes, ReadOnlySpan<byte> h, ReadOnlySpan<byte> j0, ReadOnlySpan<byte> ciphertext, Span<byte> tag)
    {
        int padded = (ciphertext.Length + BlockSize - 1) / BlockSize * BlockSize;
        var input = new byte[padded + BlockSize];
        ciphertext.CopyTo(input);
        BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(padded + 8), (ulong)ciphertext.Length * 8);
        Span<byte> s = stackalloc byte[BlockSize];
        GHash(h, input, s);
        Span<byte> mask = stackalloc byte[BlockSize];
        aes.EncryptEcb(j0, mask, PaddingMode.None);
        for (int i = 0; i < TagSize; i++)
        {
            tag[i] = (byte)(s[i] ^ mask[i]);
        }
    }

    // GHASH over whole blocks, accumulating into y (which the caller zeroes).
    private static void GHash(ReadOnlySpan<byte> h, ReadOnlySpan<byte> input, Span<byte> y)
    {
        ulong hHi = BinaryPrimitives.ReadUInt64BigEndian(h);
        ulong hLo = BinaryPrimitives.ReadUInt64BigEndian(h[8..]);
        ulong yHi = BinaryPrimitives.ReadUInt64BigEndian(y);
        ulong yLo = BinaryPrimitives.ReadUInt64BigEndian(y[8..]);
        for (int offset = 0; offset < input.Length; offset += BlockSize)
        {
            yHi ^= BinaryPrimitives.ReadUInt64BigEndian(input[offset..]);
            yLo ^= BinaryPrimitives.ReadUInt64BigEndian(input[(offset + 8)..]);
            (yHi, yLo) = Multiply(yHi, yLo, hHi, hLo);
        }

        BinaryPrimitives.WriteUInt64BigEndian(y, yHi);
        BinaryPrimitives.WriteUInt64BigEndian(y[8..], yLo);
    }

    // Multiplication in GF(2^128) with GCM's bit order (SP 800-38D algorithm 1).
    private static (ulong Hi, ulong Lo) Multiply(ulong xHi, ulong xLo, ulong yHi, ulong yLo)
    {
        const ulong R = 0xe100000000000000UL;
        ulong zHi = 0, zLo = 0, vHi = yHi, vLo = yLo;
        for (int i = 0; i < 128; i++)
        {
            ulong bit = i < 64 ? (xHi >> (63 - i)) & 1 : (xLo >> (127 - i)) & 1;
            ulong mask = 0UL - bit;
            zHi ^= vHi & mask;
            zLo ^= vLo & mask;
            ulong carry = 0UL - (vLo & 1);
            vLo = (vLo >> 1) | (vHi << 63);
            vHi = (vHi >> 1) ^ (R & carry);
        }

        return (zHi, zLo);
    }
}
