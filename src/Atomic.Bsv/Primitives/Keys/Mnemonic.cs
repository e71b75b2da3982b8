using System.Security.Cryptography;
using Atomic.Bsv.Primitives.Secp256k1;
using Bip39 = NBitcoin.Mnemonic;
using Wordlist = NBitcoin.Wordlist;

namespace Atomic.Bsv.Primitives.Keys;

/// <summary>
/// A BIP39 mnemonic in the English word list, over NBitcoin's <c>Mnemonic</c>: generated from the operating system's
/// CSPRNG, read with a clear error for a wrong word count, an unknown word or a bad checksum, and turned into a seed
/// (PBKDF2-HMAC-SHA512, optional passphrase) and a BIP32 master key.
/// </summary>
public sealed class Mnemonic
{
    private readonly Bip39 _inner;

    private Mnemonic(Bip39 inner) => _inner = inner;

    /// <summary>The words, in order.</summary>
    public IReadOnlyList<string> Words => _inner.Words;

    /// <summary>The words separated by single spaces: the secret itself.</summary>
    public string Phrase => string.Join(' ', _inner.Words);

    /// <summary>A fresh mnemonic of 12, 15, 18, 21 or 24 words (128 to 256 bits of entropy).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Another number of words.</exception>
    public static Mnemonic Generate(int words = 12)
    {
        if (words is not (12 or 15 or 18 or 21 or 24))
        {
            throw new ArgumentOutOfRangeException(nameof(words), words, "A BIP39 mnemonic has 12, 15, 18, 21 or 24 words.");
        }

        // Drawn here rather than through NBitcoin's RandomUtils, whose source a process may replace.
        Span<byte> entropy = stackalloc byte[words * 4 / 3];
        try
        {
            RandomNumberGenerator.Fill(entropy);
            return FromEntropy(entropy);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(entropy);
        }
    }

    /// <summary>The mnemonic that writes 16, 20, 24, 28 or 32 bytes of entropy (BIP39's encoding, checksum included).</summary>
    /// <exception cref="ArgumentException">Another length.</exception>
    public static Mnemonic FromEntropy(ReadOnlySpan<byte> entropy)
    {
        if (entropy.Length is not (16 or 20 or 24 or 28 or 32))
        {
            throw new ArgumentException($"BIP39 entropy is 16, 20, 24, 28 or 32 bytes, not {entropy.Length}.", nameof(entropy));
        }

        byte[] copy = entropy.ToArray();
        try
        {
            return new Mnemonic(new Bip39(Wordlist.English, copy));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(copy);
        }
    }

    /// <summary>
    /// Reads a mnemonic: words separated by any whitespace, in any case. Errors name a word by its position only, so
    /// that no part of the secret reaches a message.
    /// </summary>
    /// <exception cref="ArgumentException">The number of words, a word, or the checksum is wrong.</exception>
    public static Mnemonic Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length is not (12 or 15 or 18 or 21 or 24))
        {
            throw new ArgumentException($"A BIP39 mnemonic has 12, 15, 18, 21 or 24 words; this one has {words.Length}.", nameof(text));
        }

        for (int i = 0; i < words.Length; i++)
        {
            words[i] = words[i].ToLowerInvariant();
            if (!Wordlist.English.WordExists(words[i], out _))
            {
                throw new ArgumentException($"Word {i + 1} of {words.Length} is not in the BIP39 English word list.", nameof(text));
            }
        }

        var inner = new Bip39(string.Join(' ', words), Wordlist.English);
        if (!inner.IsValidChecksum)
        {
            throw new ArgumentException(
                $"The checksum of this {words.Length}-word mnemonic does not match: a word is mistyped, or words are swapped.",
                nameof(text));
        }

        return new Mnemonic(inner);
    }

    /// <summary>The 64-byte BIP39 seed: PBKDF2-HMAC-SHA512 of the words (NFKD) salted with "mnemonic" and the passphrase.</summary>
    public byte[] ToSeed(string? passphrase = null) => _inner.DeriveSeed(passphrase ?? string.Empty);

    /// <summary>The BIP32 master key of this mnemonic's seed.</summary>
    public ExtendedKey ToMasterKey(string? passphrase = null, bool testnet = false, ISecp256k1? secp256k1 = null)
    {
        byte[] seed = ToSeed(passphrase);
        try
        {
            return ExtendedKey.FromSeed(seed, testnet, secp256k1);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Deliberately omits the words so that logs never carry secrets.</summary>
    public override string ToString() => $"Mnemonic({Words.Count} words)";
}
