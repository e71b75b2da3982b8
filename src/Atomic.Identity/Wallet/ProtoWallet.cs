using System.Globalization;
using System.Security.Cryptography;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Crypto;
using Atomic.Identity.Keys;

namespace Atomic.Identity.Wallet;

/// <summary>
/// The key-only part of a BRC-100 wallet over one root key, as @bsv/sdk 2.1.0's <c>ProtoWallet</c>: derived public
/// keys, BRC-3 signatures, BRC-2 encryption and HMACs, BRC-72 specific key linkage. It keeps no state.
/// </summary>
/// <remarks>
/// Defaults follow @bsv/sdk: the counterparty is <c>self</c> everywhere except <see cref="CreateSignature"/>, where
/// it is <c>anyone</c> (a signature anyone can check knowing only our identity key). Where @bsv/sdk throws
/// ERR_INVALID_SIGNATURE or ERR_INVALID_HMAC, the Verify methods here answer false.
/// </remarks>
public sealed class ProtoWallet
{
    /// <summary>A wallet over <paramref name="rootKey"/>.</summary>
    public ProtoWallet(PrivateKey rootKey)
        : this(new KeyDeriver(rootKey))
    {
    }

    /// <summary>A wallet over an existing deriver.</summary>
    public ProtoWallet(KeyDeriver keyDeriver)
    {
        ArgumentNullException.ThrowIfNull(keyDeriver);
        KeyDeriver = keyDeriver;
    }

    /// <summary>The wallet of the private key 1 (<c>new ProtoWallet('anyone')</c>), which anyone can reproduce: a verifier.</summary>
    public static ProtoWallet ForAnyone() => new(KeyDeriver.ForAnyone());

    /// <summary>The deriver behind this wallet.</summary>
    public KeyDeriver KeyDeriver { get; }

    /// <summary>The root public key (getPublicKey with identityKey true).</summary>
    public PublicKey IdentityKey => KeyDeriver.IdentityKey;

    /// <summary>A derived public key (getPublicKey); the counterparty defaults to self.</summary>
    /// <exception cref="ArgumentException">
    /// The key id is empty (checked first, with @bsv/sdk's message) or a BRC-43 rule is broken.
    /// </exception>
    public PublicKey GetPublicKey(WalletProtocol protocol, string keyId, Counterparty? counterparty = null, bool forSelf = false)
    {
        if (string.IsNullOrEmpty(keyId))
        {
            throw new ArgumentException("protocolID and keyID are required if identityKey is false or undefined.", nameof(keyId));
        }

        return KeyDeriver.DerivePublicKey(protocol, keyId, counterparty ?? Counterparty.Self, forSelf);
    }

    /// <summary>
    /// BRC-3: a DER ECDSA signature over SHA-256(<paramref name="data"/>) with our derived key; the counterparty
    /// defaults to anyone.
    /// </summary>
    public byte[] CreateSignature(ReadOnlySpan<byte> data, WalletProtocol protocol, string keyId, Counterparty? counterparty = null) =>
        CreateSignatureForHash(Hashes.Sha256(data), protocol, keyId, counterparty);

    /// <summary>A DER ECDSA signature of a given digest (hashToDirectlySign), low S, RFC 6979 nonce.</summary>
    /// <exception cref="ArgumentException">The digest is larger than 256 bits.</exception>
    public byte[] CreateSignatureForHash(ReadOnlySpan<byte> hash, WalletProtocol protocol, string keyId, Counterparty? counterparty = null)
    {
        byte[] digest = Digest32(hash);
        PrivateKey key = KeyDeriver.DerivePrivateKey(protocol, keyId, counterparty ?? Counterparty.Anyone);
        return key.Sign(digest);
    }

    /// <summary>
    /// True when <paramref name="signature"/> signs SHA-256(<paramref name="data"/>) under the counterparty's derived
    /// key (the counterparty defaults to self).
    /// </summary>
    public bool VerifySignature(
        ReadOnlySpan<byte> data,
        ReadOnlySpan<byte> signature,
        WalletProtocol protocol,
        string keyId,
        Counterparty? counterparty = null,
        bool forSelf = false) =>
        VerifySignatureForHash(Hashes.Sha256(data), signature, protocol, keyId, counterparty, forSelf);

    /// <summary>True when <paramref name="signature"/> signs the given digest (hashToDirectlyVerify).</summary>
    public bool VerifySignatureForHash(
        ReadOnlySpan<byte> hash,
        ReadOnlySpan<byte> signature,
        WalletProtocol protocol,
        string keyId,
        Counterparty? counterparty = null,
        bool forSelf = false)
    {
        byte[] digest = Digest32(hash);
        PublicKey key = KeyDeriver.DerivePublicKey(protocol, keyId, counterparty ?? Counterparty.Self, forSelf);
        return key.Verify(digest, signature);
    }

    /// <summary>BRC-2 encryption: IV(32) || AES-256-GCM ciphertext || tag(16) under the derived symmetric key.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, WalletProtocol protocol, string keyId, Counterparty? counterparty = null) =>
        KeyDeriver.DeriveSymmetricKey(protocol, keyId, counterparty ?? Counterparty.Self).Encrypt(plaintext);

    /// <summary>BRC-2 decryption.</summary>
    /// <exception cref="ArgumentException">The ciphertext is too short, or the protocol id or key id is invalid.</exception>
    /// <exception cref="CryptographicException">Wrong key or altered ciphertext.</exception>
    public byte[] Decrypt(ReadOnlySpan<byte> ciphertext, WalletProtocol protocol, string keyId, Counterparty? counterparty = null) =>
        KeyDeriver.DeriveSymmetricKey(protocol, keyId, counterparty ?? Counterparty.Self).Decrypt(ciphertext);

    /// <summary>
    /// BRC-2 HMAC-SHA256 under the derived symmetric key. As in @bsv/sdk, the HMAC key is the key with its leading
    /// zero bytes dropped (one key in 256 has one), which gives a different HMAC than the zero-padded 32 bytes would.
    /// </summary>
    public byte[] CreateHmac(ReadOnlySpan<byte> data, WalletProtocol protocol, string keyId, Counterparty? counterparty = null) =>
        HMACSHA256.HashData(KeyDeriver.DeriveSymmetricKey(protocol, keyId, counterparty ?? Counterparty.Self).ToSdkBytes(), data);

    /// <summary>True when <paramref name="hmac"/> is our HMAC of <paramref name="data"/> (compared in constant time).</summary>
    public bool VerifyHmac(
        ReadOnlySpan<byte> data, ReadOnlySpan<byte> hmac, WalletProtocol protocol, string keyId, Counterparty? counterparty = null)
    {
        byte[] expected = CreateHmac(data, protocol, keyId, counterparty);
        return CryptographicOperations.FixedTimeEquals(expected, hmac);
    }

    /// <summary>
    /// BRC-69: reveals to <paramref name="verifier"/> the shared secret with <paramref name="counterparty"/>, which
    /// links every key we share with it, and a Schnorr proof that it is ours; both encrypted to the verifier under
    /// protocol [2, "counterparty linkage revelation"] with the ISO 8601 revelation time as key id.
    /// </summary>
    public CounterpartyKeyLinkage RevealCounterpartyKeyLinkage(
        PublicKey counterparty, PublicKey verifier, DateTimeOffset? revelationTime = null)
    {
        ArgumentNullException.ThrowIfNull(counterparty);
        ArgumentNullException.ThrowIfNull(verifier);
        byte[] linkage = KeyDeriver.RevealCounterpartySecret(counterparty);
        byte[] proof = SchnorrLinkageProof.Generate(KeyDeriver.RootKey, counterparty, linkage);
        // JavaScript's Date.toISOString(): UTC, milliseconds, "Z".
        string time = (revelationTime ?? DateTimeOffset.UtcNow).UtcDateTime
            .ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        return new CounterpartyKeyLinkage(
            IdentityKey,
            verifier,
            counterparty,
            time,
            Encrypt(linkage, CounterpartyLinkageProtocol, time, verifier),
            Encrypt(proof, CounterpartyLinkageProtocol, time, verifier));
    }

    /// <summary>
    /// BRC-69, the verifier's side (which @bsv/sdk leaves to its callers): decrypts a counterparty linkage revealed to
    /// this wallet and checks its Schnorr proof; answers the 33-byte shared point of prover and counterparty.
    /// </summary>
    /// <exception cref="CryptographicException">The revelation was not encrypted for us, or its proof does not hold.</exception>
    public byte[] VerifyCounterpartyKeyLinkage(CounterpartyKeyLinkage revelation)
    {
        ArgumentNullException.ThrowIfNull(revelation);
        byte[] linkage, proof;
        try
        {
            linkage = Decrypt(revelation.EncryptedLinkage, CounterpartyLinkageProtocol, revelation.RevelationTime, revelation.Prover);
            proof = Decrypt(revelation.EncryptedLinkageProof, CounterpartyLinkageProtocol, revelation.RevelationTime, revelation.Prover);
        }
        catch (ArgumentException ex)
        {
            throw new CryptographicException($"The linkage revelation cannot be decrypted: {ex.Message}", ex);
        }

        if (!SchnorrLinkageProof.Verify(revelation.Prover, revelation.Counterparty, linkage, proof))
        {
            throw new CryptographicException(
                "The linkage proof does not hold: the revealed secret is not the prover's shared point with the counterparty.");
        }

        return linkage;
    }

    /// <summary>The protocol a counterparty-linkage revelation is encrypted under.</summary>
    public static WalletProtocol CounterpartyLinkageProtocol { get; } = new(2, "counterparty linkage revelation");

    /// <summary>
    /// BRC-72: reveals to <paramref name="verifier"/> the linkage of one key shared with <paramref name="counterparty"/>
    /// (the HMAC tweak), encrypted to the verifier under protocol [2, "specific linkage revelation {level} {name}"].
    /// </summary>
    public SpecificKeyLinkage RevealSpecificKeyLinkage(Counterparty counterparty, PublicKey verifier, WalletProtocol protocol, string keyId)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        byte[] linkage = KeyDeriver.RevealSpecificSecret(counterparty, protocol, keyId);
        var revelation = SpecificLinkageProtocol(protocol);
        return new SpecificKeyLinkage(
            IdentityKey,
            verifier,
            counterparty,
            protocol,
            keyId,
            Encrypt(linkage, revelation, keyId, verifier),
            // Proof type 0: no proof, as @bsv/sdk sends it (the byte 0, encrypted the same way).
            Encrypt([0], revelation, keyId, verifier),
            ProofType: 0);
    }

    /// <summary>The protocol a specific-linkage revelation for <paramref name="protocol"/> is encrypted under.</summary>
    public static WalletProtocol SpecificLinkageProtocol(WalletProtocol protocol) =>
        new(2, $"specific linkage revelation {protocol.SecurityLevel} {protocol.Name}");

    // @bsv/sdk reads the digest as a big number: shorter ones are left-padded, longer ones must not exceed 256 bits.
    private static byte[] Digest32(ReadOnlySpan<byte> hash)
    {
        ReadOnlySpan<byte> significant = hash.TrimStart((byte)0);
        if (significant.Length > 32)
        {
            throw new ArgumentException($"A digest to sign or verify is at most 32 bytes, not {hash.Length}.", nameof(hash));
        }

        var digest = new byte[32];
        significant.CopyTo(digest.AsSpan(32 - significant.Length));
        return digest;
    }
}
