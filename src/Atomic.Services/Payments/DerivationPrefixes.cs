using System.Buffers.Binary;
using System.Security.Cryptography;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Keys;

namespace Atomic.Services.Payments;

/// <summary>
/// Issues and checks BRC-105 derivation prefixes without keeping the unpaid ones: a prefix is base64 of its expiry
/// (8 bytes, Unix seconds), 12 random bytes and 16 bytes of an HMAC by the server's identity over both and the
/// caller's key, so that only this server could have issued it, only to this caller, and only until it expires.
/// Single use is the <see cref="PaymentLedger"/>'s job (a used prefix is kept in state).
/// </summary>
public sealed class DerivationPrefixes(AuthServer server, TimeProvider time)
{
    private const int Length = 8 + 12 + 16;
    private static readonly WalletProtocol Protocol = new(2, "atomic payment prefix");

    /// <summary>A new prefix for <paramref name="caller"/>, valid for <paramref name="lifetime"/>.</summary>
    public string Issue(PublicKey caller, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(caller);
        byte[] prefix = new byte[Length];
        BinaryPrimitives.WriteInt64BigEndian(prefix, (time.GetUtcNow() + lifetime).ToUnixTimeSeconds());
        RandomNumberGenerator.Fill(prefix.AsSpan(8, 12));
        Mac(prefix.AsSpan(0, 20), caller).AsSpan(0, 16).CopyTo(prefix.AsSpan(20));
        return Convert.ToBase64String(prefix);
    }

    /// <summary>Null when <paramref name="prefix"/> is one this server issued to <paramref name="caller"/> and still valid, else the code.</summary>
    public string? Check(string prefix, PublicKey caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        byte[] bytes = new byte[Length];
        if (prefix is null || prefix.Length != 48 || !Convert.TryFromBase64String(prefix, bytes, out int written) || written != Length)
        {
            return PaymentCodes.PrefixInvalid;
        }

        if (!CryptographicOperations.FixedTimeEquals(Mac(bytes.AsSpan(0, 20), caller).AsSpan(0, 16), bytes.AsSpan(20)))
        {
            return PaymentCodes.PrefixInvalid;
        }

        return BinaryPrimitives.ReadInt64BigEndian(bytes) < time.GetUtcNow().ToUnixTimeSeconds() ? PaymentCodes.PrefixExpired : null;
    }

    private byte[] Mac(ReadOnlySpan<byte> head, PublicKey caller) =>
        server.Wallet.CreateHmac([.. head, .. caller.ToBytes()], Protocol, "1", Counterparty.Self);
}
