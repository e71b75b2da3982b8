using System.Numerics;

namespace Atomic.Identity.Crypto;

/// <summary>
/// The one point operation Atomic.Bsv's keys do not offer, the sum of two compressed secp256k1 points, in plain
/// affine arithmetic. It is for checking proofs over public values only: it is not constant-time.
/// </summary>
internal static class CurvePoint
{
    private static readonly BigInteger P = BigInteger.Pow(2, 256) - BigInteger.Pow(2, 32) - 977;

    /// <summary>p + q as 33 compressed bytes, or an empty array for the point at infinity.</summary>
    public static byte[] Add(ReadOnlySpan<byte> p33, ReadOnlySpan<byte> q33)
    {
        var (x1, y1) = Decompress(p33);
        var (x2, y2) = Decompress(q33);
        BigInteger lambda;
        if (x1 == x2)
        {
            if ((y1 + y2) % P == 0)
            {
                return [];
            }

            // Doubling: λ = 3x² / 2y (a = 0 on secp256k1).
            lambda = Mod(3 * x1 * x1 * Inverse(2 * y1));
        }
        else
        {
            lambda = Mod((y2 - y1) * Inverse(x2 - x1));
        }

        BigInteger x3 = Mod(lambda * lambda - x1 - x2);
        BigInteger y3 = Mod(lambda * (x1 - x3) - y1);
        byte[] x = x3.ToByteArray(isUnsigned: true, isBigEndian: true);
        return [(byte)(y3.IsEven ? 0x02 : 0x03), .. new byte[32 - x.Length], .. x];
    }

    private static (BigInteger X, BigInteger Y) Decompress(ReadOnlySpan<byte> point)
    {
        if (point.Length != 33 || point[0] is not (0x02 or 0x03))
        {
            throw new ArgumentException("A compressed point is 33 bytes starting 02 or 03.", nameof(point));
        }

        var x = new BigInteger(point[1..], isUnsigned: true, isBigEndian: true);
        // p ≡ 3 (mod 4), so a square root of c is c^((p+1)/4).
        BigInteger y = BigInteger.ModPow(Mod(x * x * x + 7), (P + 1) / 4, P);
        if (y.IsEven != (point[0] == 0x02))
        {
            y = P - y;
        }

        return (x, y);
    }

    private static BigInteger Inverse(BigInteger value) => BigInteger.ModPow(Mod(value), P - 2, P);

    private static BigInteger Mod(BigInteger value)
    {
        BigInteger r = value % P;
        return r.Sign < 0 ? r + P : r;
    }
}
