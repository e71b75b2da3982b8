using System.CommandLine;
using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Cli.Commands.Keys;

/// <summary>
/// <c>atomic key derive PATH [--key-from NAME|-] [--passphrase-env NAME] [--testnet] [--json]</c>: the BIP32 key at
/// PATH below a mnemonic's master key or below an xprv or xpub (an xpub follows non-hardened paths only).
/// </summary>
internal static class KeyDeriveCommand
{
    public static Command Create(CliConsole console)
    {
        var path = new Argument<string>("PATH") { Description = "A BIP32 path such as m/44'/236'/0'/0/0 (hardened with ' or h), from the key given." };
        Option<string> keyFrom = KeyCommand.KeyFromOption();
        Option<string?> passphrase = KeyCommand.PassphraseOption();
        Option<bool> testnet = KeyCommand.TestnetOption("Write tprv/tpub, a testnet WIF and address (default: the network of an xprv/xpub given, else mainnet).");
        Option<bool> json = KeyCommand.JsonOption();
        var command = new Command("derive", "Derive the BIP32 key at PATH from a mnemonic, an xprv or an xpub, and print it.")
        {
            path, keyFrom, passphrase, testnet, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            string source = parse.GetValue(keyFrom)!;
            DerivationPath steps = KeyCommand.ParsePath(parse.GetValue(path)!);
            string? secret = KeySecret.ReadPassphrase(parse.GetValue(passphrase));
            KeyMaterial material = KeyMaterial.Parse(await KeySecret.ReadAsync(source, console, ct), source);
            KeyCommand.RefusePassphrase(secret, material, source);
            bool onTestnet = parse.GetValue(testnet);
            ExtendedKey root = material switch
            {
                KeyMaterial.MnemonicKey m => m.Mnemonic.ToMasterKey(secret, onTestnet),
                KeyMaterial.Extended e => e.Key,
                _ => throw new CliUsageException(
                    $"{KeySecret.Describe(source)} holds {material.Named}: a single key with no chain code, so no key can be derived from it; "
                    + "derive from a mnemonic or an extended key (xprv, xpub) instead"),
            };

            ExtendedKey key;
            try
            {
                key = root.Derive(steps).ForNetwork(onTestnet || root.IsTestnet);
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException(KeyCommand.Reason(e), e);
            }

            PrivateKey? privateKey = key.PrivateKey;
            if (privateKey is not null)
            {
                await console.Error.WriteLineAsync(KeyCommand.SecretsWarning);
            }

            await new KeyReport()
                .Add("path", "path", steps.ToString())
                .Add("network", "network", KeyCommand.Network(key.IsTestnet))
                .Add(key.IsTestnet ? "tprv" : "xprv", "xprv", privateKey is null ? null : key.ToBase58())
                .Add(key.IsTestnet ? "tpub" : "xpub", "xpub", key.Neuter().ToBase58())
                .Add("wif", "wif", privateKey?.ToWif(testnet: key.IsTestnet))
                .Add("public key", "publicKey", key.PublicKey.ToHex())
                .Add("address", "address", key.PublicKey.ToAddress(testnet: key.IsTestnet))
                .WriteAsync(console, parse.GetValue(json));
            return ExitCodes.Valid;
        });
        return command;
    }
}
