namespace Atomic.Bsv.Primitives.Secp256k1;

/// <summary>
/// The secp256k1 operations the rest of the library needs, behind one port with two backends: libsecp256k1 as
/// bundled by the Secp256k1.Net package, and NBitcoin.Secp256k1's C# port of it. Both must agree bit for bit.
/// </summary>
/// <remarks>
/// Keys are SEC1 bytes (33-byte compressed, 65-byte uncompressed); signatures are 64-byte compact r||s
/// (big-endian), so DER handling stays in managed code shared by both backends (<see cref="DerSignature"/>).
/// </remarks>
public interface ISecp256k1
{
    /// <summary>"libsecp256k1" or "managed".</summary>
    string Name { get; }

    /// <summary>Which implementation this is, and from which package and version, for banners and logs.</summary>
    string Description { get; }

    /// <summary>True when <paramref name="publicKey"/> is a valid SEC1 point (02/03 compressed, 04 uncompressed, 06/07 hybrid as libsecp256k1 accepts).</summary>
    bool IsValidPublicKey(ReadOnlySpan<byte> publicKey);

    /// <summary>True when the 32 bytes are a scalar in [1, n-1].</summary>
    bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey);

    /// <summary>
    /// ECDSA verification of a 32-byte digest. S is normalized to low-S first (as the node does: low-S is a policy
    /// flag checked elsewhere). Returns false for an unparsable key, r or s out of range, or a bad signature.
    /// </summary>
    bool Verify(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> compactSignature64, ReadOnlySpan<byte> publicKey);

    /// <summary>RFC 6979 deterministic ECDSA signature with low S, written as compact r||s.</summary>
    void Sign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey32, Span<byte> compactSignature64);

    /// <summary>Public key of a private key, 33 or 65 bytes written to <paramref name="destination"/>; returns bytes written.</summary>
    int CreatePublicKey(ReadOnlySpan<byte> privateKey32, bool compressed, Span<byte> destination);

    /// <summary>Re-encodes a public key (any accepted form) as compressed or uncompressed; returns bytes written.</summary>
    int SerializePublicKey(ReadOnlySpan<byte> publicKey, bool compressed, Span<byte> destination);

    /// <summary>publicKey + tweak·G (BRC-42 child public keys); false when the result is infinity or inputs invalid.</summary>
    bool TryTweakAddPublicKey(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> tweak32, bool compressed, Span<byte> destination, out int written);

    /// <summary>(privateKey + tweak) mod n; false when the result is zero or inputs invalid.</summary>
    bool TryTweakAddPrivateKey(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> tweak32, Span<byte> destination32);

    /// <summary>The shared point privateKey·publicKey as a 33-byte compressed point (BRC-42 uses the whole point, BRC-2 its x).</summary>
    bool TryEcdhPoint(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> privateKey32, Span<byte> compressedPoint33);
}
