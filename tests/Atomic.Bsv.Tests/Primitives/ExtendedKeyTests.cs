using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Primitives.Secp256k1;

namespace Atomic.Bsv.Tests.Primitives;

/// <summary>Tests of <see cref="ExtendedKey"/> against BIP32's published vectors, on both secp256k1 backends.</summary>
public class ExtendedKeyTests
{
    // BIP32's test vectors 1 to 4 (bip-0032.mediawiki, "Test Vectors"): seed, then each chain's xpub and xprv.
    private static readonly Dictionary<string, string> Seeds = new()
    {
        ["1"] = "000102030405060708090a0b0c0d0e0f",
        ["2"] = "fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b7875726f6c696663605d5a5754514e4b484542",
        ["3"] = "4b381541583be4423346c643850da4b320e46a87ae3d2a4e6da11eba819cd4acba45d239319ac14f863b8d5ab5a0d0c64d2e8a1e7d1457df2e5a3c51c73235be",
        ["4"] = "3ddd5602285899a946114506157c7997e5444528f3003f6134712147db19b678",
    };

    public static TheoryData<string, string, string, string> Bip32Chains => new()
    {
        {
            "1", "m",
            "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
            "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"
        },
        {
            "1", "m/0'",
            "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw",
            "xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDYUhd7oWgT11eZG7XnxHrnYeSvkzY7d2bhkJ7"
        },
        {
            "1", "m/0'/1",
            "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ",
            "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8MSY3H2EU4pWcQDnRnrVA1xe8fs"
        },
        {
            "1", "m/0'/1/2'",
            "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5",
            "xprv9z4pot5VBttmtdRTWfWQmoH1taj2axGVzFqSb8C9xaxKymcFzXBDptWmT7FwuEzG3ryjH4ktypQSAewRiNMjANTtpgP4mLTj34bhnZX7UiM"
        },
        {
            "1", "m/0'/1/2'/2",
            "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV",
            "xprvA2JDeKCSNNZky6uBCviVfJSKyQ1mDYahRjijr5idH2WwLsEd4Hsb2Tyh8RfQMuPh7f7RtyzTtdrbdqqsunu5Mm3wDvUAKRHSC34sJ7in334"
        },
        {
            "1", "m/0'/1/2'/2/1000000000",
            "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy",
            "xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQjgPie1rFSruoUihUZREPSL39UNdE3BBDu76"
        },
        {
            "2", "m",
            "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB",
            "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U"
        },
        {
            "2", "m/0",
            "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH",
            "xprv9vHkqa6EV4sPZHYqZznhT2NPtPCjKuDKGY38FBWLvgaDx45zo9WQRUT3dKYnjwih2yJD9mkrocEZXo1ex8G81dwSM1fwqWpWkeS3v86pgKt"
        },
        {
            "2", "m/0/2147483647'",
            "xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a",
            "xprv9wSp6B7kry3Vj9m1zSnLvN3xH8RdsPP1Mh7fAaR7aRLcQMKTR2vidYEeEg2mUCTAwCd6vnxVrcjfy2kRgVsFawNzmjuHc2YmYRmagcEPdU9"
        },
        {
            "2", "m/0/2147483647'/1",
            "xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon",
            "xprv9zFnWC6h2cLgpmSA46vutJzBcfJ8yaJGg8cX1e5StJh45BBciYTRXSd25UEPVuesF9yog62tGAQtHjXajPPdbRCHuWS6T8XA2ECKADdw4Ef"
        },
        {
            "2", "m/0/2147483647'/1/2147483646'",
            "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL",
            "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc"
        },
        {
            "2", "m/0/2147483647'/1/2147483646'/2",
            "xpub6FnCn6nSzZAw5Tw7cgR9bi15UV96gLZhjDstkXXxvCLsUXBGXPdSnLFbdpq8p9HmGsApME5hQTZ3emM2rnY5agb9rXpVGyy3bdW6EEgAtqt",
            "xprvA2nrNbFZABcdryreWet9Ea4LvTJcGsqrMzxHx98MMrotbir7yrKCEXw7nadnHM8Dq38EGfSh6dqA9QWTyefMLEcBYJUuekgW4BYPJcr9E7j"
        },
        {
            "3", "m",
            "xpub661MyMwAqRbcEZVB4dScxMAdx6d4nFc9nvyvH3v4gJL378CSRZiYmhRoP7mBy6gSPSCYk6SzXPTf3ND1cZAceL7SfJ1Z3GC8vBgp2epUt13",
            "xprv9s21ZrQH143K25QhxbucbDDuQ4naNntJRi4KUfWT7xo4EKsHt2QJDu7KXp1A3u7Bi1j8ph3EGsZ9Xvz9dGuVrtHHs7pXeTzjuxBrCmmhgC6"
        },
        {
            "3", "m/0'",
            "xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CRDs6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MYo6oDaPPLPxSb7gwQN3ih19Zm4Y",
            "xprv9uPDJpEQgRQfDcW7BkF7eTya6RPxXeJCqCJGHuCJ4GiRVLzkTXBAJMu2qaMWPrS7AANYqdq6vcBcBUdJCVVFceUvJFjaPdGZ2y9WACViL4L"
        },
        {
            "4", "m",
            "xpub661MyMwAqRbcGczjuMoRm6dXaLDEhW1u34gKenbeYqAix21mdUKJyuyu5F1rzYGVxyL6tmgBUAEPrEz92mBXjByMRiJdba9wpnN37RLLAXa",
            "xprv9s21ZrQH143K48vGoLGRPxgo2JNkJ3J3fqkirQC2zVdk5Dgd5w14S7fRDyHH4dWNHUgkvsvNDCkvAwcSHNAQwhwgNMgZhLtQC63zxwhQmRv"
        },
        {
            "4", "m/0'",
            "xpub69AUMk3qDBi3uW1sXgjCmVjJ2G6WQoYSnNHyzkmdCHEhSZ4tBok37xfFEqHd2AddP56Tqp4o56AePAgCjYdvpW2PU2jbUPFKsav5ut6Ch1m",
            "xprv9vB7xEWwNp9kh1wQRfCCQMnZUEG21LpbR9NPCNN1dwhiZkjjeGRnaALmPXCX7SgjFTiCTT6bXes17boXtjq3xLpcDjzEuGLQBM5ohqkao9G"
        },
        {
            "4", "m/0'/1'",
            "xpub6BJA1jSqiukeaesWfxe6sNK9CCGaujFFSJLomWHprUL9DePQ4JDkM5d88n49sMGJxrhpjazuXYWdMf17C9T5XnxkopaeS7jGk1GyyVziaMt",
            "xprv9xJocDuwtYCMNAo3Zw76WENQeAS6WGXQ55RCy7tDJ8oALr4FWkuVoHJeHVAcAqiZLE7Je3vZJHxspZdFHfnBEjHqU5hG1Jaj32dVoS6XLT1"
        },
    };

    // BIP32's test vector 5: invalid extended keys, with the BIP's reason and what our message says.
    public static TheoryData<string, string, string> Bip32Invalid => new()
    {
        {
            "xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6LBpB85b3D2yc8sfvZU521AAwdZafEz7mnzBBsz4wKY5fTtTQBm",
            "pubkey version / prvkey mismatch", "it starts with 0x00"
        },
        {
            "xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFGTQQD3dC4H2D5GBj7vWvSQaaBv5cxi9gafk7NF3pnBju6dwKvH",
            "prvkey version / pubkey mismatch", "must be 0x00 and 32 private key bytes"
        },
        {
            "xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Txnt3siSujt9RCVYsx4qHZGc62TG4McvMGcAUjeuwZdduYEvFn",
            "invalid pubkey prefix 04", "it starts with 0x04"
        },
        {
            "xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFGpWnsj83BHtEy5Zt8CcDr1UiRXuWCmTQLxEK9vbz5gPstX92JQ",
            "invalid prvkey prefix 04", "it starts with 0x04"
        },
        {
            "xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6N8ZMMXctdiCjxTNq964yKkwrkBJJwpzZS4HS2fxvyYUA4q2Xe4",
            "invalid pubkey prefix 01", "it starts with 0x01"
        },
        {
            "xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFAzHGBP2UuGCqWLTAPLcMtD9y5gkZ6Eq3Rjuahrv17fEQ3Qen6J",
            "invalid prvkey prefix 01", "it starts with 0x01"
        },
        {
            "xprv9s2SPatNQ9Vc6GTbVMFPFo7jsaZySyzk7L8n2uqKXJen3KUmvQNTuLh3fhZMBoG3G4ZW1N2kZuHEPY53qmbZzCHshoQnNf4GvELZfqTUrcv",
            "zero depth with non-zero parent fingerprint", "has depth 0 (a master key) but parent fingerprint"
        },
        {
            "xpub661no6RGEX3uJkY4bNnPcw4URcQTrSibUZ4NqJEw5eBkv7ovTwgiT91XX27VbEXGENhYRCf7hyEbWrR3FewATdCEebj6znwMfQkhRYHRLpJ",
            "zero depth with non-zero parent fingerprint", "has depth 0 (a master key) but parent fingerprint"
        },
        {
            "xprv9s21ZrQH4r4TsiLvyLXqM9P7k1K3EYhA1kkD6xuquB5i39AU8KF42acDyL3qsDbU9NmZn6MsGSUYZEsuoePmjzsB3eFKSUEh3Gu1N3cqVUN",
            "zero depth with non-zero index", "has depth 0 (a master key) but parent fingerprint"
        },
        {
            "xpub661MyMwAuDcm6CRQ5N4qiHKrJ39Xe1R1NyfouMKTTWcguwVcfrZJaNvhpebzGerh7gucBvzEQWRugZDuDXjNDRmXzSZe4c7mnTK97pTvGS8",
            "zero depth with non-zero index", "has depth 0 (a master key) but parent fingerprint"
        },
        {
            "DMwo58pR1QLEFihHiXPVykYB6fJmsTeHvyTp7hRThAtCX8CvYzgPcn8XnmdfHGMQzT7ayAmfo4z3gY5KfbrZWZ6St24UVf2Qgo6oujFktLHdHY4",
            "unknown extended key version", "unknown version bytes"
        },
        {
            "DMwo58pR1QLEFihHiXPVykYB6fJmsTeHvyTp7hRThAtCX8CvYzgPcn8XnmdfHPmHJiEDXkTiJTVV9rHEBUem2mwVbbNfvT2MTcAqj3nesx8uBf9",
            "unknown extended key version", "unknown version bytes"
        },
        {
            "xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzF93Y5wvzdUayhgkkFoicQZcP3y52uPPxFnfoLZB21Teqt1VvEHx",
            "private key 0 not in 1..n-1", "is not a scalar in [1, n-1]"
        },
        {
            "xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFAzHGBP2UuGCqWLTAPLcMtD5SDKr24z3aiUvKr9bJpdrcLg1y3G",
            "private key n not in 1..n-1", "is not a scalar in [1, n-1]"
        },
        {
            "xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Q5JXayek4PRsn35jii4veMimro1xefsM58PgBMrvdYre8QyULY",
            "invalid pubkey 020000000000000000000000000000000000000000000000000000000000000007", "but is not on the curve"
        },
        {
            "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHL",
            "invalid checksum", "checksum does not match"
        },
    };

    [Theory]
    [MemberData(nameof(Bip32Chains))]
    public void Bip32_vectors_derive_from_the_seed_and_round_trip_as_text(string vector, string path, string xpub, string xprv)
    {
        foreach (ISecp256k1 backend in new[] { "native", "managed" }.Select(Secp256k1Backends.Get))
        {
            ExtendedKey master = ExtendedKey.FromSeed(TestBackends.Hex(Seeds[vector]), secp256k1: backend);
            ExtendedKey key = master.Derive(path);

            key.ToBase58().Should().Be(xprv, $"vector {vector} {path}, private");
            key.Neuter().ToBase58().Should().Be(xpub, $"vector {vector} {path}, public");
            key.Depth.Should().Be(DerivationPath.Parse(path).Indexes.Count);

            ExtendedKey parsedPrivate = ExtendedKey.Parse(xprv, backend);
            parsedPrivate.IsPrivate.Should().BeTrue();
            parsedPrivate.IsTestnet.Should().BeFalse();
            parsedPrivate.ToBase58().Should().Be(xprv);
            parsedPrivate.PrivateKey!.PublicKey.Should().Be(key.PublicKey);
            parsedPrivate.ChainCode.Should().Equal(key.ChainCode);

            ExtendedKey parsedPublic = ExtendedKey.Parse(xpub, backend);
            parsedPublic.IsPrivate.Should().BeFalse();
            parsedPublic.PrivateKey.Should().BeNull();
            parsedPublic.PublicKey.Should().Be(key.PublicKey);
            parsedPublic.ToBase58().Should().Be(xpub);
        }
    }

    [Theory]
    [MemberData(nameof(Bip32Chains))]
    public void A_non_hardened_child_derives_alike_from_the_parent_xpub(string vector, string path, string xpub, string xprv)
    {
        _ = xprv;
        var steps = DerivationPath.Parse(path).Indexes;
        if (steps.Count == 0 || steps[^1] >= DerivationPath.HardenedBit)
        {
            return;
        }

        ExtendedKey parent = ExtendedKey.FromSeed(TestBackends.Hex(Seeds[vector])).Derive(new DerivationPath([.. steps.Take(steps.Count - 1)]));
        ExtendedKey child = parent.Neuter().Derive(new DerivationPath(steps[^1]));

        child.ToBase58().Should().Be(xpub);
        child.ParentFingerprint.Should().Be(parent.Fingerprint);
        child.ChildNumber.Should().Be(steps[^1]);
    }

    [Fact]
    public void Fingerprints_depth_and_child_numbers_are_read_from_the_key()
    {
        // BIP32 vector 1: the master's identifier is 3442193e1bb70916e914552172cd4e2dbc9df811.
        ExtendedKey master = ExtendedKey.Parse("xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi");
        master.Fingerprint.Should().Be(0x3442193e);
        master.ParentFingerprint.Should().Be(0);
        master.Depth.Should().Be(0);
        master.ChildNumber.Should().Be(0);

        ExtendedKey hardened = master.Derive("m/0h");
        hardened.ParentFingerprint.Should().Be(0x3442193e);
        hardened.ChildNumber.Should().Be(DerivationPath.HardenedBit);
        hardened.IsHardened.Should().BeTrue();
        ExtendedKey grandchild = hardened.Derive("1");
        grandchild.Depth.Should().Be(2);
        grandchild.ParentFingerprint.Should().Be(hardened.Fingerprint);
        grandchild.IsHardened.Should().BeFalse();
        master.Derive("m/0'/1").ToBase58().Should().Be(grandchild.ToBase58());
    }

    [Theory]
    [MemberData(nameof(Bip32Invalid))]
    public void Bip32_invalid_keys_are_refused_saying_why(string text, string reason, string message)
    {
        var parse = () => ExtendedKey.Parse(text);

        parse.Should().Throw<ArgumentException>(reason).Which.Message.Should().Contain(message);
    }

    [Fact]
    public void Text_of_the_wrong_length_or_not_Base58_is_refused_saying_why()
    {
        byte[] data = Base58.DecodeCheck("xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8");

        FluentActions.Invoking(() => ExtendedKey.Parse(Base58.EncodeCheck(data.AsSpan(0, 77))))
            .Should().Throw<ArgumentException>().Which.Message.Should().Contain("an extended key is 78 bytes, this text holds 77");
        FluentActions.Invoking(() => ExtendedKey.Parse(Base58.EncodeCheck([.. data, 0])))
            .Should().Throw<ArgumentException>().Which.Message.Should().Contain("this text holds 79");
        FluentActions.Invoking(() => ExtendedKey.Parse("xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet0"))
            .Should().Throw<ArgumentException>().Which.Message.Should().StartWith("Not an extended key: '0' at position 110 is not a Base58 character.");
        FluentActions.Invoking(() => ExtendedKey.Parse("KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn"))
            .Should().Throw<ArgumentException>().Which.Message.Should().Contain("this text holds 34");
    }

    [Fact]
    public void Testnet_keys_are_tprv_and_tpub_and_convert_to_mainnet()
    {
        ExtendedKey mainnet = ExtendedKey.FromSeed(TestBackends.Hex(Seeds["1"])).Derive("m/0'/1");
        ExtendedKey testnet = ExtendedKey.FromSeed(TestBackends.Hex(Seeds["1"]), testnet: true).Derive("m/0'/1");

        testnet.IsTestnet.Should().BeTrue();
        testnet.ToBase58().Should().StartWith("tprv");
        testnet.Neuter().ToBase58().Should().StartWith("tpub");
        ExtendedKey.Parse(testnet.ToBase58()).IsTestnet.Should().BeTrue();
        ExtendedKey.Parse(testnet.Neuter().ToBase58()).ToBase58().Should().Be(testnet.Neuter().ToBase58());
        testnet.ForNetwork(testnet: false).ToBase58().Should().Be(mainnet.ToBase58());
        mainnet.ForNetwork(testnet: true).Neuter().ToBase58().Should().Be(testnet.Neuter().ToBase58());
        testnet.PublicKey.Should().Be(mainnet.PublicKey);
    }

    [Fact]
    public void A_public_key_refuses_a_hardened_path_naming_the_step()
    {
        ExtendedKey xpub = ExtendedKey.FromSeed(TestBackends.Hex(Seeds["1"])).Neuter();

        var derive = () => xpub.Derive("m/0/1h/2");

        derive.Should().Throw<ArgumentException>().Which.Message.Should().StartWith(
            "Step 2 of the path m/0/1'/2 is hardened (1'), and a public extended key can derive only non-hardened children");
        xpub.Derive("m/0/1/2").PublicKey.Should().Be(ExtendedKey.FromSeed(TestBackends.Hex(Seeds["1"])).Derive("0/1/2").PublicKey);
    }

    [Fact]
    public void Seeds_outside_16_to_64_bytes_are_refused()
    {
        FluentActions.Invoking(() => ExtendedKey.FromSeed(new byte[15])).Should().Throw<ArgumentException>().WithMessage("A BIP32 seed is 16 to 64 bytes, not 15.*");
        FluentActions.Invoking(() => ExtendedKey.FromSeed(new byte[65])).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Keys_handed_out_are_ours_and_text_of_a_private_key_stays_out_of_ToString()
    {
        ExtendedKey key = ExtendedKey.FromSeed(TestBackends.Hex(Seeds["2"])).Derive("m/0/2147483647'");
        PrivateKey privateKey = key.PrivateKey!;

        privateKey.PublicKey.Should().Be(key.PublicKey);
        PrivateKey.FromWif(privateKey.ToWif()).Should().Be(privateKey);
        key.ToString().Should().NotContain(key.ToBase58()).And.Contain(key.Neuter().ToBase58());
        key.Neuter().ToString().Should().Be(key.Neuter().ToBase58());
    }
}
