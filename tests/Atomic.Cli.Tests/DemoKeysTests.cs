using Atomic.Bsv.Primitives.Keys;
using Atomic.Cli.Commands.Keys;

namespace Atomic.Cli.Tests;

/// <summary>The demos' keys from <c>--key-from</c>: the same mnemonic gives the same keys on every run, at documented paths.</summary>
public class DemoKeysTests
{
    private const string Abandon = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    private static CliConsole Console(string stdin) =>
        new(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(stdin)), new StringWriter(), new StringWriter());

    private static async Task<ExtendedKey> RootAsync(string stdin, string? passphraseVariable = null) =>
        (await DemoKeys.ReadRootAsync("-", passphraseVariable, Console(stdin), CancellationToken.None))!;

    [Fact]
    public async Task Two_runs_with_the_same_mnemonic_derive_the_same_keys()
    {
        ExtendedKey first = await RootAsync(Abandon);
        ExtendedKey second = await RootAsync($"  {Abandon.ToUpperInvariant()}\n");

        DemoKeys.DemoKey(first).Should().Be(DemoKeys.DemoKey(second));
        DemoKeys.PartyKeys(first, 3).Should().Equal(DemoKeys.PartyKeys(second, 3));
    }

    [Fact]
    public async Task The_demo_key_and_the_parties_sit_at_consecutive_receiving_keys_of_the_first_BSV_account()
    {
        ExtendedKey master = Mnemonic.Parse(Abandon).ToMasterKey();
        ExtendedKey root = await RootAsync(Abandon);

        DemoKeys.DemoPath.ToString().Should().Be("m/44'/236'/0'/0/0");
        DemoKeys.DemoKey(root).Should().Be(master.Derive("m/44'/236'/0'/0/0").PrivateKey);
        IReadOnlyList<PrivateKey> parties = DemoKeys.PartyKeys(root, 4);
        for (int i = 0; i < parties.Count; i++)
        {
            DemoKeys.PartyPath(i).ToString().Should().Be($"m/44'/236'/0'/0/{i}");
            parties[i].Should().Be(master.Derive($"m/44'/236'/0'/0/{i}").PrivateKey);
        }

        parties.Distinct().Should().HaveCount(4);
    }

    [Fact]
    public async Task An_xprv_is_a_root_as_it_is_and_a_passphrase_changes_a_mnemonics_keys()
    {
        ExtendedKey master = Mnemonic.Parse(Abandon).ToMasterKey();
        ExtendedKey fromXprv = await RootAsync(master.ToBase58());
        DemoKeys.DemoKey(fromXprv).Should().Be(DemoKeys.DemoKey(master));

        string variable = $"ATOMIC_TEST_PASSPHRASE_{Guid.NewGuid():n}";
        Environment.SetEnvironmentVariable(variable, "TREZOR");
        ExtendedKey withPassphrase = await RootAsync(Abandon, variable);
        DemoKeys.DemoKey(withPassphrase).Should().NotBe(DemoKeys.DemoKey(master));
        DemoKeys.DemoKey(withPassphrase).Should().Be(DemoKeys.DemoKey(Mnemonic.Parse(Abandon).ToMasterKey("TREZOR")));
    }

    [Fact]
    public async Task Without_key_from_the_demos_keep_random_keys_and_keys_that_cannot_sign_are_refused()
    {
        (await DemoKeys.ReadRootAsync(null, null, Console(""), CancellationToken.None)).Should().BeNull();

        await FluentActions.Awaiting(() => DemoKeys.ReadRootAsync(null, "SOME_VARIABLE", Console(""), CancellationToken.None))
            .Should().ThrowAsync<CliUsageException>().WithMessage("--passphrase-env goes with --key-from*");
        string xpub = Mnemonic.Parse(Abandon).ToMasterKey().Neuter().ToBase58();
        await FluentActions.Awaiting(() => RootAsync(xpub))
            .Should().ThrowAsync<CliUsageException>().WithMessage("stdin holds an xpub; the demo derives keys that sign, so it needs a mnemonic or an xprv");
        await FluentActions.Awaiting(() => RootAsync("KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn"))
            .Should().ThrowAsync<CliUsageException>().WithMessage("stdin holds a WIF;*");
    }
}
