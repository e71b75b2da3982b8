using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Bsv.Tests.Interop;

/// <summary>
/// Our BIP39 seeds and BIP32 keys against @bsv/sdk's compat <c>Mnemonic</c> and <c>HD</c> (tests/interop/hd-keys.mjs):
/// a mnemonic we generate and one the SDK generates, a passphrase that NFKD changes, hardened and non-hardened paths.
/// </summary>
public class ExtendedKeyInteropTests
{
    private static readonly string[] Paths = ["m", "m/0", "m/0/1", "m/44'/236'/0'/0/0", "m/44'/236'/0'/1/7", "m/2147483647'/5"];

    // "pässwörd" with precomposed letters: BIP39 seeds the NFKD form, so both sides must decompose it alike.
    private const string Passphrase = "p\u00e4ssw\u00f6rd";

    [Theory]
    [InlineData(12)]
    [InlineData(24)]
    public void A_mnemonic_we_generate_gives_the_SDKs_seed_and_keys(int words)
    {
        Mnemonic mnemonic = Mnemonic.Generate(words);

        JsonElement sdk = Sdk("--mnemonic", mnemonic.Phrase, "--passphrase", Passphrase, "--paths", string.Join(',', Paths));

        Compare(mnemonic, Passphrase, sdk);
    }

    [Fact]
    public void A_mnemonic_the_SDK_generates_reads_and_derives_alike_here()
    {
        JsonElement sdk = Sdk("--random", "24", "--paths", string.Join(',', Paths));

        Compare(Mnemonic.Parse(sdk.GetProperty("mnemonic").GetString()!), passphrase: null, sdk);
    }

    private static JsonElement Sdk(params string[] args) =>
        JsonDocument.Parse(NodeRunner.Run("hd-keys.mjs", TimeSpan.FromMinutes(1), args)).RootElement.Clone();

    private static void Compare(Mnemonic mnemonic, string? passphrase, JsonElement sdk)
    {
        sdk.GetProperty("mnemonic").GetString().Should().Be(mnemonic.Phrase);
        Hex.Encode(mnemonic.ToSeed(passphrase)).Should().Be(sdk.GetProperty("seed").GetString());
        ExtendedKey master = mnemonic.ToMasterKey(passphrase);
        master.ToBase58().Should().Be(sdk.GetProperty("xprv").GetString());
        master.Neuter().ToBase58().Should().Be(sdk.GetProperty("xpub").GetString());

        foreach (JsonElement expected in sdk.GetProperty("keys").EnumerateArray())
        {
            string path = expected.GetProperty("path").GetString()!;
            ExtendedKey key = master.Derive(path);
            PrivateKey privateKey = key.PrivateKey!;
            key.ToBase58().Should().Be(expected.GetProperty("xprv").GetString(), path);
            key.Neuter().ToBase58().Should().Be(expected.GetProperty("xpub").GetString(), path);
            privateKey.ToWif().Should().Be(expected.GetProperty("wif").GetString(), path);
            key.PublicKey.ToHex().Should().Be(expected.GetProperty("publicKey").GetString(), path);
            key.PublicKey.ToAddress().Should().Be(expected.GetProperty("address").GetString(), path);
            if (expected.GetProperty("xpubFromMasterXpub").GetString() is string fromXpub)
            {
                master.Neuter().Derive(path).ToBase58().Should().Be(fromXpub, path);
            }
        }
    }
}
