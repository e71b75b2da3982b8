using System.Buffers.Binary;
using System.Numerics;

namespace Atomic.Bsv.Primitives;

/// <summary>
/// RIPEMD-160 (Dobbertin, Bosselaers, Preneel 1996), allocation-free: .NET ships no implementation, and HASH160 sits
/// on the P2PKH validation hot path.
/// </summary>
internal static class Ripemd160
{
    private static ReadOnlySpan<byte> RL => [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
        3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12,
        1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
        4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13];

    private static ReadOnlySpan<byte> RR => [
        5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12,
        6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
        15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13,
        8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
        12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11];

    private static ReadOnlySpan<byte> SL => [
        11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8,
        7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
        11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5,
        11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
        9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6];

    private static ReadOnlySpan<byte> SR => [
        8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6,
        9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
        9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5,
        15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
        8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11];

    private static readonly uint[] KL = [0x00000000u, 0x5a827999u, 0x6ed9eba1u, 0x8f1bbcdcu, 0xa953fd4eu];
    private static readonly uint[] KR = [0x50a28be6u, 0x5c4dd124u, 0x6d703ef3u, 0x7a6d76e9u, 0x00000000u];

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        Span<uint> h = [0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u];
        Span<uint> x = stackalloc uint[16];
        int full = data.Length / 64;
        for (int b = 0; b < full; b++)
        {
            Load(data.Slice(b * 64, 64), x);
            Compress(h, x);
        }

        // Padding: 0x80, zeros, then the bit length little-endian, in one or two final blocks.
        Span<byte> tail = stackalloc byte[128];
        tail.Clear();
        int rem = data.Length - (full * 64);
        data[(full * 64)..].CopyTo(tail);
        tail[rem] = 0x80;
        int tailLength = rem < 56 ? 64 : 128;
        BinaryPrimitives.WriteUInt64LittleEndian(tail.Slice(tailLength - 8), (ulong)data.Length * 8);
        for (int off = 0; off < tailLength; off += 64)
        {
            Load(tail.Slice(off, 64), x);
            Compress(h, x);
        }

        for (int i = 0; i < 5; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(i * 4, 4), h[i]);
        }
    }

    private static void Load(ReadOnlySpan<byte> block, Span<uint> x)
    {
        for (int i = 0; i < 16; i++)
        {
            x[i] = BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(i * 4, 4));
        }
    }

    private static uint F(int round, uint x, uint y, uint z) => round switch
    {
        0 => x ^ y ^ z,
        1 => (x & y) | (~x & z),
        2 => (x | ~y) ^ z,
        3 => (x & z) | (y & ~z),
        _ => x ^ (y | ~z),
    };

    private static void Compress(Span<uint> h, ReadOnlySpan<uint> x)
    {
        uint al = h[0], bl = h[1], cl = h[2], dl = h[3], el = h[4];
        uint ar = al, br = bl, cr = cl, dr = dl, er = el;
        for (int j = 0; j < 80; j++)
        {
            int round = j >> 4;
            uint t = BitOperations.RotateLeft(al + F(round, bl, cl, dl) + x[RL[j]] + KL[round], SL[j]) + el;
            al = el;
            el = dl;
            dl = BitOperations.RotateLeft(cl, 10);
            cl = bl;
            bl = t;

            t = BitOperations.RotateLeft(ar + F(4 - round, br, cr, dr) + x[RR[j]] + KR[round], SR[j]) + er;
            ar = er;
            er = dr;
            dr = BitOperations.RotateLeft(cr, 10);
            cr = br;
            br = t;
        }

        uint tmp = h[1] + cl + dr;
        h[1] = h[2] + dl + er;
        h[2] = h[3] + el + ar;
        h[3] = h[4] + al + br;
        h[4] = h[0] + bl + cr;
        h[0] = tmp;
    }
}
