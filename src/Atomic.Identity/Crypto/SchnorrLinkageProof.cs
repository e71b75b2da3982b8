using System.Numerics;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Identity.Crypto;

/// <summary>
/// The BRC-69 proof that a revealed shared secret S = a·B belongs to the prover's key A = a·G, as @bsv/sdk 2.1.0's
/// <c>Schnorr.generateProof</c> makes it: R = r·G, S' = r·B, e = SHA-256(A || B || S || S' || R) mod n,
/// z = r + e·a mod n; serialized R(33) || S'(33) || z (big-endian, leading zero bytes dropped as @bsv/sdk does).
/// </summary>
public static class SchnorrLinkageProof
{
    private static readonly BigInteger N = BigInteger.Parse(
        "0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);

    /// <summary>A proof with a fresh random nonce.</summary>
    public static byte[] Generate(PrivateKey a, PublicKey b, ReadOnlySpan<byte> sharedSecret33) =>
        Generate(a, b, sharedSecret33, PrivateKey.Random());

    /// <summary>A proof with the given nonce (for tests; a reused nonce reveals the key).</summary>
    public static byte[] Generate(PrivateKey a, PublicKey b, ReadOnlySpan<byte> sharedSecret33, PrivateKey nonce)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(nonce);
        if (sharedSecret33.Length != 33)
        {
            throw new ArgumentException(
                $"The shared secret is a 33-byte compressed point, not {sharedSecret33.Length} bytes.", nameof(sharedSecret33));
        }

        byte[] r = nonce.PublicKey.ToBytes();
        byte[] sPrime = nonce.DeriveSharedPoint(b);
        byte[] challenge = Hashes.Sha256([.. a.PublicKey.ToBytes(), .. b.ToBytes(), .. sharedSecret33, .. sPrime, .. r]);
        BigInteger e = Scalar(challenge) % N;
        BigInteger z = (Scalar(nonce.ToBytes()) + e * Scalar(a.ToBytes())) % N;
        byte[] zBytes = z.IsZero ? [0] : z.ToByteArray(isUnsigned: true, isBigEndian: true);
        return [.. r, .. sPrime, .. zBytes];
    }

    /// <summary>
    /// True when <paramref name="proof"/> shows that <paramref name="sharedSecret33"/> is a·B for the a behind
    /// <paramref name="a"/>: z·G = R + e·A and z·B = S' + e·S (@bsv/sdk's <c>Schnorr.verifyProof</c>).
    /// </summary>
    public static bool Verify(PublicKey a, PublicKey b, ReadOnlySpan<byte> sharedSecret33, ReadOnlySpan<byte> proof)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (sharedSecret33.Length != 33 || proof.Length < 33 + 33 + 1 || proof.Length > 33 + 33 + 32)
        {
            return false;
        }

        PublicKey s, r, sPrime;
        try
        {
            s = PublicKey.FromBytes(sharedSecret33);
            r = PublicKey.FromBytes(proof[..33]);
            sPrime = PublicKey.FromBytes(proof[33..66]);
        }
        catch (ArgumentException)
        {
            return false;
        }

        BigInteger z = Scalar(proof[66..]);
        byte[] challenge = Hashes.Sha256([.. a.ToBytes(), .. b.ToBytes(), .. s.ToBytes(), .. sPrime.ToBytes(), .. r.ToBytes()]);
        BigInteger e = Scalar(challenge) % N;
        // Zero scalars have no key; an honest proof meets one with probability about 2^-256.
        if (z.IsZero || z >= N || e.IsZero)
        {
            return false;
        }

        PrivateKey zKey = PrivateKey.FromBytes(Bytes32(z));
        PrivateKey eKey = PrivateKey.FromBytes(Bytes32(e));
        return CurvePoint.Add(r.ToBytes(), eKey.DeriveSharedPoint(a)).AsSpan().SequenceEqual(zKey.PublicKey.ToBytes())
            && CurvePoint.Add(sPrime.ToBytes(), eKey.DeriveSharedPoint(s)).AsSpan().SequenceEqual(zKey.DeriveSharedPoint(b));
    }

    private static BigInteger Scalar(ReadOnlySpan<byte> bigEndian) => new(bigEndian, isUnsigned: true, isBigEndian: true);

    private static byte[] Bytes32(BigInteger value)
    {
        byte[] bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        return [.. new byte[32 - bytes.Length], .. bytes];
    }
}
