using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Crypto;

namespace Atomic.Identity.Keys;

/// <summary>
/// BRC-42 key derivation over one root private key with BRC-43 invoice numbers, agreeing with @bsv/sdk 2.1.0's
/// <c>KeyDeriver</c>: child = parent + HMAC-SHA256(key = compressed ECDH point, message = UTF-8 invoice number).
/// </summary>
public sealed class KeyDeriver
{
    private static readonly Lazy<PrivateKey> One = new(() => PrivateKey.FromBytes(ScalarOne()));
    private static readonly BigInteger CurveOrder = BigInteger.Parse(
        "0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);

    /// <summary>A deriver over <paramref name="rootKey"/>.</summary>
    public KeyDeriver(PrivateKey rootKey)
    {
        ArgumentNullException.ThrowIfNull(rootKey);
        RootKey = rootKey;
    }

    /// <summary>The private key 1, whose public key G is the counterparty "anyone" (and the root of an "anyone" wallet).</summary>
    public static PrivateKey AnyoneKey => One.Value;

    /// <summary>A deriver over the private key 1, as <c>new KeyDeriver('anyone')</c>: everybody can derive what it derives.</summary>
    public static KeyDeriver ForAnyone() => new(AnyoneKey);

    /// <summary>The root key everything is derived from.</summary>
    public PrivateKey RootKey { get; }

    /// <summary>The root key's public key (compressed), the identity key.</summary>
    public PublicKey IdentityKey => RootKey.PublicKey;

    /// <summary>
    /// The public key for <paramref name="protocol"/>/<paramref name="keyId"/>: the counterparty's child key
    /// (what the counterparty's <see cref="DerivePrivateKey"/> gives) or, <paramref name="forSelf"/>, our own.
    /// </summary>
    public PublicKey DerivePublicKey(WalletProtocol protocol, string keyId, Counterparty counterparty, bool forSelf = false)
    {
        PublicKey other = Normalize(counterparty);
        string invoice = InvoiceNumber.Compute(protocol, keyId);
        if (forSelf)
        {
            return DeriveChild(RootKey, other, invoice).PublicKey;
        }

        byte[] tweak = ChildTweak(RootKey.DeriveSharedPoint(other), invoice);
        return other.TweakAdd(tweak);
    }

    /// <summary>
    /// Our child private key for <paramref name="protocol"/>/<paramref name="keyId"/> shared with
    /// <paramref name="counterparty"/>.
    /// </summary>
    public PrivateKey DerivePrivateKey(WalletProtocol protocol, string keyId, Counterparty counterparty) =>
        DeriveChild(RootKey, Normalize(counterparty), InvoiceNumber.Compute(protocol, keyId));

    /// <summary>
    /// The BRC-2 symmetric key: the x-coordinate of (our child private key)·(the counterparty's child public key).
    /// BRC-2's prose hashes the whole point; @bsv/sdk and its test vectors use x alone, and so do we.
    /// </summary>
    public SymmetricKey DeriveSymmetricKey(WalletProtocol protocol, string keyId, Counterparty counterparty)
    {
        PublicKey derivedPublic = DerivePublicKey(protocol, keyId, counterparty);
        PrivateKey derivedPrivate = DerivePrivateKey(protocol, keyId, counterparty);
        byte[] point = derivedPrivate.DeriveSharedPoint(derivedPublic);
        return new SymmetricKey(point.AsSpan(1, 32));
    }

    /// <summary>The 33-byte compressed ECDH point root·counterparty that links every key shared with it (BRC-69).</summary>
    /// <exception cref="ArgumentException">The counterparty is ourselves.</exception>
    public byte[] RevealCounterpartySecret(Counterparty counterparty)
    {
        ArgumentNullException.ThrowIfNull(counterparty);
        if (counterparty.Kind == CounterpartyKind.Self || Normalize(counterparty).Equals(IdentityKey))
        {
            throw new ArgumentException("Counterparty secrets cannot be revealed for counterparty=self.", nameof(counterparty));
        }

        return RootKey.DeriveSharedPoint(Normalize(counterparty));
    }

    /// <summary>HMAC-SHA256 of the invoice number under the compressed shared point: the BRC-42 tweak of one key (BRC-72).</summary>
    public byte[] RevealSpecificSecret(Counterparty counterparty, WalletProtocol protocol, string keyId)
    {
        PublicKey other = Normalize(counterparty);
        string invoice = InvoiceNumber.Compute(protocol, keyId);
        return HMACSHA256.HashData(RootKey.DeriveSharedPoint(other), Encoding.UTF8.GetBytes(invoice));
    }

    /// <summary>BRC-42 child of a private key: parent + HMAC(parent·other, invoice) mod n.</summary>
    public static PrivateKey DeriveChild(PrivateKey parent, PublicKey other, string invoiceNumber)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(other);
        ArgumentNullException.ThrowIfNull(invoiceNumber);
        return parent.TweakAdd(ChildTweak(parent.DeriveSharedPoint(other), invoiceNumber));
    }

    /// <summary>BRC-42 child of a public key: parent + HMAC(other·parent, invoice)·G.</summary>
    public static PublicKey DeriveChild(PublicKey parent, PrivateKey other, string invoiceNumber)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(other);
        ArgumentNullException.ThrowIfNull(invoiceNumber);
        return parent.TweakAdd(ChildTweak(other.DeriveSharedPoint(parent), invoiceNumber));
    }

    // The tweak as a scalar: @bsv/sdk adds the HMAC as a number mod n, so one at or above n (probability about
    // 2^-128) counts as HMAC - n, where the keys' TweakAdd would refuse it.
    private static byte[] ChildTweak(byte[] sharedPoint, string invoiceNumber) =>
        ReduceModN(HMACSHA256.HashData(sharedPoint, Encoding.UTF8.GetBytes(invoiceNumber)));

    internal static byte[] ReduceModN(byte[] value32)
    {
        var value = new BigInteger(value32, isUnsigned: true, isBigEndian: true);
        if (value < CurveOrder)
        {
            return value32;
        }

        byte[] reduced = (value - CurveOrder).ToByteArray(isUnsigned: true, isBigEndian: true);
        return [.. new byte[32 - reduced.Length], .. reduced];
    }

    private PublicKey Normalize(Counterparty counterparty)
    {
        ArgumentNullException.ThrowIfNull(counterparty);
        return counterparty.Kind switch
        {
            CounterpartyKind.Self => IdentityKey,
            CounterpartyKind.Anyone => AnyoneKey.PublicKey,
            _ => counterparty.PublicKey!,
        };
    }

    private static byte[] ScalarOne()
    {
        var one = new byte[32];
        one[31] = 1;
        return one;
    }
}
