using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Payments;

/// <summary>
/// BRC-29 payment keys: the payer derives the payee's key under protocol <c>[2, "3241645161d8"]</c> with key id
/// <c>"{derivationPrefix} {derivationSuffix}"</c> and the payee as counterparty; the payee derives the same key for itself
/// with the payer as counterparty.
/// </summary>
public static class Brc29
{
    /// <summary>The BRC-29 protocol id, security level 2.</summary>
    public static WalletProtocol Protocol { get; } = new(2, "3241645161d8");

    /// <summary>The key id of one payment: prefix, one space, suffix.</summary>
    public static string KeyId(string derivationPrefix, string derivationSuffix) => $"{derivationPrefix} {derivationSuffix}";

    /// <summary>The key the payer pays to, derived by the payer's wallet.</summary>
    public static PublicKey PayeeKey(ProtoWallet payer, PublicKey payee, string derivationPrefix, string derivationSuffix)
    {
        ArgumentNullException.ThrowIfNull(payer);
        return payer.GetPublicKey(Protocol, KeyId(derivationPrefix, derivationSuffix), Counterparty.Of(payee));
    }

    /// <summary>The same key as the payee derives it for itself, knowing who paid.</summary>
    public static PublicKey ReceivingKey(ProtoWallet payee, PublicKey payer, string derivationPrefix, string derivationSuffix)
    {
        ArgumentNullException.ThrowIfNull(payee);
        return payee.GetPublicKey(Protocol, KeyId(derivationPrefix, derivationSuffix), Counterparty.Of(payer), forSelf: true);
    }

    /// <summary>The private key the payee spends the output with.</summary>
    public static PrivateKey SpendingKey(ProtoWallet payee, PublicKey payer, string derivationPrefix, string derivationSuffix)
    {
        ArgumentNullException.ThrowIfNull(payee);
        return payee.KeyDeriver.DerivePrivateKey(Protocol, KeyId(derivationPrefix, derivationSuffix), Counterparty.Of(payer));
    }

    /// <summary>The P2PKH locking script of a key.</summary>
    public static Script LockingScript(PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Script.PayToPublicKeyHash(key.ToHash160());
    }
}
