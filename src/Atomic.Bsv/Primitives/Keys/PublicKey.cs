using System.Security.Cryptography;
using Atomic.Bsv.Primitives.Secp256k1;

namespace Atomic.Bsv.Primitives.Keys;

/// <summary>An immutable secp256k1 public key: verification, additive tweaks, HASH160 and P2PKH addresses.</summary>
public sealed class PublicKey : IEquatable<PublicKey>
{
    private const byte MainnetAddressPrefix = 0x00;
    private const byte TestnetAddressPrefix = 0x6f;

    // Kept compressed: equality, hashing and the default encoding all use this form.
    private readonly byte[] _compressed;

    /// <summary>Wraps SEC1 bytes (compressed, uncompressed, or hybrid as libsecp256k1 accepts).</summary>
    /// <exception cref="ArgumentException">The bytes are not a valid point.</exception>
    public PublicKey(ReadOnlySpan<byte> bytes, ISecp256k1? secp256k1 = null)
    {
        Backend = secp256k1 ?? Secp256k1Backends.Default;
        if (!Backend.IsValidPublicKey(bytes))
        {
            throw new ArgumentException(
                $"The {bytes.Length} bytes are not a valid SEC1 secp256k1 public key (02/03 + x, or 04 + x + y on the curve).",
                nameof(bytes));
        }

        _compressed = new byte[33];
        Backend.SerializePublicKey(bytes, compressed: true, _compressed);
    }

    /// <summary>The backend this key computes with.</summary>
    public ISecp256k1 Backend { get; }

    /// <summary>Same as the constructor.</summary>
    public static PublicKey FromBytes(ReadOnlySpan<byte> bytes, ISecp256k1? secp256k1 = null) => new(bytes, secp256k1);

    /// <summary>A public key from hex SEC1 bytes.</summary>
    /// <exception cref="ArgumentException">The text is not hex or not a valid point.</exception>
    public static PublicKey FromHex(string hex, ISecp256k1? secp256k1 = null) => new(PrivateKey.ParseHex(hex, nameof(hex)), secp256k1);

    /// <summary>SEC1 bytes, 33 compressed or 65 uncompressed.</summary>
    public byte[] ToBytes(bool compressed = true)
    {
        if (compressed)
        {
            return (byte[])_compressed.Clone();
        }

        var uncompressed = new byte[65];
        Backend.SerializePublicKey(_compressed, compressed: false, uncompressed);
        return uncompressed;
    }

    /// <summary>SEC1 bytes as lowercase hex.</summary>
    public string ToHex(bool compressed = true) => Convert.ToHexStringLower(ToBytes(compressed));

    /// <summary>
    /// Checks a DER signature (no sighash byte) over a 32-byte digest, parsing as leniently as the node does and
    /// accepting high S; policy checks such as strict DER or low S belong to the caller.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> derSignature)
    {
        Span<byte> compact = stackalloc byte[64];
        return DerSignature.TryParseLax(derSignature, compact) && Backend.Verify(hash32, compact, _compressed);
    }

    /// <summary>this + tweak·G, as used for BRC-42 child keys.</summary>
    /// <exception cref="ArgumentException">The tweak is not 32 bytes, is not below n, or the sum is infinity.</exception>
    public PublicKey TweakAdd(ReadOnlySpan<byte> tweak32)
    {
        if (tweak32.Length != 32)
        {
            throw new ArgumentException($"A tweak is 32 bytes, not {tweak32.Length}.", nameof(tweak32));
        }

        Span<byte> result = stackalloc byte[33];
        if (!Backend.TryTweakAddPublicKey(_compressed, tweak32, compressed: true, result, out _))
        {
            throw new ArgumentException("The tweak is not below n, or the tweaked key would be the point at infinity.", nameof(tweak32));
        }

        return new PublicKey(result, Backend);
    }

    /// <summary>RIPEMD160(SHA256(SEC1 bytes)), the key hash inside P2PKH scripts and addresses.</summary>
    public byte[] ToHash160(bool compressed = true) => Hashes.Hash160(compressed ? _compressed : ToBytes(compressed: false));

    /// <summary>The Base58Check P2PKH address (version 0x00 mainnet, 0x6f testnet).</summary>
    public string ToAddress(bool compressed = true, bool testnet = false)
    {
        Span<byte> payload = stackalloc byte[21];
        payload[0] = testnet ? TestnetAddressPrefix : MainnetAddressPrefix;
        ToHash160(compressed).CopyTo(payload[1..]);
        return Base58.EncodeCheck(payload);
    }

    /// <inheritdoc />
    public bool Equals(PublicKey? other) => other is not null && _compressed.AsSpan().SequenceEqual(other._compressed);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as PublicKey);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_compressed);
        return hash.ToHashCode();
    }

    /// <summary>The compressed key as hex.</summary>
    public override string ToString() => ToHex();
}
