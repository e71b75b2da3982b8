using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Cli.Commands.Keys;

/// <summary>A key as the user gave it: a mnemonic, an extended key, a WIF, or a hex private or public key.</summary>
internal abstract record KeyMaterial
{
    /// <summary>The name the commands print for this kind of key.</summary>
    public abstract string Kind { get; }

    /// <summary>The kind in a sentence: "an xprv", "a WIF".</summary>
    public string Named => Kind switch
    {
        "xprv" or "xpub" => $"an {Kind}",
        "wif" => "a WIF",
        "private-key-hex" => "a hex private key",
        "public-key-hex" => "a hex public key",
        _ => $"a {Kind}",
    };

    /// <summary>
    /// Reads the text of <paramref name="source"/>: words are a mnemonic, <c>xprv…</c>/<c>xpub…</c>/<c>tprv…</c>/<c>tpub…</c>
    /// an extended key, 64 hex characters a private key, 66 or 130 a public key, and anything else a WIF.
    /// </summary>
    /// <exception cref="CliUsageException">The text is none of these; the message never repeats it.</exception>
    public static KeyMaterial Parse(string text, string source)
    {
        string from = KeySecret.Describe(source);
        try
        {
            if (text.Any(char.IsWhiteSpace))
            {
                return new MnemonicKey(Mnemonic.Parse(text));
            }

            if (text.Length > 4 && text[..4] is "xprv" or "xpub" or "tprv" or "tpub")
            {
                return new Extended(ExtendedKey.Parse(text));
            }

            if (Hex.TryDecode(text, out byte[] bytes))
            {
                return bytes.Length switch
                {
                    32 => new PrivateHex(PrivateKey.FromBytes(bytes)),
                    33 or 65 => new PublicHex(PublicKey.FromBytes(bytes), Compressed: bytes.Length == 33),
                    _ => throw new CliUsageException($"{from} holds {text.Length} hex characters: a private key is 64, a public key 66 or 130"),
                };
            }

            PrivateKey key = PrivateKey.FromWif(text, out bool compressed, out bool testnet);
            return new Wif(key, compressed, testnet);
        }
        catch (ArgumentException e) when (text.Any(char.IsWhiteSpace))
        {
            throw new CliUsageException($"{from} holds words, but not a BIP39 mnemonic: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(
                $"{from} holds no key that can be read: not a mnemonic, an extended key (xprv, xpub, tprv, tpub), a hex key or a WIF ({e.Message})", e);
        }
    }

    /// <summary>A BIP39 mnemonic: the master key of its seed stands for it.</summary>
    public sealed record MnemonicKey(Mnemonic Mnemonic) : KeyMaterial
    {
        public override string Kind => "mnemonic";
    }

    /// <summary>A BIP32 extended key, private or public.</summary>
    public sealed record Extended(ExtendedKey Key) : KeyMaterial
    {
        public override string Kind => (Key.IsPrivate, Key.IsTestnet) switch
        {
            (true, false) => "xprv",
            (false, false) => "xpub",
            (true, true) => "tprv",
            (false, true) => "tpub",
        };
    }

    /// <summary>A private key in Wallet Import Format, with its network and compression flag.</summary>
    public sealed record Wif(PrivateKey Key, bool Compressed, bool Testnet) : KeyMaterial
    {
        public override string Kind => "wif";
    }

    /// <summary>32 private key bytes as hex.</summary>
    public sealed record PrivateHex(PrivateKey Key) : KeyMaterial
    {
        public override string Kind => "private-key-hex";
    }

    /// <summary>A SEC1 public key as hex, compressed or not.</summary>
    public sealed record PublicHex(PublicKey Key, bool Compressed) : KeyMaterial
    {
        public override string Kind => "public-key-hex";
    }
}
