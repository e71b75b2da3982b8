using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Keys;

namespace Atomic.Identity.Tests;

public class KeyDeriverTests
{
    private static readonly PrivateKey Alice = PrivateKey.FromHex("6a2991c9de20e38b31d7ea147bf55f5039e4bbc073160f5e0d541d1f17e321b8");
    private static readonly PrivateKey Bob = PrivateKey.FromHex("1111111111111111111111111111111111111111111111111111111111111111");
    private static readonly WalletProtocol Protocol = new(2, "tests of identity");

    public static TheoryData<int> Brc42PrivateRows() => Rows("privateKeyDerivation");

    public static TheoryData<int> Brc42PublicRows() => Rows("publicKeyDerivation");

    [Theory]
    [MemberData(nameof(Brc42PrivateRows))]
    public void BRC42_private_key_vectors_derive_the_published_child(int row)
    {
        // bitcoin-sv/BRCs key-derivation/0042.md (Vectors/brc42_vectors.json).
        JsonElement v = VectorFiles.Load("brc42_vectors.json").GetProperty("privateKeyDerivation")[row];
        PrivateKey child = KeyDeriver.DeriveChild(
            PrivateKey.FromHex(v.GetProperty("recipientPrivateKey").GetString()!),
            PublicKey.FromHex(v.GetProperty("senderPublicKey").GetString()!),
            v.GetProperty("invoiceNumber").GetString()!);
        child.ToHex().Should().Be(v.GetProperty("privateKey").GetString());
    }

    [Theory]
    [MemberData(nameof(Brc42PublicRows))]
    public void BRC42_public_key_vectors_derive_the_published_child(int row)
    {
        JsonElement v = VectorFiles.Load("brc42_vectors.json").GetProperty("publicKeyDerivation")[row];
        PublicKey child = KeyDeriver.DeriveChild(
            PublicKey.FromHex(v.GetProperty("recipientPublicKey").GetString()!),
            PrivateKey.FromHex(v.GetProperty("senderPrivateKey").GetString()!),
            v.GetProperty("invoiceNumber").GetString()!);
        child.ToHex().Should().Be(v.GetProperty("publicKey").GetString());
    }

    public static TheoryData<string> KeyDerivationIds() => VectorFiles.ConformanceIds("key-derivation.json");

    [Theory]
    [MemberData(nameof(KeyDerivationIds))]
    public void Conformance_key_derivation_rows_agree(string id)
    {
        // ts-stack conformance/vectors/sdk/keys/key-derivation.json: only its deriveChild rows concern us.
        JsonElement input = VectorFiles.ConformanceRow("key-derivation.json", id).GetProperty("input");
        JsonElement expected = VectorFiles.ConformanceRow("key-derivation.json", id).GetProperty("expected");
        if (expected.TryGetProperty("derived_private_key_hex", out JsonElement priv))
        {
            KeyDeriver.DeriveChild(
                PrivateKey.FromHex(input.GetProperty("recipient_private_key_hex").GetString()!),
                PublicKey.FromHex(input.GetProperty("sender_public_key_hex").GetString()!),
                input.GetProperty("invoice_number").GetString()!).ToHex().Should().Be(priv.GetString());
        }
        else if (expected.TryGetProperty("derived_public_key_hex", out JsonElement pub))
        {
            KeyDeriver.DeriveChild(
                PublicKey.FromHex(input.GetProperty("recipient_public_key_hex").GetString()!),
                PrivateKey.FromHex(input.GetProperty("sender_private_key_hex").GetString()!),
                input.GetProperty("invoice_number").GetString()!).ToHex().Should().Be(pub.GetString());
        }
    }

    public static TheoryData<string> GetPublicKeyIds() => VectorFiles.ConformanceIds("brc100/getpublickey.json");

    [Theory]
    [MemberData(nameof(GetPublicKeyIds))]
    public void Conformance_getPublicKey_rows_give_the_key_or_the_same_error(string id)
    {
        // ts-stack conformance/vectors/wallet/brc100/getpublickey.json (@bsv/sdk ProtoWallet, forSelf false).
        JsonElement row = VectorFiles.ConformanceRow("brc100/getpublickey.json", id);
        JsonElement args = row.GetProperty("input").GetProperty("args");
        var deriver = new KeyDeriver(PrivateKey.FromHex(row.GetProperty("input").GetProperty("root_key").GetString()!));
        Func<PublicKey> derive = () => deriver.DerivePublicKey(
            ProtocolOf(args), args.GetProperty("keyID").GetString()!, Counterparty.Parse(args.GetProperty("counterparty").GetString()!));
        JsonElement expected = row.GetProperty("expected");
        if (expected.TryGetProperty("publicKey", out JsonElement key))
        {
            derive().ToHex().Should().Be(key.GetString());
        }
        else
        {
            derive.Should().Throw<ArgumentException>().Which.Message.Should().StartWith(expected.GetProperty("message").GetString());
        }
    }

    [Fact]
    public void A_key_derived_for_a_counterparty_is_the_public_key_of_the_private_key_the_counterparty_derives()
    {
        var alice = new KeyDeriver(Alice);
        var bob = new KeyDeriver(Bob);
        PublicKey forBob = alice.DerivePublicKey(Protocol, "7", Bob.PublicKey);
        bob.DerivePrivateKey(Protocol, "7", Alice.PublicKey).PublicKey.Should().Be(forBob);
        bob.DerivePublicKey(Protocol, "7", Alice.PublicKey, forSelf: true).Should().Be(forBob);
        alice.DerivePublicKey(Protocol, "8", Bob.PublicKey).Should().NotBe(forBob);
    }

    [Fact]
    public void Both_sides_derive_the_same_symmetric_key()
    {
        var alice = new KeyDeriver(Alice);
        var bob = new KeyDeriver(Bob);
        alice.DeriveSymmetricKey(Protocol, "k", Bob.PublicKey).ToBytes()
            .Should().Equal(bob.DeriveSymmetricKey(Protocol, "k", Alice.PublicKey).ToBytes());
        alice.DeriveSymmetricKey(Protocol, "k", Counterparty.Anyone).ToBytes()
            .Should().NotEqual(alice.DeriveSymmetricKey(Protocol, "k", Counterparty.Self).ToBytes());
    }

    [Fact]
    public void Self_and_anyone_stand_for_the_identity_key_and_the_key_of_one()
    {
        var alice = new KeyDeriver(Alice);
        alice.DerivePrivateKey(Protocol, "1", Counterparty.Self).Should().Be(alice.DerivePrivateKey(Protocol, "1", Alice.PublicKey));
        alice.DerivePrivateKey(Protocol, "1", Counterparty.Anyone)
            .Should().Be(alice.DerivePrivateKey(Protocol, "1",
                PublicKey.FromHex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")));
        KeyDeriver.ForAnyone().IdentityKey.ToHex().Should().Be("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
    }

    [Fact]
    public void The_counterparty_secret_is_the_shared_point_and_the_specific_secret_is_the_child_tweak()
    {
        var alice = new KeyDeriver(Alice);
        byte[] shared = alice.RevealCounterpartySecret(Bob.PublicKey);
        shared.Should().Equal(Bob.DeriveSharedPoint(Alice.PublicKey));
        byte[] tweak = alice.RevealSpecificSecret(Bob.PublicKey, Protocol, "9");
        // The child private key is the root plus the tweak, so the tweak is what links the two (BRC-72).
        alice.DerivePrivateKey(Protocol, "9", Bob.PublicKey).Should().Be(Alice.TweakAdd(tweak));
    }

    [Fact]
    public void A_tweak_at_or_above_the_curve_order_counts_modulo_n_as_in_the_sdk()
    {
        byte[] n = Hex.Decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
        byte[] nPlus5 = (byte[])n.Clone();
        nPlus5[31] += 5;
        KeyDeriver.ReduceModN(nPlus5).Should().Equal(Hex.Decode("0000000000000000000000000000000000000000000000000000000000000005"));
        KeyDeriver.ReduceModN(n).Should().Equal(new byte[32]);
        byte[] below = (byte[])n.Clone();
        below[31] -= 1;
        KeyDeriver.ReduceModN(below).Should().Equal(below);
    }

    [Fact]
    public void The_counterparty_secret_is_never_revealed_for_self()
    {
        var alice = new KeyDeriver(Alice);
        alice.Invoking(a => a.RevealCounterpartySecret(Counterparty.Self))
            .Should().Throw<ArgumentException>().WithMessage("*counterparty=self*");
        alice.Invoking(a => a.RevealCounterpartySecret(Alice.PublicKey)).Should().Throw<ArgumentException>();
    }

    [Theory]
    [InlineData(0, "hello world", "1", "0-hello world-1")]
    [InlineData(2, "  Hello World  ", "key id with spaces", "2-hello world-key id with spaces")]
    [InlineData(1, "abcde", "x", "1-abcde-x")]
    public void Invoice_numbers_follow_BRC43(int level, string name, string keyId, string expected) =>
        InvoiceNumber.Compute(new WalletProtocol(level, name), keyId).Should().Be(expected);

    [Theory]
    [InlineData(3, "hello world", "1", "Protocol security level must be 0, 1, or 2*")]
    [InlineData(-1, "hello world", "1", "Protocol security level must be 0, 1, or 2*")]
    [InlineData(0, "abcd", "1", "Protocol names must be 5 characters or more*")]
    [InlineData(0, "hello  world", "1", "Protocol names cannot contain multiple consecutive spaces*")]
    [InlineData(0, "hello-world", "1", "Protocol names can only contain letters, numbers and spaces*")]
    [InlineData(0, "héllo world", "1", "Protocol names can only contain letters, numbers and spaces*")]
    [InlineData(0, "payment protocol", "1", "No need to end your protocol name with \" protocol\"*")]
    [InlineData(0, "hello world", "", "Key IDs must be 1 character or more*")]
    public void Invoice_numbers_refuse_what_the_sdk_refuses(int level, string name, string keyId, string message) =>
        FluentActions.Invoking(() => InvoiceNumber.Compute(new WalletProtocol(level, name), keyId))
            .Should().Throw<ArgumentException>().WithMessage(message);

    [Fact]
    public void Invoice_number_length_limits_are_the_sdks()
    {
        var ok = new WalletProtocol(0, "hello world");
        InvoiceNumber.Compute(ok, new string('k', 800)).Should().EndWith("-" + new string('k', 800));
        FluentActions.Invoking(() => InvoiceNumber.Compute(ok, new string('k', 801)))
            .Should().Throw<ArgumentException>().WithMessage("Key IDs must be 800 characters or less*");
        InvoiceNumber.Compute(new WalletProtocol(0, new string('a', 400)), "1").Should().HaveLength(400 + 4);
        FluentActions.Invoking(() => InvoiceNumber.Compute(new WalletProtocol(0, new string('a', 401)), "1"))
            .Should().Throw<ArgumentException>().WithMessage("Protocol names must be 400 characters or less*");
        string linkage = "specific linkage revelation 2 " + new string('a', 400);
        InvoiceNumber.Compute(new WalletProtocol(2, linkage), "1").Should().Be($"2-{linkage}-1");
        FluentActions.Invoking(() => InvoiceNumber.Compute(new WalletProtocol(2, linkage + "a"), "1"))
            .Should().Throw<ArgumentException>().WithMessage("Specific linkage revelation protocol names must be 430 characters or less*");
    }

    [Fact]
    public void Bad_counterparty_text_is_an_argument_error()
    {
        FluentActions.Invoking(() => Counterparty.Parse("02abcd")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => Counterparty.Parse("not hex")).Should().Throw<ArgumentException>();
        Counterparty.Parse("self").Should().Be(Counterparty.Self);
        Counterparty.Parse(Hex.Encode(Bob.PublicKey.ToBytes())).PublicKey.Should().Be(Bob.PublicKey);
    }

    internal static WalletProtocol ProtocolOf(JsonElement args)
    {
        JsonElement p = args.GetProperty("protocolID");
        return new WalletProtocol(p[0].GetInt32(), p[1].GetString()!);
    }

    private static TheoryData<int> Rows(string section)
    {
        var data = new TheoryData<int>();
        int count = VectorFiles.Load("brc42_vectors.json").GetProperty(section).GetArrayLength();
        for (int i = 0; i < count; i++)
        {
            data.Add(i);
        }

        return data;
    }
}
