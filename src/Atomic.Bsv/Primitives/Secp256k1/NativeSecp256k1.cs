using System.Security.Cryptography;
using Secp256k1Net;
using NativeContext = Secp256k1Net.Secp256k1;

namespace Atomic.Bsv.Primitives.Secp256k1;

/// <summary>
/// <see cref="ISecp256k1"/> over libsecp256k1 as the Secp256k1.Net package bundles it (its own build for each
/// runtime, loaded from the application's <c>runtimes/</c> folder), with one context kept for the life of the process.
/// </summary>
/// <remarks>
/// Only Secp256k1.Net's one-to-one wrappers of the C functions are used: its convenience methods allocate arrays
/// and keep a context per thread. libsecp256k1 allows one context to be used from many threads at once.
/// </remarks>
public sealed class NativeSecp256k1 : ISecp256k1
{
    // secp256k1_pubkey and secp256k1_ecdsa_signature are both opaque 64-byte structs.
    private const int OpaqueSize = NativeContext.UNSERIALIZED_PUBKEY_LENGTH;

    // Never disposed: the context lives as long as the process, like the static backend that holds it.
    private readonly NativeContext _context;

    private NativeSecp256k1(NativeContext context)
    {
        _context = context;
        Description = $"libsecp256k1 bundled with Secp256k1.Net {typeof(NativeContext).Assembly.GetName().Version?.ToString(3)}";
    }

    /// <inheritdoc />
    public string Name => "libsecp256k1";

    /// <inheritdoc />
    public string Description { get; }

    /// <summary>Loads Secp256k1.Net's libsecp256k1 and builds the backend, or returns null when it has none for this platform.</summary>
    public static NativeSecp256k1? TryCreate()
    {
        try
        {
            // The default callback prints to stderr; the guards below should make illegal arguments unreachable,
            // and if one slips the C call just returns 0, which every caller treats as failure.
            return new NativeSecp256k1(new NativeContext(IgnoreIllegalArgument));
        }
        catch (DllNotFoundException)
        {
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e.GetType() == typeof(Exception))
        {
            // Secp256k1.Net reports a platform it ships no library for with a plain Exception.
            return null;
        }
    }

    /// <inheritdoc />
    public bool IsValidPublicKey(ReadOnlySpan<byte> publicKey)
    {
        Span<byte> pubkey = stackalloc byte[OpaqueSize];
        return TryParsePublicKey(publicKey, pubkey);
    }

    /// <inheritdoc />
    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) =>
        privateKey.Length == 32 && _context.EcSeckeyVerify(privateKey);

    /// <inheritdoc />
    public bool Verify(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> compactSignature64, ReadOnlySpan<byte> publicKey)
    {
        Secp256k1Guard.Hash(hash32);
        Secp256k1Guard.Compact(compactSignature64, nameof(compactSignature64));

        Span<byte> signature = stackalloc byte[OpaqueSize];
        Span<byte> pubkey = stackalloc byte[OpaqueSize];

        // parse_compact rejects r or s >= n; zero r or s parses and then fails verification.
        if (!_context.EcdsaSignatureParseCompact(signature, compactSignature64))
        {
            return false;
        }

        // libsecp256k1 only verifies low-S; high S is a policy matter decided elsewhere.
        _context.EcdsaSignatureNormalize(signature, signature);

        return TryParsePublicKey(publicKey, pubkey) && _context.EcdsaVerify(signature, hash32, pubkey);
    }

    /// <inheritdoc />
    public void Sign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey32, Span<byte> compactSignature64)
    {
        Secp256k1Guard.Hash(hash32);
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(compactSignature64, 64, nameof(compactSignature64));

        // Without a nonce function libsecp256k1 uses its RFC 6979 default; the result is already low-S.
        Span<byte> signature = stackalloc byte[OpaqueSize];
        if (!_context.EcdsaSign(signature, hash32, privateKey32))
        {
            throw new ArgumentException("The private key is not a scalar in [1, n-1].", nameof(privateKey32));
        }

        _context.EcdsaSignatureSerializeCompact(compactSignature64, signature);
    }

    /// <inheritdoc />
    public int CreatePublicKey(ReadOnlySpan<byte> privateKey32, bool compressed, Span<byte> destination)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));

        Span<byte> pubkey = stackalloc byte[OpaqueSize];
        if (!_context.EcPubkeyCreate(pubkey, privateKey32))
        {
            throw new ArgumentException("The private key is not a scalar in [1, n-1].", nameof(privateKey32));
        }

        return Serialize(pubkey, compressed, destination);
    }

    /// <inheritdoc />
    public int SerializePublicKey(ReadOnlySpan<byte> publicKey, bool compressed, Span<byte> destination)
    {
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));

        Span<byte> pubkey = stackalloc byte[OpaqueSize];
        if (!TryParsePublicKey(publicKey, pubkey))
        {
            throw new ArgumentException("The bytes are not a valid SEC1 secp256k1 public key.", nameof(publicKey));
        }

        return Serialize(pubkey, compressed, destination);
    }

    /// <inheritdoc />
    public bool TryTweakAddPublicKey(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> tweak32, bool compressed, Span<byte> destination, out int written)
    {
        Secp256k1Guard.Scalar(tweak32, nameof(tweak32));
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));
        written = 0;

        Span<byte> pubkey = stackalloc byte[OpaqueSize];
        if (!TryParsePublicKey(publicKey, pubkey) || !_context.EcPubkeyTweakAdd(pubkey, tweak32))
        {
            return false;
        }

        written = Serialize(pubkey, compressed, destination);
        return true;
    }

    /// <inheritdoc />
    public bool TryTweakAddPrivateKey(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> tweak32, Span<byte> destination32)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Scalar(tweak32, nameof(tweak32));
        Secp256k1Guard.Destination(destination32, 32, nameof(destination32));

        // The tweak works in place, so it runs on a scratch copy and only a success reaches the caller.
        Span<byte> scratch = stackalloc byte[32];
        privateKey32.CopyTo(scratch);
        try
        {
            if (!_context.EcSeckeyTweakAdd(scratch, tweak32))
            {
                return false;
            }

            scratch.CopyTo(destination32);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch);
        }
    }

    /// <inheritdoc />
    public bool TryEcdhPoint(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> privateKey32, Span<byte> compressedPoint33)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(compressedPoint33, 33, nameof(compressedPoint33));

        // secp256k1_ecdh would hash the point; BRC-42 needs the point itself, so multiply and serialize.
        Span<byte> pubkey = stackalloc byte[OpaqueSize];
        if (!TryParsePublicKey(publicKey, pubkey)
            || !_context.EcSeckeyVerify(privateKey32)
            || !_context.EcPubkeyTweakMul(pubkey, privateKey32))
        {
            return false;
        }

        Serialize(pubkey, compressed: true, compressedPoint33);
        return true;
    }

    private static void IgnoreIllegalArgument(string message, nint data)
    {
    }

    private bool TryParsePublicKey(ReadOnlySpan<byte> publicKey, Span<byte> pubkey)
    {
        // Empty input would pin to a null pointer, which libsecp256k1 treats as an illegal argument.
        if (publicKey.Length != 33 && publicKey.Length != 65)
        {
            return false;
        }

        return _context.EcPubkeyParse(pubkey, publicKey);
    }

    private int Serialize(ReadOnlySpan<byte> pubkey, bool compressed, Span<byte> destination)
    {
        nuint length = (nuint)Secp256k1Guard.KeyLength(compressed);
        _context.EcPubkeySerialize(destination, ref length, pubkey, compressed ? Secp256k1EcFlags.Compressed : Secp256k1EcFlags.Uncompressed);
        return (int)length;
    }
}
