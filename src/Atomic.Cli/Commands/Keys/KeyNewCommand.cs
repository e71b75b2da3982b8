using System.CommandLine;
using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Cli.Commands.Keys;

/// <summary>
/// <c>atomic key new [--words 12|24] [--passphrase-env NAME] [--testnet] [--json]</c>: a fresh BIP39 mnemonic, its
/// master xprv and xpub, and the first receiving key of BSV's first BIP44 account (<c>m/44'/236'/0'/0/0</c>).
/// </summary>
internal static class KeyNewCommand
{
    public static Command Create(CliConsole console)
    {
        var words = new Option<int>("--words") { Description = "How many words: 12 (default) or 24.", DefaultValueFactory = _ => 12 };
        words.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is not (12 or 24))
            {
                result.AddError("--words must be 12 or 24");
            }
        });
        Option<string?> passphrase = KeyCommand.PassphraseOption();
        Option<bool> testnet = KeyCommand.TestnetOption("Write tprv/tpub, a testnet WIF and a testnet address.");
        Option<bool> json = KeyCommand.JsonOption();
        var command = new Command("new", $"Make a BIP39 mnemonic and print it, its master xprv and xpub, and its key {FirstKeyPath}.")
        {
            words, passphrase, testnet, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            string? secret = KeySecret.ReadPassphrase(parse.GetValue(passphrase));
            bool onTestnet = parse.GetValue(testnet);
            Mnemonic mnemonic = Mnemonic.Generate(parse.GetValue(words));
            ExtendedKey master = mnemonic.ToMasterKey(secret, onTestnet);
            ExtendedKey first = master.Derive(FirstKeyPath);
            PrivateKey key = first.PrivateKey!;

            await console.Error.WriteLineAsync(KeyCommand.SecretsWarning);
            await new KeyReport()
                .Add("mnemonic", "mnemonic", mnemonic.Phrase)
                .Add("passphrase", "passphrase", secret is null ? "none" : $"from ${parse.GetValue(passphrase)}")
                .Add("network", "network", KeyCommand.Network(onTestnet))
                .Add("master xprv", "xprv", master.ToBase58())
                .Add("master xpub", "xpub", master.Neuter().ToBase58())
                .Add("path", "path", FirstKeyPath.ToString())
                .Add("wif", "wif", key.ToWif(testnet: onTestnet))
                .Add("public key", "publicKey", key.PublicKey.ToHex())
                .Add("address", "address", key.PublicKey.ToAddress(testnet: onTestnet))
                .WriteAsync(console, parse.GetValue(json));
            return ExitCodes.Valid;
        });
        return command;
    }

    /// <summary>The first receiving key of BSV's first BIP44 account.</summary>
    public static DerivationPath FirstKeyPath { get; } = DerivationPath.Bip44Receiving.Child(0);
}
