using Atomic.Bsv.Primitives.Secp256k1;
using System.Security.Cryptography;
using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Bsv.Tests.Primitives;

/// <summary>Tests of <see cref="PrivateKey"/> and <see cref="PublicKey"/> on both backends.</summary>
public class KeysTests
{
    private const string One = "0000000000000000000000000000000000000000000000000000000000000001";

    public static IEnumerable<object[]> Backends => TestBackends.Both;

    // Cases copied from the BRC-42 specification's secp256k1 vectors.
    public static IEnumerable<object[]> Brc42PrivateVectors()
    {
        (string SenderPublic, string RecipientPrivate, string Invoice, string Expected)[] vectors =
        [
            ("033f9160df035156f1c48e75eae99914fa1a1546bec19781e8eddb900200bff9d1",
                "6a1751169c111b4667a6539ee1be6b7cd9f6e9c8fe011a5f2fe31e03a15e0ede", "f3WCaUmnN9U=",
                "761656715bbfa172f8f9f58f5af95d9d0dfd69014cfdcacc9a245a10ff8893ef"),
            ("027775fa43959548497eb510541ac34b01d5ee9ea768de74244a4a25f7b60fae8d",
                "cab2500e206f31bc18a8af9d6f44f0b9a208c32d5cca2b22acfe9d1a213b2f36", "2Ska++APzEc=",
                "09f2b48bd75f4da6429ac70b5dce863d5ed2b350b6f2119af5626914bdb7c276"),
            ("03f20a7e71c4b276753969e8b7e8b67e2dbafc3958d66ecba98dedc60a6615336d",
                "e9d174eff5708a0a41b32624f9b9cc97ef08f8931ed188ee58d5390cad2bf68e", "jgpUIjWFlVQ=",
                "c5677c533f17c30f79a40744b18085632b262c0c13d87f3848c385f1389f79a6"),
        ];

        foreach (string backend in new[] { "native", "managed" })
        {
            foreach (var v in vectors)
            {
                yield return [backend, v.SenderPublic, v.RecipientPrivate, v.Invoice, v.Expected];
            }
        }
    }

    public static IEnumerable<object[]> Brc42PublicVectors()
    {
        (string SenderPrivate, string RecipientPublic, string Invoice, string Expected)[] vectors =
        [
            ("583755110a8c059de5cd81b8a04e1be884c46083ade3f779c1e022f6f89da94c",
                "02c0c1e1a1f7d247827d1bcf399f0ef2deef7695c322fd91a01a91378f101b6ffc", "IBioA4D/OaE=",
                "03c1bf5baadee39721ae8c9882b3cf324f0bf3b9eb3fc1b8af8089ca7a7c2e669f"),
            ("2c378b43d887d72200639890c11d79e8f22728d032a5733ba3d7be623d1bb118",
                "039a9da906ecb8ced5c87971e9c2e7c921e66ad450fd4fc0a7d569fdb5bede8e0f", "PWYuo9PDKvI=",
                "0398cdf4b56a3b2e106224ff3be5253afd5b72de735d647831be51c713c9077848"),
            ("7c98b8abd7967485cfb7437f9c56dd1e48ceb21a4085b8cdeb2a647f62012db4",
                "03c8885f1e1ab4facd0f3272bb7a48b003d2e608e1619fb38b8be69336ab828f37", "PPfDTTcl1ao=",
                "03304b41cfa726096ffd9d8907fe0835f888869eda9653bca34eb7bcab870d3779"),
        ];

        foreach (string backend in new[] { "native", "managed" })
        {
            foreach (var v in vectors)
            {
                yield return [backend, v.SenderPrivate, v.RecipientPublic, v.Invoice, v.Expected];
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Wif_round_trips_for_key_one(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var key = PrivateKey.FromHex(One, secp);

        key.ToWif().Should().Be("KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn");
        key.ToWif(compressed: false).Should().Be("5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf");
        key.ToWif(testnet: true).Should().Be("cMahea7zqjxrtgAbB7LSGbcQUr1uX1ojuat9jZodMN87JcbXMTcA");

        var parsed = PrivateKey.FromWif("5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf", out bool compressed, out bool testnet, secp);
        parsed.Should().Be(key);
        compressed.Should().BeFalse();
        testnet.Should().BeFalse();

        PrivateKey.FromWif("cMahea7zqjxrtgAbB7LSGbcQUr1uX1ojuat9jZodMN87JcbXMTcA", out compressed, out testnet, secp).ToHex().Should().Be(One);
        compressed.Should().BeTrue();
        testnet.Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Addresses_of_key_one_match_the_well_known_values(string backend)
    {
        var publicKey = PrivateKey.FromHex(One, Secp256k1Backends.Get(backend)).PublicKey;

        publicKey.ToAddress().Should().Be("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH");
        publicKey.ToAddress(compressed: false).Should().Be("1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm");
        publicKey.ToAddress(testnet: true).Should().Be("mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r");
        TestBackends.Hex(publicKey.ToHash160()).Should().Be("751e76e8199196d454941c45d1b3a323f1433bd6");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Sign_produces_DER_that_Verify_accepts(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var key = PrivateKey.FromHex(One, secp);
        var hash = TestBackends.Sha256("Satoshi Nakamoto");

        var der = key.Sign(hash);

        TestBackends.Hex(der).Should().Be(
            "3045022100934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8" +
            "02202442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5");
        key.PublicKey.Verify(hash, der).Should().BeTrue();
        PublicKey.FromBytes(key.PublicKey.ToBytes(compressed: false), secp).Verify(hash, der).Should().BeTrue();
        key.PublicKey.Verify(TestBackends.Sha256("Satoshi"), der).Should().BeFalse();
        key.PublicKey.Verify(hash, der.AsSpan(0, 10)).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Invalid_private_keys_throw_ArgumentException(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);

        foreach (var create in new Func<PrivateKey>[]
        {
            () => PrivateKey.FromBytes(new byte[32], secp),
            () => PrivateKey.FromBytes(new byte[31], secp),
            () => PrivateKey.FromHex(TestBackends.Order, secp),
            () => PrivateKey.FromHex("not hex", secp),
            () => PrivateKey.FromWif("KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWm", secp), // checksum broken
            () => PrivateKey.FromWif("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", secp), // an address, not a WIF
            () => PrivateKey.FromWif("KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoW0", secp), // '0' is not Base58
        })
        {
            create.Should().Throw<ArgumentException>();
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Invalid_public_keys_throw_ArgumentException(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);

        foreach (var create in new Func<PublicKey>[]
        {
            () => PublicKey.FromHex("020000000000000000000000000000000000000000000000000000000000000005", secp),
            () => PublicKey.FromHex("0579be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", secp),
            () => PublicKey.FromHex("zz", secp),
            () => PublicKey.FromBytes([], secp),
        })
        {
            create.Should().Throw<ArgumentException>();
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Public_keys_compare_by_point_not_encoding(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var key = PrivateKey.FromHex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721", secp);
        var compressed = key.PublicKey;
        var uncompressed = PublicKey.FromBytes(compressed.ToBytes(compressed: false), secp);

        uncompressed.Should().Be(compressed);
        uncompressed.GetHashCode().Should().Be(compressed.GetHashCode());
        uncompressed.ToHex().Should().Be(compressed.ToHex());
        compressed.Should().NotBe(PrivateKey.FromHex(One, secp).PublicKey);
        key.ToString().Should().NotContain(key.ToHex());
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Random_keys_are_valid_and_distinct(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);

        var a = PrivateKey.Random(secp);
        var b = PrivateKey.Random(secp);

        a.Should().NotBe(b);
        PrivateKey.FromWif(a.ToWif(), secp).Should().Be(a);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Shared_points_agree_between_parties(string backend)
    {
        var secp = Secp256k1Backends.Get(backend);
        var alice = PrivateKey.FromHex("6a1751169c111b4667a6539ee1be6b7cd9f6e9c8fe011a5f2fe31e03a15e0ede", secp);
        var bob = PrivateKey.FromHex("cab2500e206f31bc18a8af9d6f44f0b9a208c32d5cca2b22acfe9d1a213b2f36", secp);

        var ab = alice.DeriveSharedPoint(bob.PublicKey);

        ab.Should().HaveCount(33);
        ab.Should().Equal(bob.DeriveSharedPoint(alice.PublicKey));
    }

    [Theory]
    [MemberData(nameof(Brc42PrivateVectors))]
    public void Brc42_child_private_keys_match_the_specification(string backend, string senderPublic, string recipientPrivate, string invoice, string expected)
    {
        var secp = Secp256k1Backends.Get(backend);
        var recipient = PrivateKey.FromHex(recipientPrivate, secp);
        var shared = recipient.DeriveSharedPoint(PublicKey.FromHex(senderPublic, secp));
        var tweak = HMACSHA256.HashData(shared, Encoding.UTF8.GetBytes(invoice));

        var child = recipient.TweakAdd(tweak);

        child.ToHex().Should().Be(expected);
        recipient.PublicKey.TweakAdd(tweak).Should().Be(child.PublicKey);
    }

    [Theory]
    [MemberData(nameof(Brc42PublicVectors))]
    public void Brc42_child_public_keys_match_the_specification(string backend, string senderPrivate, string recipientPublic, string invoice, string expected)
    {
        var secp = Secp256k1Backends.Get(backend);
        var recipient = PublicKey.FromHex(recipientPublic, secp);
        var shared = PrivateKey.FromHex(senderPrivate, secp).DeriveSharedPoint(recipient);
        var tweak = HMACSHA256.HashData(shared, Encoding.UTF8.GetBytes(invoice));

        recipient.TweakAdd(tweak).ToHex().Should().Be(expected);
    }
}
