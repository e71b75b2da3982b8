using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Atomic.Bsv.Primitives.Secp256k1;

/// <summary>
/// <see cref="ISecp256k1"/> over the system's libsecp256k1, called through unmanaged function pointers with one
/// randomized context kept for the life of the process.
/// </summary>
public sealed unsafe class NativeSecp256k1 : ISecp256k1
{
    private const uint ContextVerify = (1u << 0) | (1u << 8);
    private const uint ContextSign = (1u << 0) | (1u << 9);
    private const uint EcCompressed = (1u << 1) | (1u << 8);
    private const uint EcUncompressed = 1u << 1;

    // secp256k1_pubkey and secp256k1_ecdsa_signature are both opaque 64-byte structs.
    private const int OpaqueSize = 64;

    /// <summary>The names tried, in order, when loading the shared library.</summary>
    internal static readonly string[] LibraryNames =
    [
        "libsecp256k1.so.1",
        "libsecp256k1.so",
        "libsecp256k1",
        "libsecp256k1.2.dylib",
        "libsecp256k1.1.dylib",
        "libsecp256k1.dylib",
        "secp256k1",
    ];

    // The context is never destroyed: it lives as long as the process, and libsecp256k1 allows concurrent
    // use of a context for everything except randomization, which happens once here before publication.
    private readonly nint _context;

    private readonly delegate* unmanaged<nint, byte*, byte*, nuint, int> _pubkeyParse;
    private readonly delegate* unmanaged<nint, byte*, nuint*, byte*, uint, int> _pubkeySerialize;
    private readonly delegate* unmanaged<nint, byte*, byte*, int> _pubkeyCreate;
    private readonly delegate* unmanaged<nint, byte*, byte*, int> _pubkeyTweakAdd;
    private readonly delegate* unmanaged<nint, byte*, byte*, int> _pubkeyTweakMul;
    private readonly delegate* unmanaged<nint, byte*, int> _seckeyVerify;
    private readonly delegate* unmanaged<nint, byte*, byte*, int> _seckeyTweakAdd;
    private readonly delegate* unmanaged<nint, byte*, byte*, byte*, nint, nint, int> _ecdsaSign;
    private readonly delegate* unmanaged<nint, byte*, byte*, byte*, int> _ecdsaVerify;
    private readonly delegate* unmanaged<nint, byte*, byte*, int> _signatureNormalize;
    private readonly delegate* unmanaged<nint, byte*, byte*, int> _signatureParseCompact;
    private readonly delegate* unmanaged<nint, byte*, byte*, int> _signatureSerializeCompact;

    private NativeSecp256k1(nint library, nint context)
    {
        _context = context;
        _pubkeyParse = (delegate* unmanaged<nint, byte*, byte*, nuint, int>)Export(library, "secp256k1_ec_pubkey_parse");
        _pubkeySerialize = (delegate* unmanaged<nint, byte*, nuint*, byte*, uint, int>)Export(library, "secp256k1_ec_pubkey_serialize");
        _pubkeyCreate = (delegate* unmanaged<nint, byte*, byte*, int>)Export(library, "secp256k1_ec_pubkey_create");
        _pubkeyTweakAdd = (delegate* unmanaged<nint, byte*, byte*, int>)Export(library, "secp256k1_ec_pubkey_tweak_add");
        _pubkeyTweakMul = (delegate* unmanaged<nint, byte*, byte*, int>)Export(library, "secp256k1_ec_pubkey_tweak_mul");
        _seckeyVerify = (delegate* unmanaged<nint, byte*, int>)Export(library, "secp256k1_ec_seckey_verify");
        _seckeyTweakAdd = (delegate* unmanaged<nint, byte*, byte*, int>)Export(library, "secp256k1_ec_seckey_tweak_add");
        _ecdsaSign = (delegate* unmanaged<nint, byte*, byte*, byte*, nint, nint, int>)Export(library, "secp256k1_ecdsa_sign");
        _ecdsaVerify = (delegate* unmanaged<nint, byte*, byte*, byte*, int>)Export(library, "secp256k1_ecdsa_verify");
        _signatureNormalize = (delegate* unmanaged<nint, byte*, byte*, int>)Export(library, "secp256k1_ecdsa_signature_normalize");
        _signatureParseCompact = (delegate* unmanaged<nint, byte*, byte*, int>)Export(library, "secp256k1_ecdsa_signature_parse_compact");
        _signatureSerializeCompact = (delegate* unmanaged<nint, byte*, byte*, int>)Export(library, "secp256k1_ecdsa_signature_serialize_compact");
    }

    /// <inheritdoc />
    public string Name => "libsecp256k1";

    /// <summary>Loads libsecp256k1 and builds the backend, or returns null when the library or a needed symbol is missing.</summary>
    public static NativeSecp256k1? TryCreate()
    {
        nint library = 0;
        foreach (string name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, out library))
            {
                break;
            }
        }

        if (library == 0)
        {
            return null;
        }

        string[] required =
        [
            "secp256k1_context_create", "secp256k1_context_randomize", "secp256k1_context_set_illegal_callback",
            "secp256k1_ec_pubkey_parse", "secp256k1_ec_pubkey_serialize", "secp256k1_ec_pubkey_create",
            "secp256k1_ec_pubkey_tweak_add", "secp256k1_ec_pubkey_tweak_mul", "secp256k1_ec_seckey_verify",
            "secp256k1_ec_seckey_tweak_add", "secp256k1_ecdsa_sign", "secp256k1_ecdsa_verify",
            "secp256k1_ecdsa_signature_normalize", "secp256k1_ecdsa_signature_parse_compact",
            "secp256k1_ecdsa_signature_serialize_compact",
        ];
        foreach (string symbol in required)
        {
            if (!NativeLibrary.TryGetExport(library, symbol, out _))
            {
                // A library this old (or this stripped) is not one the backend was written against.
                NativeLibrary.Free(library);
                return null;
            }
        }

        var create = (delegate* unmanaged<uint, nint>)Export(library, "secp256k1_context_create");
        var randomize = (delegate* unmanaged<nint, byte*, int>)Export(library, "secp256k1_context_randomize");
        var setIllegalCallback = (delegate* unmanaged<nint, delegate* unmanaged<byte*, void*, void>, void*, void>)
            Export(library, "secp256k1_context_set_illegal_callback");

        nint context = create(ContextSign | ContextVerify);
        if (context == 0)
        {
            return null;
        }

        // The default illegal-argument callback aborts the process; the guards below should make it
        // unreachable, and if one slips the call just returns 0, which every caller treats as failure.
        setIllegalCallback(context, &IgnoreIllegalArgument, null);

        byte* seed = stackalloc byte[32];
        RandomNumberGenerator.Fill(new Span<byte>(seed, 32));
        int randomized = randomize(context, seed);
        CryptographicOperations.ZeroMemory(new Span<byte>(seed, 32));
        if (randomized != 1)
        {
            return null;
        }

        return new NativeSecp256k1(library, context);
    }

    /// <inheritdoc />
    public bool IsValidPublicKey(ReadOnlySpan<byte> publicKey)
    {
        byte* pubkey = stackalloc byte[OpaqueSize];
        return TryParsePublicKey(publicKey, pubkey);
    }

    /// <inheritdoc />
    public bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != 32)
        {
            return false;
        }

        fixed (byte* key = privateKey)
        {
            return _seckeyVerify(_context, key) == 1;
        }
    }

    /// <inheritdoc />
    public bool Verify(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> compactSignature64, ReadOnlySpan<byte> publicKey)
    {
        Secp256k1Guard.Hash(hash32);
        Secp256k1Guard.Compact(compactSignature64, nameof(compactSignature64));

        byte* signature = stackalloc byte[OpaqueSize];
        byte* pubkey = stackalloc byte[OpaqueSize];
        fixed (byte* compact = compactSignature64)
        fixed (byte* hash = hash32)
        {
            // parse_compact rejects r or s >= n; zero r or s parses and then fails verification.
            if (_signatureParseCompact(_context, signature, compact) != 1)
            {
                return false;
            }

            // libsecp256k1 only verifies low-S; high S is a policy matter decided elsewhere.
            _signatureNormalize(_context, signature, signature);

            if (!TryParsePublicKey(publicKey, pubkey))
            {
                return false;
            }

            return _ecdsaVerify(_context, signature, hash, pubkey) == 1;
        }
    }

    /// <inheritdoc />
    public void Sign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey32, Span<byte> compactSignature64)
    {
        Secp256k1Guard.Hash(hash32);
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(compactSignature64, 64, nameof(compactSignature64));

        byte* signature = stackalloc byte[OpaqueSize];
        fixed (byte* hash = hash32)
        fixed (byte* key = privateKey32)
        fixed (byte* output = compactSignature64)
        {
            // A null nonce function selects libsecp256k1's RFC 6979 default; the result is already low-S.
            if (_ecdsaSign(_context, signature, hash, key, 0, 0) != 1)
            {
                throw new ArgumentException("The private key is not a scalar in [1, n-1].", nameof(privateKey32));
            }

            _signatureSerializeCompact(_context, output, signature);
        }
    }

    /// <inheritdoc />
    public int CreatePublicKey(ReadOnlySpan<byte> privateKey32, bool compressed, Span<byte> destination)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));

        byte* pubkey = stackalloc byte[OpaqueSize];
        fixed (byte* key = privateKey32)
        {
            if (_pubkeyCreate(_context, pubkey, key) != 1)
            {
                throw new ArgumentException("The private key is not a scalar in [1, n-1].", nameof(privateKey32));
            }
        }

        return Serialize(pubkey, compressed, destination);
    }

    /// <inheritdoc />
    public int SerializePublicKey(ReadOnlySpan<byte> publicKey, bool compressed, Span<byte> destination)
    {
        Secp256k1Guard.Destination(destination, Secp256k1Guard.KeyLength(compressed), nameof(destination));

        byte* pubkey = stackalloc byte[OpaqueSize];
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

        byte* pubkey = stackalloc byte[OpaqueSize];
        if (!TryParsePublicKey(publicKey, pubkey))
        {
            return false;
        }

        fixed (byte* tweak = tweak32)
        {
            if (_pubkeyTweakAdd(_context, pubkey, tweak) != 1)
            {
                return false;
            }
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
        byte* scratch = stackalloc byte[32];
        var scratchSpan = new Span<byte>(scratch, 32);
        privateKey32.CopyTo(scratchSpan);
        try
        {
            fixed (byte* tweak = tweak32)
            {
                if (_seckeyTweakAdd(_context, scratch, tweak) != 1)
                {
                    return false;
                }
            }

            scratchSpan.CopyTo(destination32);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratchSpan);
        }
    }

    /// <inheritdoc />
    public bool TryEcdhPoint(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> privateKey32, Span<byte> compressedPoint33)
    {
        Secp256k1Guard.Scalar(privateKey32, nameof(privateKey32));
        Secp256k1Guard.Destination(compressedPoint33, 33, nameof(compressedPoint33));

        byte* pubkey = stackalloc byte[OpaqueSize];
        if (!TryParsePublicKey(publicKey, pubkey))
        {
            return false;
        }

        // secp256k1_ecdh would hash the point; BRC-42 needs the point itself, so multiply and serialize.
        fixed (byte* key = privateKey32)
        {
            if (_seckeyVerify(_context, key) != 1 || _pubkeyTweakMul(_context, pubkey, key) != 1)
            {
                return false;
            }
        }

        Serialize(pubkey, compressed: true, compressedPoint33);
        return true;
    }

    [UnmanagedCallersOnly]
    private static void IgnoreIllegalArgument(byte* message, void* data)
    {
    }

    private static nint Export(nint library, string name) => NativeLibrary.GetExport(library, name);

    private bool TryParsePublicKey(ReadOnlySpan<byte> publicKey, byte* pubkey)
    {
        // Empty input would pin to a null pointer, which libsecp256k1 treats as an illegal argument.
        if (publicKey.Length != 33 && publicKey.Length != 65)
        {
            return false;
        }

        fixed (byte* input = publicKey)
        {
            return _pubkeyParse(_context, pubkey, input, (nuint)publicKey.Length) == 1;
        }
    }

    private int Serialize(byte* pubkey, bool compressed, Span<byte> destination)
    {
        nuint length = (nuint)Secp256k1Guard.KeyLength(compressed);
        fixed (byte* output = destination)
        {
            _pubkeySerialize(_context, output, &length, pubkey, compressed ? EcCompressed : EcUncompressed);
        }

        return (int)length;
    }
}
