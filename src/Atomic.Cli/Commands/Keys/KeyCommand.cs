using System.CommandLine;
using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Cli.Commands.Keys;

/// <summary>
/// <c>atomic key new|derive|show</c>: BIP39 mnemonics and BIP32 extended keys (issue #19). A key is read from
/// <c>$ATOMIC_KEY</c>, another variable or stdin, never from the command line; output that holds a secret says so on
/// stderr. Exit 0 on success, 2 for a usage error or a key that cannot be read or used as asked.
/// </summary>
internal static class KeyCommand
{
    public const string SecretsWarning =
        "atomic: this output holds secrets (anyone with them can spend what the keys hold): keep it out of logs, shared terminals and version control";

    public static Command Create(CliConsole console) =>
        new("key", "Keys: make a BIP39 mnemonic, derive BIP32 keys from it or from an xprv/xpub, and describe a key.")
        {
            KeyNewCommand.Create(console),
            KeyDeriveCommand.Create(console),
            KeyShowCommand.Create(console),
        };

    public static Option<string> KeyFromOption() => new("--key-from")
    {
        Description = $"Where the key is: the name of an environment variable (default {KeySecret.DefaultVariable}), or - for stdin. "
            + "A mnemonic, an xprv/xpub (tprv/tpub), a WIF, or a hex private or public key.",
        DefaultValueFactory = _ => KeySecret.DefaultVariable,
        HelpName = "NAME|-",
    };

    /// <summary>The demos' <c>--key-from</c>: no default, for without it their keys are fresh and random.</summary>
    public static Option<string?> DemoKeyFromOption(string whose) => new("--key-from")
    {
        Description = $"Take {whose} from a mnemonic or an xprv instead of fresh random keys: the name of an environment variable "
            + $"(such as {KeySecret.DefaultVariable}), or - for stdin. See README, \"Keys\".",
        HelpName = "NAME|-",
    };

    public static Option<string?> PassphraseOption() => new("--passphrase-env")
    {
        Description = "The name of an environment variable holding the mnemonic's BIP39 passphrase (default: none).",
        HelpName = "NAME",
    };

    public static Option<bool> TestnetOption(string description) => new("--testnet") { Description = description };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON object instead of aligned lines." };

    public static string Network(bool testnet) => testnet ? "testnet" : "mainnet";

    /// <summary>The BIP39 passphrase applies to a mnemonic only; naming one for any other key is a mistake worth saying.</summary>
    public static void RefusePassphrase(string? passphrase, KeyMaterial material, string source)
    {
        if (passphrase is not null && material is not KeyMaterial.MnemonicKey)
        {
            throw new CliUsageException($"--passphrase-env applies to a mnemonic, and {KeySecret.Describe(source)} holds {material.Named}");
        }
    }

    /// <summary>Parses a derivation path, a malformed one being a usage error.</summary>
    public static DerivationPath ParsePath(string text)
    {
        try
        {
            return DerivationPath.Parse(text);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message.Replace(" (Parameter 'text')", string.Empty, StringComparison.Ordinal), e);
        }
    }

    /// <summary>An <see cref="ArgumentException"/>'s message without the parameter name .NET appends.</summary>
    public static string Reason(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal);
}
