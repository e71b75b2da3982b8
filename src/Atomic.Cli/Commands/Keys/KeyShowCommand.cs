using System.CommandLine;
using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Cli.Commands.Keys;

/// <summary>
/// <c>atomic key show [--key-from NAME|-] [--passphrase-env NAME] [--testnet] [--json]</c>: what a key is (kind,
/// network, compression), its public key and address, and for an extended key its depth, fingerprints and child
/// number. It prints nothing secret.
/// </summary>
internal static class KeyShowCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string> keyFrom = KeyCommand.KeyFromOption();
        Option<string?> passphrase = KeyCommand.PassphraseOption();
        Option<bool> testnet = KeyCommand.TestnetOption("The network of a key that names none (a mnemonic, a hex key): testnet address and tpub.");
        Option<bool> json = KeyCommand.JsonOption();
        var command = new Command("show", "Describe a key: kind, network, public key, address; depth, fingerprints and child number of an extended key.")
        {
            keyFrom, passphrase, testnet, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            string source = parse.GetValue(keyFrom)!;
            string? secret = KeySecret.ReadPassphrase(parse.GetValue(passphrase));
            KeyMaterial material = KeyMaterial.Parse(await KeySecret.ReadAsync(source, console, ct), source);
            KeyCommand.RefusePassphrase(secret, material, source);
            await Describe(material, secret, parse.GetValue(testnet)).WriteAsync(console, parse.GetValue(json));
            return ExitCodes.Valid;
        });
        return command;
    }

    internal static KeyReport Describe(KeyMaterial material, string? passphrase, bool testnet)
    {
        (ExtendedKey? extended, int? words) = material switch
        {
            KeyMaterial.MnemonicKey m => (m.Mnemonic.ToMasterKey(passphrase, testnet), m.Mnemonic.Words.Count),
            KeyMaterial.Extended e => (e.Key, (int?)null),
            _ => (null, null),
        };
        (PublicKey publicKey, bool compressed, bool onTestnet) = material switch
        {
            KeyMaterial.Wif w => (w.Key.PublicKey, w.Compressed, w.Testnet),
            KeyMaterial.PrivateHex p => (p.Key.PublicKey, true, testnet),
            KeyMaterial.PublicHex p => (p.Key, p.Compressed, testnet),
            _ => (extended!.PublicKey, true, extended.IsTestnet),
        };

        string description = material switch
        {
            KeyMaterial.MnemonicKey => "mnemonic (BIP39; the lines below describe its master key)",
            KeyMaterial.Extended e => $"{material.Kind} (BIP32 extended {(e.Key.IsPrivate ? "private" : "public")} key)",
            KeyMaterial.Wif => "wif (private key in Wallet Import Format)",
            KeyMaterial.PrivateHex => "private key (hex)",
            _ => "public key (hex)",
        };
        return new KeyReport()
            .Add("kind", "kind", material.Kind, description)
            .Add("words", "words", words)
            .Add("network", "network", KeyCommand.Network(onTestnet))
            .Add("compressed", "compressed", compressed)
            .Add("public key", "publicKey", publicKey.ToHex(compressed))
            .Add("address", "address", publicKey.ToAddress(compressed, onTestnet))
            .Add(onTestnet ? "tpub" : "xpub", "xpub", extended?.Neuter().ToBase58())
            .Add("depth", "depth", extended?.Depth)
            .Add("fingerprint", "fingerprint", extended is null ? null : $"{extended.Fingerprint:x8}")
            .Add("parent fingerprint", "parentFingerprint", extended is null ? null : $"{extended.ParentFingerprint:x8}")
            .Add("child number", "childNumber", extended?.ChildNumber, extended is null ? null : DerivationPath.FormatIndex(extended.ChildNumber))
            .Add(null, "hardened", extended?.IsHardened);
    }
}
