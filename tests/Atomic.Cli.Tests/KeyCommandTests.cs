using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Cli.Commands.Keys;

namespace Atomic.Cli.Tests;

/// <summary>
/// <c>atomic key new|derive|show</c> run in-process. Keys come from stdin or from a variable named for one test, so that
/// tests running side by side never share one; only the test of the default touches <c>ATOMIC_KEY</c>.
/// </summary>
public class KeyCommandTests
{
    // BIP39's first English vector (passphrase TREZOR) and BIP32's test vectors 1 and 2.
    private const string Abandon = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    private const string AbandonTrezorXprv = "xprv9s21ZrQH143K3h3fDYiay8mocZ3afhfULfb5GX8kCBdno77K4HiA15Tg23wpbeF1pLfs1c5SPmYHrEpTuuRhxMwvKDwqdKiGJS9XFKzUsAF";
    private const string Vector1Master = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
    private const string Vector1Child = "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8MSY3H2EU4pWcQDnRnrVA1xe8fs";
    private const string Vector1ChildPublic = "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ";
    private const string Vector2MasterPublic = "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB";
    private const string Vector2Child0Public = "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH";

    // The private key 1 in its three well-known forms.
    private const string OneWif = "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn";
    private const string OneUncompressedWif = "5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf";
    private const string OneHex = "0000000000000000000000000000000000000000000000000000000000000001";

    private static Task<CliFixture.Run> FromStdinAsync(string key, params string[] args) => CliFixture.RunAsync(key + "\n", [.. args, "--key-from", "-"]);

    private static JsonElement Json(CliFixture.Run run)
    {
        run.ExitCode.Should().Be(0, run.Error);
        return JsonDocument.Parse(run.Out).RootElement.Clone();
    }

    [Fact]
    public async Task Key_new_prints_a_mnemonic_its_master_keys_and_its_first_key_and_warns_on_stderr()
    {
        CliFixture.Run run = await CliFixture.RunAsync("", "key", "new");

        run.ExitCode.Should().Be(0, run.Error);
        run.Error.Should().Contain("this output holds secrets");
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(l => l[..l.IndexOf("  ", StringComparison.Ordinal)], l => l[(l.IndexOf("  ", StringComparison.Ordinal) + 2)..].Trim());
        lines.Keys.Should().Equal("mnemonic", "passphrase", "network", "master xprv", "master xpub", "path", "wif", "public key", "address");
        Mnemonic mnemonic = Mnemonic.Parse(lines["mnemonic"]);
        mnemonic.Words.Should().HaveCount(12);
        ExtendedKey master = mnemonic.ToMasterKey();
        lines["master xprv"].Should().Be(master.ToBase58());
        lines["master xpub"].Should().Be(master.Neuter().ToBase58());
        lines["path"].Should().Be("m/44'/236'/0'/0/0");
        PrivateKey key = master.Derive("m/44'/236'/0'/0/0").PrivateKey!;
        lines["wif"].Should().Be(key.ToWif());
        lines["public key"].Should().Be(key.PublicKey.ToHex());
        lines["address"].Should().Be(key.PublicKey.ToAddress()).And.StartWith("1");
    }

    [Fact]
    public async Task Key_new_with_24_words_on_testnet_as_JSON_writes_tprv_and_testnet_forms()
    {
        string variable = $"ATOMIC_TEST_PASSPHRASE_{Guid.NewGuid():n}";
        Environment.SetEnvironmentVariable(variable, "correct horse");
        JsonElement json = Json(await CliFixture.RunAsync("", "key", "new", "--words", "24", "--testnet", "--json", "--passphrase-env", variable));

        Mnemonic mnemonic = Mnemonic.Parse(json.GetProperty("mnemonic").GetString()!);
        mnemonic.Words.Should().HaveCount(24);
        json.GetProperty("network").GetString().Should().Be("testnet");
        json.GetProperty("passphrase").GetString().Should().Be($"from ${variable}");
        ExtendedKey master = mnemonic.ToMasterKey("correct horse", testnet: true);
        json.GetProperty("xprv").GetString().Should().Be(master.ToBase58()).And.StartWith("tprv");
        json.GetProperty("xpub").GetString().Should().StartWith("tpub");
        json.GetProperty("path").GetString().Should().Be("m/44'/236'/0'/0/0");
        PrivateKey key = master.Derive("m/44'/236'/0'/0/0").PrivateKey!;
        json.GetProperty("wif").GetString().Should().Be(key.ToWif(testnet: true)).And.StartWith("c");
        json.GetProperty("address").GetString().Should().Be(key.PublicKey.ToAddress(testnet: true));
    }

    [Fact]
    public async Task Key_new_takes_12_or_24_words_only()
    {
        CliFixture.Run run = await CliFixture.RunAsync("", "key", "new", "--words", "13");

        run.ExitCode.Should().Be(2);
        run.Error.Should().Contain("--words must be 12 or 24");
    }

    [Fact]
    public async Task Key_derive_from_a_mnemonic_on_stdin_applies_the_passphrase_in_the_named_variable()
    {
        string variable = $"ATOMIC_TEST_PASSPHRASE_{Guid.NewGuid():n}";
        Environment.SetEnvironmentVariable(variable, "TREZOR");

        JsonElement master = Json(await FromStdinAsync(Abandon, "key", "derive", "m", "--json", "--passphrase-env", variable));
        master.GetProperty("xprv").GetString().Should().Be(AbandonTrezorXprv);

        CliFixture.Run run = await FromStdinAsync(Abandon, "key", "derive", "m/44'/236'/0'/0/0", "--passphrase-env", variable);
        PrivateKey expected = ExtendedKey.Parse(AbandonTrezorXprv).Derive("m/44'/236'/0'/0/0").PrivateKey!;
        run.ExitCode.Should().Be(0, run.Error);
        run.Out.Should().Contain($"wif         {expected.ToWif()}").And.Contain($"address     {expected.PublicKey.ToAddress()}");
        run.Error.Should().Contain("this output holds secrets");
    }

    [Fact]
    public async Task Key_derive_from_an_xprv_follows_BIP32_vector_1()
    {
        JsonElement json = Json(await FromStdinAsync(Vector1Master, "key", "derive", "m/0h/1", "--json"));

        json.GetProperty("path").GetString().Should().Be("m/0'/1");
        json.GetProperty("network").GetString().Should().Be("mainnet");
        json.GetProperty("xprv").GetString().Should().Be(Vector1Child);
        json.GetProperty("xpub").GetString().Should().Be(Vector1ChildPublic);
        json.GetProperty("publicKey").GetString().Should().Be(ExtendedKey.Parse(Vector1ChildPublic).PublicKey.ToHex());

        JsonElement testnet = Json(await FromStdinAsync(Vector1Master, "key", "derive", "m/0h/1", "--json", "--testnet"));
        testnet.GetProperty("xprv").GetString().Should().StartWith("tprv");
        testnet.GetProperty("publicKey").GetString().Should().Be(json.GetProperty("publicKey").GetString());
    }

    [Fact]
    public async Task Key_derive_from_an_xpub_gives_public_keys_only_and_refuses_a_hardened_step()
    {
        CliFixture.Run run = await FromStdinAsync(Vector2MasterPublic, "key", "derive", "0", "--json");
        JsonElement json = Json(run);
        json.GetProperty("xpub").GetString().Should().Be(Vector2Child0Public);
        json.GetProperty("xprv").ValueKind.Should().Be(JsonValueKind.Null);
        json.GetProperty("wif").ValueKind.Should().Be(JsonValueKind.Null);
        run.Error.Should().BeEmpty("nothing secret is printed");

        CliFixture.Run hardened = await FromStdinAsync(Vector2MasterPublic, "key", "derive", "m/0/1'");
        hardened.ExitCode.Should().Be(2);
        hardened.Error.Should().Be("atomic: Step 2 of the path m/0/1' is hardened (1'), and a public extended key can derive only non-hardened children: "
            + "hardened ones need the private key.\n");
        hardened.Out.Should().BeEmpty();
    }

    [Theory]
    [InlineData(OneWif, "a WIF")]
    [InlineData(OneHex, "a hex private key")]
    [InlineData("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", "a hex public key")]
    public async Task Key_derive_refuses_a_single_key_with_no_chain_code(string key, string kind)
    {
        CliFixture.Run run = await FromStdinAsync(key, "key", "derive", "m/0");

        run.ExitCode.Should().Be(2);
        run.Error.Should().StartWith($"atomic: stdin holds {kind}: a single key with no chain code, so no key can be derived from it");
        run.Error.Should().NotContain(key);
    }

    [Fact]
    public async Task The_key_comes_from_ATOMIC_KEY_by_default_and_its_absence_is_a_usage_error()
    {
        string? before = Environment.GetEnvironmentVariable(KeySecret.DefaultVariable);
        try
        {
            Environment.SetEnvironmentVariable(KeySecret.DefaultVariable, $"  {Vector1Master}\n");
            JsonElement json = Json(await CliFixture.RunAsync("", "key", "derive", "m/0'/1", "--json"));
            json.GetProperty("xprv").GetString().Should().Be(Vector1Child);

            Environment.SetEnvironmentVariable(KeySecret.DefaultVariable, null);
            CliFixture.Run run = await CliFixture.RunAsync("", "key", "show");
            run.ExitCode.Should().Be(2);
            run.Error.Should().StartWith("atomic: $ATOMIC_KEY is not set: put a mnemonic, an extended key");
        }
        finally
        {
            Environment.SetEnvironmentVariable(KeySecret.DefaultVariable, before);
        }
    }

    [Fact]
    public async Task A_key_typed_where_a_variable_name_belongs_is_refused_without_repeating_it()
    {
        CliFixture.Run run = await CliFixture.RunAsync("", "key", "show", "--key-from", OneWif);

        run.ExitCode.Should().Be(2);
        run.Error.Should().Contain("--key-from takes the name of an environment variable, or - for stdin, and 'KwDi…' is a key itself").And.NotContain(OneWif);
        CliFixture.Run words = await CliFixture.RunAsync("", "key", "show", "--key-from", "abandon abandon");
        words.ExitCode.Should().Be(2);
        words.Error.Should().Contain("'aban…' is neither").And.NotContain("abandon abandon");
    }

    [Theory]
    [InlineData(Abandon + " abandon", "stdin holds words, but not a BIP39 mnemonic: A BIP39 mnemonic has 12, 15, 18, 21 or 24 words; this one has 13.")]
    [InlineData("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
        "stdin holds words, but not a BIP39 mnemonic: The checksum of this 12-word mnemonic does not match")]
    [InlineData("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon zebraa",
        "stdin holds words, but not a BIP39 mnemonic: Word 12 of 12 is not in the BIP39 English word list.")]
    [InlineData("not-a-key", "stdin holds no key that can be read: not a mnemonic, an extended key (xprv, xpub, tprv, tpub), a hex key or a WIF")]
    [InlineData("00ff", "stdin holds 4 hex characters: a private key is 64, a public key 66 or 130")]
    [InlineData("xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHL",
        "stdin holds no key that can be read: not a mnemonic, an extended key (xprv, xpub, tprv, tpub), a hex key or a WIF (Not an extended key: The Base58Check checksum does not match.")]
    public async Task Unreadable_keys_are_usage_errors_saying_why(string key, string message)
    {
        CliFixture.Run run = await FromStdinAsync(key, "key", "show");

        run.ExitCode.Should().Be(2);
        run.Error.Should().StartWith($"atomic: {message}").And.NotContain("zebraa");
        run.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task An_empty_stdin_is_a_usage_error()
    {
        CliFixture.Run run = await CliFixture.RunAsync("  \n", "key", "show", "--key-from", "-");

        run.ExitCode.Should().Be(2);
        run.Error.Should().StartWith("atomic: stdin is empty");
    }

    [Fact]
    public async Task Key_show_describes_an_xprv_without_printing_it()
    {
        CliFixture.Run run = await FromStdinAsync(Vector1Child, "key", "show", "--json");
        JsonElement json = Json(run);
        ExtendedKey parent = ExtendedKey.Parse(Vector1Master).Derive("m/0'");

        json.GetProperty("kind").GetString().Should().Be("xprv");
        json.GetProperty("network").GetString().Should().Be("mainnet");
        json.GetProperty("compressed").GetBoolean().Should().BeTrue();
        json.GetProperty("xpub").GetString().Should().Be(Vector1ChildPublic);
        json.GetProperty("depth").GetInt32().Should().Be(2);
        json.GetProperty("childNumber").GetUInt32().Should().Be(1);
        json.GetProperty("hardened").GetBoolean().Should().BeFalse();
        json.GetProperty("parentFingerprint").GetString().Should().Be($"{parent.Fingerprint:x8}");
        json.GetProperty("fingerprint").GetString().Should().Be($"{ExtendedKey.Parse(Vector1Child).Fingerprint:x8}");
        json.GetProperty("address").GetString().Should().Be(ExtendedKey.Parse(Vector1Child).PublicKey.ToAddress());
        run.Out.Should().NotContain(Vector1Child);
        run.Error.Should().BeEmpty();

        CliFixture.Run text = await FromStdinAsync(Vector1Master, "key", "show");
        text.Out.Should().Contain("kind                xprv (BIP32 extended private key)").And.Contain("fingerprint         3442193e")
            .And.Contain("parent fingerprint  00000000").And.Contain("child number        0\n").And.NotContain(Vector1Master);
    }

    [Theory]
    [InlineData(OneWif, "wif", "mainnet", true, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH")]
    [InlineData(OneUncompressedWif, "wif", "mainnet", false, "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm")]
    [InlineData("cMahea7zqjxrtgAbB7LSGbcQUr1uX1ojuat9jZodMN87JcbXMTcA", "wif", "testnet", true, "mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r")]
    [InlineData(OneHex, "private-key-hex", "mainnet", true, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH")]
    [InlineData("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
        "public-key-hex", "mainnet", false, "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm")]
    public async Task Key_show_describes_single_keys_by_their_own_network_and_compression(string key, string kind, string network, bool compressed, string address)
    {
        CliFixture.Run run = await FromStdinAsync(key, "key", "show", "--json");
        JsonElement json = Json(run);

        json.GetProperty("kind").GetString().Should().Be(kind);
        json.GetProperty("network").GetString().Should().Be(network);
        json.GetProperty("compressed").GetBoolean().Should().Be(compressed);
        json.GetProperty("address").GetString().Should().Be(address);
        json.GetProperty("xpub").ValueKind.Should().Be(JsonValueKind.Null);
        run.Out.Should().NotContain(key.Length < 100 ? key : "never");
    }

    [Fact]
    public async Task Key_show_of_a_hex_key_or_a_mnemonic_takes_the_network_from_testnet()
    {
        JsonElement hex = Json(await FromStdinAsync(OneHex, "key", "show", "--json", "--testnet"));
        hex.GetProperty("address").GetString().Should().Be("mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r");

        JsonElement mnemonic = Json(await FromStdinAsync(Abandon, "key", "show", "--json", "--testnet"));
        mnemonic.GetProperty("kind").GetString().Should().Be("mnemonic");
        mnemonic.GetProperty("words").GetInt32().Should().Be(12);
        mnemonic.GetProperty("xpub").GetString().Should().Be(Mnemonic.Parse(Abandon).ToMasterKey(testnet: true).Neuter().ToBase58()).And.StartWith("tpub");
        mnemonic.GetProperty("depth").GetInt32().Should().Be(0);
    }

    [Fact]
    public async Task A_passphrase_for_a_key_that_is_not_a_mnemonic_is_a_usage_error()
    {
        string variable = $"ATOMIC_TEST_PASSPHRASE_{Guid.NewGuid():n}";
        Environment.SetEnvironmentVariable(variable, "TREZOR");

        CliFixture.Run run = await FromStdinAsync(Vector1Master, "key", "derive", "m/0", "--passphrase-env", variable);
        run.ExitCode.Should().Be(2);
        run.Error.Should().Be("atomic: --passphrase-env applies to a mnemonic, and stdin holds an xprv\n");

        CliFixture.Run unset = await FromStdinAsync(Abandon, "key", "show", "--passphrase-env", variable + "_UNSET");
        unset.ExitCode.Should().Be(2);
        unset.Error.Should().Contain("(--passphrase-env) is not set");
    }
}
