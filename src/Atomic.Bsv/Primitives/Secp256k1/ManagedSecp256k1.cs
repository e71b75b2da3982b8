using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Multiplier;

namespace Atomic.Bsv.Primitives.Secp256k1;

/// <summary>
/// <see cref="ISecp256k1"/> on BouncyCastle, written to give byte-identical results to libsecp256k1 (same RFC 6979
/// nonces, low-S output, the same accepted and rejected key encodings).
/// </summary>
public sealed class ManagedSecp256k1 : ISecp256k1
{
    private readonly ECCurve _curve;
    private readonly ECPoint _g;
    private readonly BigInteger _n;
    private readonly BigInteger _halfN;
    private readonly BigInteger _p;
    private readonly ECDomainParameters _domain;
    private readonly FixedPointCombMultiplier _baseMultiplier = new();

    /// <summary>Creates the backend; the curve tables are built on first use of the generator.</summary>
    public ManagedSecp256k1()
    {
        X9ECParameters parameters = SecNamedCurves.GetByName("secp256k1");
        _curve = parameters.Curve;
        _g = parameters.G;
        _n = parameters.N;
        _halfN = _n.ShiftRight(1);
        _p = _curve.Field.Characteristic;
        _domain = new ECDomainParameters(parameters.Curve, parameters.G, parameters.N, parameters.H);
    }

    /// <inheritdoc />
    public string Name => "managed";

    /// <inheritdoc />
    public bool IsValidPublicKey(ReadOnlySpan<byte> publicKey) => TryDecodePoint(publicKey) is not null;

    /// <inheritdoc />
    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) =>
        privateKey.Length == 32 && IsValidScalar(ToBigInteger(privateKey));

    /// <inheritdoc />
    public bool Verify(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> compactSignature64, ReadOnlySpan<byte> publicKey)
    {
        Secp256k1Guard.Hash(hash32);
        Secp256k1Guard.Compact(compactSignature64, nameof(compactSignature64));

        BigInteger r = ToBigInteger(compactSignature64[..32]);
        BigInteger s = ToBigInteger(compactSignature64[32..]);
        if (!IsValidScalar(r) || !IsValidScalar(s))
        {
            return false;
        }

        // Mirrors the native path's normalize step; (r, s) and (r, n - s) verify alike, so this only keeps the two paths visibly equal.
        if (s.CompareTo(_halfN) > 0)
        {
            s = _n.Subtract(s);
        }

        ECPoint? q = TryDecodePoint(publicKey);
        if (q is null)
        {
            return false;
        }

        BigInteger e = ToBigInteger(hash32).Mod(_n);
        BigInteger w = s.ModInverse(_n);
        BigInteger u1 = e.Multiply(w).Mod(_n);
        BigInteger u2 = r.Multiply(w).Mod(_n);
        ECPoint point = ECAlgorithms.SumOfTwoMultiplies(_g, u1, q, u2).Normalize();
        if (point.IsInfinity)
        {
            return false;
        }

        return point.AffineXCoord.ToBigInteger().Mod(_n).Equals(r);
    }

    /// <inheritdoc />
    public void Sign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey32, Span<byte> compactSignature64)
    {
        Secp256k1Guard.Hash(hash32);
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(compactSignature64, 64, nameof(compactSignature64));

        BigInteger d = RequirePrivateKey(privateKey32);
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, new ECPrivateKeyParameters(d, _domain));
        BigInteger[] rs = signer.GenerateSignature(hash32.ToArray());

        // libsecp256k1 always emits low S; matching it keeps both backends byte-identical.
        BigInteger s = rs[1];
        if (s.CompareTo(_halfN) > 0)
        {
            s = _n.Subtract(s);
        }

        WriteScalar(rs[0], compactSignature64[..32]);
        WriteScalar(s, compactSignature64[32..64]);
    }

    /// <inheritdoc />
    public int CreatePublicKey(ReadOnlySpan<byte> privateKey32, bool compressed, Span<byte> destination)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));

        BigInteger d = RequirePrivateKey(privateKey32);
        return WritePoint(_baseMultiplier.Multiply(_g, d), compressed, destination);
    }

    /// <inheritdoc />
    public int SerializePublicKey(ReadOnlySpan<byte> publicKey, bool compressed, Span<byte> destination)
    {
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));

        ECPoint point = TryDecodePoint(publicKey)
            ?? throw new ArgumentException("The bytes are not a valid SEC1 secp256k1 public key.", nameof(publicKey));
        return WritePoint(point, compressed, destination);
    }

    /// <inheritdoc />
    public bool TryTweakAddPublicKey(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> tweak32, bool compressed, Span<byte> destination, out int written)
    {
        Secp256k1Guard.Scalar(tweak32, nameof(tweak32));
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));
        written = 0;

        ECPoint? point = TryDecodePoint(publicKey);
        BigInteger tweak = ToBigInteger(tweak32);

        // A zero tweak is allowed (libsecp256k1 accepts it); only t >= n is rejected.
        if (point is null || tweak.CompareTo(_n) >= 0)
        {
            return false;
        }

        ECPoint result = point.Add(_baseMultiplier.Multiply(_g, tweak)).Normalize();
        if (result.IsInfinity)
        {
            return false;
        }

        written = WritePoint(result, compressed, destination);
        return true;
    }

    /// <inheritdoc />
    public bool TryTweakAddPrivateKey(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> tweak32, Span<byte> destination32)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Scalar(tweak32, nameof(tweak32));
        Secp256k1Guard.Destination(destination32, 32, nameof(destination32));

        BigInteger d = ToBigInteger(privateKey32);
        BigInteger tweak = ToBigInteger(tweak32);
        if (!IsValidScalar(d) || tweak.CompareTo(_n) >= 0)
        {
            return false;
        }

        BigInteger sum = d.Add(tweak).Mod(_n);
        if (sum.SignValue == 0)
        {
            return false;
        }

        WriteScalar(sum, destination32[..32]);
        return true;
    }

    /// <inheritdoc />
    public bool TryEcdhPoint(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> privateKey32, Span<byte> compressedPoint33)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(compressedPoint33, 33, nameof(compressedPoint33));

        ECPoint? point = TryDecodePoint(publicKey);
        BigInteger d = ToBigInteger(privateKey32);
        if (point is null || !IsValidScalar(d))
        {
            return false;
        }

        // The group has prime order, so a valid point times a scalar in [1, n-1] is never infinity.
        WritePoint(point.Multiply(d), compressed: true, compressedPoint33);
        return true;
    }

    private static BigInteger ToBigInteger(ReadOnlySpan<byte> bigEndian) => new(1, bigEndian.ToArray());

    private static void WriteScalar(BigInteger value, Span<byte> destination32)
    {
        byte[] bytes = value.ToByteArrayUnsigned();
        destination32.Clear();
        bytes.CopyTo(destination32[(32 - bytes.Length)..]);
    }

    private static int WritePoint(ECPoint point, bool compressed, Span<byte> destination)
    {
        byte[] encoded = point.Normalize().GetEncoded(compressed);
        encoded.CopyTo(destination);
        return encoded.Length;
    }

    private bool IsValidScalar(BigInteger value) => value.SignValue > 0 && value.CompareTo(_n) < 0;

    private BigInteger RequirePrivateKey(ReadOnlySpan<byte> privateKey32)
    {
        BigInteger d = ToBigInteger(privateKey32);
        if (!IsValidScalar(d))
        {
            throw new ArgumentException("The private key is not a scalar in [1, n-1].", nameof(privateKey32));
        }

        return d;
    }

    // Accepts exactly what secp256k1_ec_pubkey_parse accepts: 02/03 + x, 04 + x + y, and hybrid 06/07 + x + y
    // whose prefix matches y's parity; coordinates must be below p and the point on the curve.
    private ECPoint? TryDecodePoint(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length == 33 && (publicKey[0] == 0x02 || publicKey[0] == 0x03))
        {
            BigInteger x = ToBigInteger(publicKey[1..]);
            if (x.CompareTo(_p) >= 0)
            {
                return null;
            }

            try
            {
                ECPoint point = _curve.DecodePoint(publicKey.ToArray());
                return point.IsValid() ? point : null;
            }
            catch (ArgumentException)
            {
                // BouncyCastle signals "x has no square root" by throwing.
                return null;
            }
        }

        if (publicKey.Length == 65 && (publicKey[0] == 0x04 || publicKey[0] == 0x06 || publicKey[0] == 0x07))
        {
            BigInteger x = ToBigInteger(publicKey.Slice(1, 32));
            BigInteger y = ToBigInteger(publicKey.Slice(33, 32));
            if (x.CompareTo(_p) >= 0 || y.CompareTo(_p) >= 0)
            {
                return null;
            }

            if (publicKey[0] != 0x04 && y.TestBit(0) != (publicKey[0] == 0x07))
            {
                return null;
            }

            ECPoint point = _curve.CreatePoint(x, y);
            return point.IsValid() ? point : null;
        }

        return null;
    }
}
