using System.Security.Cryptography;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Auth;

/// <summary>
/// BRC-103 nonces as @bsv/sdk 2.1.0's <c>createNonce</c> and <c>verifyNonce</c>: 16 random bytes followed by their
/// HMAC-SHA256 under the wallet (protocol [2, "server hmac"], the key id the random bytes read as UTF-8), in base64.
/// Only the wallet that made a nonce (with the same counterparty) can recognise it, so a peer that gets one back
/// knows it is its own and not made up or taken from another session.
/// </summary>
public static class AuthNonce
{
    /// <summary>The protocol of the nonce HMAC.</summary>
    public static readonly WalletProtocol Protocol = new(2, "server hmac");

    /// <summary>Bytes of a nonce: 16 random, then a 32-byte HMAC (64 base64 characters, no padding).</summary>
    public const int Length = 48;

    /// <summary>A new nonce; the counterparty defaults to self, as in @bsv/sdk.</summary>
    public static string Create(ProtoWallet wallet, Counterparty? counterparty = null) =>
        Create(wallet, RandomNumberGenerator.GetBytes(16), counterparty);

    /// <summary>The nonce over given random bytes (16 of them); for tests.</summary>
    internal static string Create(ProtoWallet wallet, ReadOnlySpan<byte> random, Counterparty? counterparty = null)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        if (random.Length != 16)
        {
            throw new ArgumentException("a nonce begins with 16 random bytes", nameof(random));
        }

        byte[] hmac = wallet.CreateHmac(random, Protocol, JsText.DecodeUtf8(random), counterparty ?? Counterparty.Self);
        return Convert.ToBase64String([.. random, .. hmac]);
    }

    /// <summary>
    /// True when <paramref name="nonce"/> was made by <paramref name="wallet"/> for <paramref name="counterparty"/>
    /// (default self). Anything else is false, including text that is not base64 or not 48 bytes; @bsv/sdk throws
    /// instead (its ProtoWallet's "HMAC is not valid", or a base64 error).
    /// </summary>
    public static bool Verify(string? nonce, ProtoWallet wallet, Counterparty? counterparty = null)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        if (!TryDecode(nonce, out byte[] bytes))
        {
            return false;
        }

        ReadOnlySpan<byte> random = bytes.AsSpan(0, 16);
        return wallet.VerifyHmac(random, bytes.AsSpan(16), Protocol, JsText.DecodeUtf8(random), counterparty ?? Counterparty.Self);
    }

    /// <summary>Decodes a nonce: strict base64 of exactly <see cref="Length"/> bytes.</summary>
    internal static bool TryDecode(string? nonce, out byte[] bytes)
    {
        bytes = [];
        if (string.IsNullOrEmpty(nonce) || nonce.Length != 64)
        {
            return false;
        }

        var buffer = new byte[Length];
        if (!Convert.TryFromBase64String(nonce, buffer, out int written) || written != Length)
        {
            return false;
        }

        bytes = buffer;
        return true;
    }
}
