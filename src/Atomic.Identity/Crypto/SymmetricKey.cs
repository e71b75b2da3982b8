using System.Security.Cryptography;

namespace Atomic.Identity.Crypto;

/// <summary>
/// A 256-bit AES-GCM key in @bsv/sdk 2.1.0's <c>SymmetricKey</c> format: a ciphertext is a random 32-byte IV, the
/// AES-256-GCM ciphertext (no AAD) and the 16-byte tag (BRC-2).
/// </summary>
/// <remarks>
/// @bsv/sdk holds the key as a big number, so where it hands the key out as bytes (an HMAC key, a certificate field
/// key) leading zero bytes are dropped; <see cref="ToSdkBytes"/> reproduces that. Encryption always pads to 32 bytes.
/// </remarks>
public sealed class SymmetricKey
{
    /// <summary>Bytes of IV that precede every ciphertext.</summary>
    public const int IvSize = 32;

    /// <summary>Bytes of tag that end every ciphertext.</summary>
    public const int TagSize = SdkAesGcm.TagSize;

    private readonly byte[] _key;

    /// <summary>A key from big-endian bytes; shorter values are left-padded with zeros, as @bsv/sdk reads them.</summary>
    /// <exception cref="ArgumentException">The value does not fit in 32 bytes.</exception>
    public SymmetricKey(ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> significant = bytes.TrimStart((byte)0);
        if (significant.Length > 32)
        {
            throw new ArgumentException($"A symmetric key is at most 32 bytes, not {significant.Length}.", nameof(bytes));
        }

        _key = new byte[32];
        significant.CopyTo(_key.AsSpan(32 - significant.Length));
    }

    /// <summary>A fresh random key.</summary>
    public static SymmetricKey Random() => new(RandomNumberGenerator.GetBytes(32));

    /// <summary>The 32 key bytes (big-endian, zero-padded).</summary>
    public byte[] ToBytes() => (byte[])_key.Clone();

    /// <summary>The key as @bsv/sdk's <c>toArray()</c> gives it: big-endian with leading zero bytes dropped.</summary>
    public byte[] ToSdkBytes() => _key.AsSpan().TrimStart((byte)0).ToArray();

    /// <summary>IV || ciphertext || tag with a fresh random IV.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext) => Encrypt(plaintext, RandomNumberGenerator.GetBytes(IvSize));

    /// <summary>IV || ciphertext || tag with the given 32-byte IV (for tests and vectors; never reuse an IV).</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> iv)
    {
        if (iv.Length != IvSize)
        {
            throw new ArgumentException($"The IV is {IvSize} bytes, not {iv.Length}.", nameof(iv));
        }

        var result = new byte[IvSize + plaintext.Length + TagSize];
        iv.CopyTo(result);
        SdkAesGcm.Encrypt(_key, iv, plaintext, result.AsSpan(IvSize, plaintext.Length), result.AsSpan(IvSize + plaintext.Length));
        return result;
    }

    /// <summary>The plaintext of IV || ciphertext || tag.</summary>
    /// <exception cref="ArgumentException">
    /// The message is shorter than an IV and a tag, or (as @bsv/sdk refuses it) holds no ciphertext.
    /// </exception>
    /// <exception cref="CryptographicException">The tag does not match: wrong key or altered message.</exception>
    public byte[] Decrypt(ReadOnlySpan<byte> message)
    {
        if (message.Length < IvSize + TagSize)
        {
            throw new ArgumentException(
                $"Ciphertext too short: {message.Length} bytes, but a {IvSize}-byte IV and a {TagSize}-byte tag are required.",
                nameof(message));
        }

        if (message.Length == IvSize + TagSize)
        {
            // @bsv/sdk encrypts an empty plaintext but refuses to decrypt it ("Cipher text must not be empty"); so do we.
            throw new ArgumentException("Cipher text must not be empty.", nameof(message));
        }

        ReadOnlySpan<byte> ciphertext = message[IvSize..^TagSize];
        var plaintext = new byte[ciphertext.Length];
        if (!SdkAesGcm.TryDecrypt(_key, message[..IvSize], ciphertext, message[^TagSize..], plaintext))
        {
            throw new CryptographicException("Decryption failed: the authentication tag does not match (wrong key or altered ciphertext).");
        }

        return plaintext;
    }

    /// <summary>Deliberately omits the key bytes.</summary>
    public override string ToString() => "SymmetricKey";
}
