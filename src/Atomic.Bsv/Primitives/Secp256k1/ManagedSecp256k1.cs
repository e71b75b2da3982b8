using NBitcoin.Secp256k1;

namespace Atomic.Bsv.Primitives.Secp256k1;

/// <summary>
/// <see cref="ISecp256k1"/> on NBitcoin.Secp256k1, a C# port of libsecp256k1: the same RFC 6979 nonces, low-S output
/// and accepted key encodings as the native backend, in managed code that runs wherever .NET does.
/// </summary>
public sealed class ManagedSecp256k1 : ISecp256k1
{
    // The port's shared context: generator tables built once, read-only afterwards, safe from any thread.
    private readonly Context _context = Context.Instance;

    /// <summary>Creates the backend; the port's precomputed tables are built on first use.</summary>
    public ManagedSecp256k1()
    {
        Description = $"NBitcoin.Secp256k1 {typeof(Context).Assembly.GetName().Version?.ToString(3)} (C# port of libsecp256k1)";
    }

    /// <inheritdoc />
    public string Name => "managed";

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public bool IsValidPublicKey(ReadOnlySpan<byte> publicKey) => GE.TryParse(publicKey, out _);

    /// <inheritdoc />
    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) => privateKey.Length == 32 && IsValidScalar(privateKey);

    /// <inheritdoc />
    public bool Verify(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> compactSignature64, ReadOnlySpan<byte> publicKey)
    {
        Secp256k1Guard.Hash(hash32);
        Secp256k1Guard.Compact(compactSignature64, nameof(compactSignature64));

        // As secp256k1_ecdsa_signature_parse_compact: r or s >= n is refused; zero parses and then fails to verify.
        var r = new Scalar(compactSignature64[..32], out int overflowR);
        var s = new Scalar(compactSignature64[32..], out int overflowS);
        if (overflowR != 0 || overflowS != 0)
        {
            return false;
        }

        // The port, like libsecp256k1, only verifies low-S; high S is a policy matter decided elsewhere.
        if (s.IsHigh)
        {
            s = s.Negate();
        }

        return ECPubKey.TryCreate(publicKey, _context, out _, out ECPubKey? key)
            && key.SigVerify(new SecpECDSASignature(r, s, enforceCheck: false), hash32);
    }

    /// <inheritdoc />
    public void Sign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey32, Span<byte> compactSignature64)
    {
        Secp256k1Guard.Hash(hash32);
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(compactSignature64, 64, nameof(compactSignature64));

        // RFC 6979 with HMAC-SHA256 and no extra entropy, S negated to low-S: byte for byte libsecp256k1's default.
        using ECPrivKey key = RequirePrivateKey(privateKey32);
        key.SignECDSARFC6979(hash32).WriteCompactToSpan(compactSignature64);
    }

    /// <inheritdoc />
    public int CreatePublicKey(ReadOnlySpan<byte> privateKey32, bool compressed, Span<byte> destination)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));

        using ECPrivKey key = RequirePrivateKey(privateKey32);
        key.CreatePubKey().WriteToSpan(compressed, destination, out int written);
        return written;
    }

    /// <inheritdoc />
    public int SerializePublicKey(ReadOnlySpan<byte> publicKey, bool compressed, Span<byte> destination)
    {
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));

        if (!ECPubKey.TryCreate(publicKey, _context, out _, out ECPubKey? key))
        {
            throw new ArgumentException("The bytes are not a valid SEC1 secp256k1 public key.", nameof(publicKey));
        }

        key.WriteToSpan(compressed, destination, out int written);
        return written;
    }

    /// <inheritdoc />
    public bool TryTweakAddPublicKey(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> tweak32, bool compressed, Span<byte> destination, out int written)
    {
        Secp256k1Guard.Scalar(tweak32, nameof(tweak32));
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));
        written = 0;

        // A zero tweak is allowed (as in libsecp256k1); a tweak >= n or a sum at infinity is refused.
        if (!ECPubKey.TryCreate(publicKey, _context, out _, out ECPubKey? key) || !key.TryAddTweak(tweak32, out ECPubKey? tweaked))
        {
            return false;
        }

        tweaked.WriteToSpan(compressed, destination, out written);
        return true;
    }

    /// <inheritdoc />
    public bool TryTweakAddPrivateKey(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> tweak32, Span<byte> destination32)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Scalar(tweak32, nameof(tweak32));
        Secp256k1Guard.Destination(destination32, 32, nameof(destination32));

        if (!ECPrivKey.TryCreate(privateKey32, _context, out ECPrivKey? key))
        {
            return false;
        }

        using (key)
        {
            if (!key.TryTweakAdd(tweak32, out ECPrivKey? tweaked) || tweaked is null)
            {
                return false;
            }

            using (tweaked)
            {
                tweaked.WriteToSpan(destination32[..32]);
                return true;
            }
        }
    }

    /// <inheritdoc />
    public bool TryEcdhPoint(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> privateKey32, Span<byte> compressedPoint33)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(compressedPoint33, 33, nameof(compressedPoint33));

        if (!ECPubKey.TryCreate(publicKey, _context, out _, out ECPubKey? point) || !ECPrivKey.TryCreate(privateKey32, _context, out ECPrivKey? key))
        {
            return false;
        }

        // A constant-time multiplication; the group has prime order, so a valid point times a key is never infinity.
        using (key)
        {
            point.GetSharedPubkey(key).WriteToSpan(compressed: true, compressedPoint33, out _);
            return true;
        }
    }

    private static bool IsValidScalar(ReadOnlySpan<byte> scalar32)
    {
        var scalar = new Scalar(scalar32, out int overflow);
        return overflow == 0 && !scalar.IsZero;
    }

    private ECPrivKey RequirePrivateKey(ReadOnlySpan<byte> privateKey32) =>
        ECPrivKey.TryCreate(privateKey32, _context, out ECPrivKey? key)
            ? key
            : throw new ArgumentException("The private key is not a scalar in [1, n-1].", nameof(privateKey32));
}
