using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Cli.Commands.Keys;

/// <summary>
/// The keys of <c>atomic demo</c> and <c>atomic session demo</c> when <c>--key-from</c> names a mnemonic or an xprv
/// instead of leaving them fresh and random: the receiving chain of BSV's first BIP44 account below it,
/// <c>m/44'/236'/0'/0</c>. The demo's key is child 0 there; a session's parties are children 0, 1, 2… in the
/// scenario's order. The same mnemonic (and passphrase) gives the same keys on every run.
/// </summary>
internal static class DemoKeys
{
    /// <summary>Where the demo's key is below the root.</summary>
    public static DerivationPath DemoPath { get; } = DerivationPath.Bip44Receiving.Child(0);

    /// <summary>Where party <paramref name="index"/> (0-based, the scenario's order) is below the root.</summary>
    public static DerivationPath PartyPath(int index) => DerivationPath.Bip44Receiving.Child((uint)index);

    /// <summary>
    /// The root named by <c>--key-from</c> and <c>--passphrase-env</c>: a mnemonic's master key or the xprv itself;
    /// null when <c>--key-from</c> is not given (the demos then use random keys).
    /// </summary>
    /// <exception cref="CliUsageException">The key cannot be read, or is one no key can be derived from to sign with.</exception>
    public static async Task<ExtendedKey?> ReadRootAsync(string? source, string? passphraseVariable, CliConsole console, CancellationToken ct)
    {
        if (source is null)
        {
            return passphraseVariable is null ? null : throw new CliUsageException("--passphrase-env goes with --key-from, which names the mnemonic");
        }

        string? passphrase = KeySecret.ReadPassphrase(passphraseVariable);
        KeyMaterial material = KeyMaterial.Parse(await KeySecret.ReadAsync(source, console, ct), source);
        KeyCommand.RefusePassphrase(passphrase, material, source);
        return material switch
        {
            KeyMaterial.MnemonicKey m => m.Mnemonic.ToMasterKey(passphrase),
            KeyMaterial.Extended { Key.IsPrivate: true } e => e.Key,
            _ => throw new CliUsageException(
                $"{KeySecret.Describe(source)} holds {material.Named}; the demo derives keys that sign, so it needs a mnemonic or an xprv"),
        };
    }

    /// <summary>The demo's key below <paramref name="root"/>.</summary>
    public static PrivateKey DemoKey(ExtendedKey root) => root.Derive(DemoPath).PrivateKey!;

    /// <summary>The keys of <paramref name="count"/> parties below <paramref name="root"/>, in order.</summary>
    public static IReadOnlyList<PrivateKey> PartyKeys(ExtendedKey root, int count)
    {
        ExtendedKey chain = root.Derive(DerivationPath.Bip44Receiving);
        return [.. Enumerable.Range(0, count).Select(i => chain.Derive(new DerivationPath((uint)i)).PrivateKey!)];
    }
}
