using System.Security.Cryptography;
using Atomic.Bsv.Primitives.Secp256k1;

namespace Atomic.Bsv.Primitives.Keys;

/// <summary>An immutable secp256k1 private key: signing, WIF, ECDH and additive tweaks over an <see cref="ISecp256k1"/> backend.</summary>
public sealed class PrivateKey : IEquatable<PrivateKey>
{
    private const byte MainnetWifPrefix = 0x80;
    private const byte TestnetWifPrefix = 0xef;
    private const byte CompressedFlag = 0x01;

    private readonly byte[] _bytes;
    private readonly Lazy<PublicKey> _publicKey;

    /// <summary>Wraps 32 big-endian bytes that must be a scalar in [1, n-1].</summary>
    /// <exception cref="ArgumentException">The bytes are not a valid private key.</exception>
    public PrivateKey(ReadOnlySpan<byte> bytes, ISecp256k1? secp256k1 = null)
    {
        Backend = secp256k1 ?? Secp256k1Backends.Default;
        if (bytes.Length != 32)
        {
            throw new ArgumentException($"A private key is 32 bytes, not {bytes.Length}.", nameof(bytes));
        }

        if (!Backend.IsValidPrivateKey(bytes))
        {
            throw new ArgumentException("A private key must be a scalar in [1, n-1].", nameof(bytes));
        }

        _bytes = bytes.ToArray();
        _publicKey = new Lazy<PublicKey>(CreatePublicKey, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The backend this key computes with.</summary>
    public ISecp256k1 Backend { get; }

    /// <summary>The matching public key (serialized compressed unless asked otherwise).</summary>
    public PublicKey PublicKey => _publicKey.Value;

    /// <summary>Same as the constructor.</summary>
    public static PrivateKey FromBytes(ReadOnlySpan<byte> bytes, ISecp256k1? secp256k1 = null) => new(bytes, secp256k1);

    /// <summary>A private key from 64 hex characters.</summary>
    /// <exception cref="ArgumentException">The text is not hex or not a valid private key.</exception>
    public static PrivateKey FromHex(string hex, ISecp256k1? secp256k1 = null) => new(ParseHex(hex, nameof(hex)), secp256k1);

    /// <summary>A fresh key from the operating system's CSPRNG.</summary>
    public static PrivateKey Random(ISecp256k1? secp256k1 = null)
    {
        var backend = secp256k1 ?? Secp256k1Backends.Default;
        Span<byte> candidate = stackalloc byte[32];
        try
        {
            // Out-of-range draws (zero or >= n) have probability about 2^-128; redraw rather than bias.
            do
            {
                RandomNumberGenerator.Fill(candidate);
            }
            while (!backend.IsValidPrivateKey(candidate));

            return new PrivateKey(candidate, backend);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(candidate);
        }
    }

    /// <summary>A private key from Wallet Import Format (mainnet 0x80 or testnet 0xef, compressed or not).</summary>
    /// <exception cref="ArgumentException">The text is not a well-formed WIF.</exception>
    public static PrivateKey FromWif(string wif, ISecp256k1? secp256k1 = null) => FromWif(wif, out _, out _, secp256k1);

    /// <summary>A private key from Wallet Import Format, also reporting its compressed flag and network.</summary>
    /// <exception cref="ArgumentException">The text is not a well-formed WIF.</exception>
    public static PrivateKey FromWif(string wif, out bool compressed, out bool testnet, ISecp256k1? secp256k1 = null)
    {
        ArgumentNullException.ThrowIfNull(wif);
        byte[] payload = Base58.DecodeCheck(wif);
        try
        {
            compressed = payload.Length == 34 && payload[33] == CompressedFlag;
            if (payload.Length != 33 && !compressed)
            {
                throw new ArgumentException("A WIF payload is a prefix byte, 32 key bytes and an optional 0x01 compressed flag.", nameof(wif));
            }

            testnet = payload[0] switch
            {
                MainnetWifPrefix => false,
                TestnetWifPrefix => true,
                _ => throw new ArgumentException($"Unknown WIF prefix 0x{payload[0]:x2}; expected 0x80 (mainnet) or 0xef (testnet).", nameof(wif)),
            };

            return new PrivateKey(payload.AsSpan(1, 32), secp256k1);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(payload);
        }
    }

    /// <summary>The key in Wallet Import Format.</summary>
    public string ToWif(bool compressed = true, bool testnet = false)
    {
        Span<byte> payload = stackalloc byte[34];
        try
        {
            payload[0] = testnet ? TestnetWifPrefix : MainnetWifPrefix;
            _bytes.CopyTo(payload[1..]);
            payload[33] = CompressedFlag;
            return Base58.EncodeCheck(compressed ? payload : payload[..33]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(payload);
        }
    }

    /// <summary>A copy of the 32 key bytes.</summary>
    public byte[] ToBytes() => (byte[])_bytes.Clone();

    /// <summary>The key as 64 lowercase hex characters.</summary>
    public string ToHex() => Convert.ToHexStringLower(_bytes);

    /// <summary>RFC 6979 low-S ECDSA signature of a 32-byte digest, DER-encoded (no sighash byte).</summary>
    public byte[] Sign(ReadOnlySpan<byte> hash32)
    {
        Span<byte> compact = stackalloc byte[64];
        Backend.Sign(hash32, _bytes, compact);
        return DerSignature.Encode(compact);
    }

    /// <summary>The ECDH point this·other as 33 compressed bytes (the BRC-42 shared secret).</summary>
    public byte[] DeriveSharedPoint(PublicKey other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var point = new byte[33];
        if (!Backend.TryEcdhPoint(other.ToBytes(), _bytes, point))
        {
            throw new ArgumentException("The public key cannot be used for ECDH.", nameof(other));
        }

        return point;
    }

    /// <summary>(this + tweak) mod n, as used for BRC-42 child keys.</summary>
    /// <exception cref="ArgumentException">The tweak is not 32 bytes, is not below n, or the sum is zero.</exception>
    public PrivateKey TweakAdd(ReadOnlySpan<byte> tweak32)
    {
        if (tweak32.Length != 32)
        {
            throw new ArgumentException($"A tweak is 32 bytes, not {tweak32.Length}.", nameof(tweak32));
        }

        Span<byte> result = stackalloc byte[32];
        try
        {
            if (!Backend.TryTweakAddPrivateKey(_bytes, tweak32, result))
            {
                throw new ArgumentException("The tweak is not below n, or the tweaked key would be zero.", nameof(tweak32));
            }

            return new PrivateKey(result, Backend);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(result);
        }
    }

    /// <inheritdoc />
    public bool Equals(PrivateKey? other) =>
        other is not null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as PrivateKey);

    /// <inheritdoc />
    public override int GetHashCode() => PublicKey.GetHashCode();

    /// <summary>Deliberately omits the key bytes so that logs never carry secrets.</summary>
    public override string ToString() => $"PrivateKey(public {PublicKey.ToHex()})";

    internal static byte[] ParseHex(string hex, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(hex, parameterName);
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException("The text is not an even-length hex string.", parameterName, ex);
        }
    }

    private PublicKey CreatePublicKey()
    {
        Span<byte> compressed = stackalloc byte[33];
        Backend.CreatePublicKey(_bytes, compressed: true, compressed);
        return new PublicKey(compressed, Backend);
    }
}
