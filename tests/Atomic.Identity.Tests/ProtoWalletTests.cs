using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Crypto;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests;

public class ProtoWalletTests
{
    private static readonly PrivateKey AliceKey = PrivateKey.FromHex("6a2991c9de20e38b31d7ea147bf55f5039e4bbc073160f5e0d541d1f17e321b8");
    private static readonly PrivateKey BobKey = PrivateKey.FromHex("1111111111111111111111111111111111111111111111111111111111111111");
    private static readonly WalletProtocol Protocol = new(2, "tests of identity");

    [Fact]
    public void The_BRC2_spec_ciphertext_decrypts_and_its_HMAC_matches()
    {
        // bitcoin-sv/BRCs wallet/0002.md (Vectors/spec_examples.json "BRC-2_encryption").
        JsonElement v = VectorFiles.Load("spec_examples.json").GetProperty("BRC-2_encryption");
        var wallet = new ProtoWallet(PrivateKey.FromHex(v.GetProperty("identityPrivateKey").GetString()!));
        wallet.IdentityKey.ToHex().Should().Be(v.GetProperty("identityPublicKey").GetString());
        var protocol = KeyDeriverTests.ProtocolOf(v);
        string keyId = v.GetProperty("keyID").GetString()!;
        var counterparty = Counterparty.Parse(v.GetProperty("counterparty").GetString()!);
        byte[] plaintext = wallet.Decrypt(VectorFiles.Bytes(v.GetProperty("ciphertext_with_iv_bytes")), protocol, keyId, counterparty);
        Encoding.UTF8.GetString(plaintext).Should().Be(v.GetProperty("plaintext").GetString());
        byte[] message = Encoding.UTF8.GetBytes(v.GetProperty("hmac_message").GetString()!);
        wallet.CreateHmac(message, protocol, keyId, counterparty).Should().Equal(VectorFiles.Bytes(v.GetProperty("hmac_bytes")));
    }

    public static TheoryData<string> CreateSignatureIds() => VectorFiles.ConformanceIds("brc100/createsignature.json");

    public static TheoryData<string> CreateHmacIds() => VectorFiles.ConformanceIds("brc100/createhmac.json");

    public static TheoryData<string> EncryptIds() => VectorFiles.ConformanceIds("brc100/encrypt.json");

    public static TheoryData<string> DecryptIds() => VectorFiles.ConformanceIds("brc100/decrypt.json");

    public static TheoryData<string> VerifySignatureIds() => VectorFiles.ConformanceIds("brc100/verifysignature.json");

    public static TheoryData<string> VerifyHmacIds() => VectorFiles.ConformanceIds("brc100/verifyhmac.json");

    [Theory]
    [MemberData(nameof(CreateSignatureIds))]
    public void Conformance_createSignature_rows_give_the_same_DER_bytes(string id) =>
        // ts-stack conformance/vectors/wallet/brc100/createsignature.json: RFC 6979 makes the bytes deterministic.
        Check("brc100/createsignature.json", id, (w, a) => w.CreateSignature(Utf8(a), Proto(a), KeyId(a), Party(a)), "signature");

    [Theory]
    [MemberData(nameof(CreateHmacIds))]
    public void Conformance_createHmac_rows_give_the_same_HMAC(string id) =>
        Check("brc100/createhmac.json", id, (w, a) => w.CreateHmac(Utf8(a), Proto(a), KeyId(a), Party(a)), "hmac");

    [Theory]
    [MemberData(nameof(EncryptIds))]
    public void Conformance_encrypt_rows_decrypt_back_to_their_data(string id)
    {
        // The IV is random, so the check is that what @bsv/sdk encrypted decrypts here, and errors are the same.
        JsonElement row = VectorFiles.ConformanceRow("brc100/encrypt.json", id);
        JsonElement args = row.GetProperty("input").GetProperty("args");
        ProtoWallet wallet = WalletOf(row);
        JsonElement expected = row.GetProperty("expected");
        if (expected.TryGetProperty("ciphertext", out JsonElement ciphertext))
        {
            // These rows were generated passing "data" where @bsv/sdk reads "plaintext", so it encrypted nothing:
            // each ciphertext is IV || tag of the empty message, which its decrypt (and ours) refuses. Check the tag.
            byte[] message = VectorFiles.Bytes(ciphertext);
            message.Should().HaveCount(SymmetricKey.IvSize + SymmetricKey.TagSize);
            byte[] key = wallet.KeyDeriver.DeriveSymmetricKey(Proto(args), KeyId(args), Party(args)).ToBytes();
            SdkAesGcm.TryDecrypt(key, message.AsSpan(0, 32), [], message.AsSpan(32), []).Should().BeTrue();
            byte[] wrongKey = wallet.KeyDeriver.DeriveSymmetricKey(Proto(args), KeyId(args) + "x", Party(args)).ToBytes();
            SdkAesGcm.TryDecrypt(wrongKey, message.AsSpan(0, 32), [], message.AsSpan(32), []).Should().BeFalse();
            wallet.Decrypt(wallet.Encrypt(Utf8(args), Proto(args), KeyId(args), Party(args)), Proto(args), KeyId(args), Party(args))
                .Should().Equal(Utf8(args));
        }
        else
        {
            wallet.Invoking(w => w.Encrypt(Utf8(args), Proto(args), KeyId(args), Party(args)))
                .Should().Throw<ArgumentException>().WithMessage(expected.GetProperty("message").GetString() + "*");
        }
    }

    [Theory]
    [MemberData(nameof(DecryptIds))]
    public void Conformance_decrypt_rows_give_the_plaintext_or_fail(string id)
    {
        JsonElement row = VectorFiles.ConformanceRow("brc100/decrypt.json", id);
        JsonElement args = row.GetProperty("input").GetProperty("args");
        ProtoWallet wallet = WalletOf(row);
        JsonElement expected = row.GetProperty("expected");
        Func<byte[]> decrypt = () => wallet.Decrypt(VectorFiles.Bytes(args.GetProperty("ciphertext")),
            Proto(args), KeyId(args), Party(args));
        if (expected.TryGetProperty("plaintext", out JsonElement plaintext))
        {
            decrypt().Should().Equal(VectorFiles.Bytes(plaintext));
        }
        else if (expected.TryGetProperty("message", out JsonElement message))
        {
            decrypt.Should().Throw<ArgumentException>().WithMessage(message.GetString() + "*");
        }
        else
        {
            decrypt.Should().Throw<CryptographicException>();
        }
    }

    [Theory]
    [MemberData(nameof(VerifySignatureIds))]
    public void Conformance_verifySignature_rows_give_the_same_verdict(string id)
    {
        JsonElement row = VectorFiles.ConformanceRow("brc100/verifysignature.json", id);
        JsonElement args = row.GetProperty("input").GetProperty("args");
        ProtoWallet wallet = WalletOf(row);
        bool forSelf = args.TryGetProperty("forSelf", out JsonElement f) && f.GetBoolean();
        byte[] signature = VectorFiles.Bytes(args.GetProperty("signature"));
        Func<bool> verify = args.TryGetProperty("hashToDirectlyVerify", out JsonElement hash)
            ? () => wallet.VerifySignatureForHash(VectorFiles.Bytes(hash), signature, Proto(args), KeyId(args), Party(args), forSelf)
            : () => wallet.VerifySignature(VectorFiles.Bytes(args.GetProperty("data")), signature,
                Proto(args), KeyId(args), Party(args), forSelf);
        ExpectVerdict(row.GetProperty("expected"), verify, "Signature is not valid");
    }

    [Theory]
    [MemberData(nameof(VerifyHmacIds))]
    public void Conformance_verifyHmac_rows_give_the_same_verdict(string id)
    {
        JsonElement row = VectorFiles.ConformanceRow("brc100/verifyhmac.json", id);
        JsonElement args = row.GetProperty("input").GetProperty("args");
        ProtoWallet wallet = WalletOf(row);
        ExpectVerdict(
            row.GetProperty("expected"),
            () => wallet.VerifyHmac(VectorFiles.Bytes(args.GetProperty("data")), VectorFiles.Bytes(args.GetProperty("hmac")),
                Proto(args), KeyId(args), Party(args)),
            "HMAC is not valid");
    }

    [Fact]
    public void A_signature_for_a_counterparty_verifies_only_there_and_only_over_the_same_data()
    {
        var alice = new ProtoWallet(AliceKey);
        var bob = new ProtoWallet(BobKey);
        byte[] signature = alice.CreateSignature("pay 5"u8, Protocol, "1", BobKey.PublicKey);
        bob.VerifySignature("pay 5"u8, signature, Protocol, "1", AliceKey.PublicKey).Should().BeTrue();
        bob.VerifySignature("pay 6"u8, signature, Protocol, "1", AliceKey.PublicKey).Should().BeFalse();
        bob.VerifySignature("pay 5"u8, signature, Protocol, "2", AliceKey.PublicKey).Should().BeFalse();
        alice.VerifySignature("pay 5"u8, signature, Protocol, "1", BobKey.PublicKey, forSelf: true).Should().BeTrue();
        ProtoWallet.ForAnyone().VerifySignature("pay 5"u8, signature, Protocol, "1", AliceKey.PublicKey).Should().BeFalse();
        bob.VerifySignature("pay 5"u8, [0x30, 0x01], Protocol, "1", AliceKey.PublicKey).Should().BeFalse();
    }

    [Fact]
    public void The_default_signature_is_for_anyone_and_a_hash_can_be_signed_directly()
    {
        var alice = new ProtoWallet(AliceKey);
        byte[] hash = SHA256.HashData("doc"u8);
        byte[] signature = alice.CreateSignatureForHash(hash, Protocol, "1");
        signature.Should().Equal(alice.CreateSignature("doc"u8, Protocol, "1"));
        ProtoWallet.ForAnyone().VerifySignatureForHash(hash, signature, Protocol, "1", AliceKey.PublicKey).Should().BeTrue();
        alice.Invoking(w => w.CreateSignatureForHash(new byte[33].Select(_ => (byte)1).ToArray(), Protocol, "1"))
            .Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Encryption_between_two_wallets_round_trips_and_stays_private()
    {
        var alice = new ProtoWallet(AliceKey);
        var bob = new ProtoWallet(BobKey);
        byte[] ciphertext = alice.Encrypt("secret"u8, Protocol, "m1", BobKey.PublicKey);
        bob.Decrypt(ciphertext, Protocol, "m1", AliceKey.PublicKey).Should().Equal("secret"u8.ToArray());
        bob.Invoking(w => w.Decrypt(ciphertext, Protocol, "m2", AliceKey.PublicKey)).Should().Throw<CryptographicException>();
        new ProtoWallet(PrivateKey.Random()).Invoking(w => w.Decrypt(ciphertext, Protocol, "m1", AliceKey.PublicKey))
            .Should().Throw<CryptographicException>();
        bob.Invoking(w => w.Decrypt(ciphertext.AsSpan(0, 40).ToArray(), Protocol, "m1", AliceKey.PublicKey))
            .Should().Throw<ArgumentException>();
    }

    [Fact]
    public void HMACs_agree_between_the_two_parties()
    {
        var alice = new ProtoWallet(AliceKey);
        var bob = new ProtoWallet(BobKey);
        byte[] hmac = alice.CreateHmac("data"u8, Protocol, "h", BobKey.PublicKey);
        bob.VerifyHmac("data"u8, hmac, Protocol, "h", AliceKey.PublicKey).Should().BeTrue();
        bob.VerifyHmac("data!"u8, hmac, Protocol, "h", AliceKey.PublicKey).Should().BeFalse();
        bob.VerifyHmac("data"u8, hmac.AsSpan(0, 31), Protocol, "h", AliceKey.PublicKey).Should().BeFalse();
    }

    [Fact]
    public void The_HMAC_key_drops_leading_zero_bytes_as_the_sdk_does()
    {
        var alice = new ProtoWallet(AliceKey);
        // Find a key id whose symmetric key starts with a zero byte (one in 256).
        string keyId = Enumerable.Range(0, 5000).Select(i => $"z{i}")
            .First(k => alice.KeyDeriver.DeriveSymmetricKey(Protocol, k, Counterparty.Self).ToBytes()[0] == 0);
        byte[] key = alice.KeyDeriver.DeriveSymmetricKey(Protocol, keyId, Counterparty.Self).ToBytes();
        byte[] hmac = alice.CreateHmac("x"u8, Protocol, keyId);
        hmac.Should().Equal(HMACSHA256.HashData(key.AsSpan().TrimStart((byte)0), "x"u8));
        hmac.Should().NotEqual(HMACSHA256.HashData(key, "x"u8));
    }

    [Fact]
    public void A_specific_key_linkage_decrypts_for_the_verifier_to_the_tweak_of_that_key()
    {
        var alice = new ProtoWallet(AliceKey);
        var verifier = new ProtoWallet(PrivateKey.Random());
        SpecificKeyLinkage revealed = alice.RevealSpecificKeyLinkage(BobKey.PublicKey, verifier.IdentityKey, Protocol, "7");
        WalletProtocol revelation = ProtoWallet.SpecificLinkageProtocol(Protocol);
        byte[] linkage = verifier.Decrypt(revealed.EncryptedLinkage, revelation, "7", AliceKey.PublicKey);
        linkage.Should().Equal(alice.KeyDeriver.RevealSpecificSecret(BobKey.PublicKey, Protocol, "7"));
        // The verifier can check it: Alice's child public key for Bob is her identity key plus linkage·G.
        AliceKey.PublicKey.TweakAdd(linkage).Should().Be(alice.KeyDeriver.DerivePrivateKey(Protocol, "7", BobKey.PublicKey).PublicKey);
        verifier.Decrypt(revealed.EncryptedLinkageProof, revelation, "7", AliceKey.PublicKey).Should().Equal(new byte[] { 0 });
    }

    [Fact]
    public void A_counterparty_linkage_decrypts_for_the_verifier_to_the_shared_point_with_a_proof_of_the_sdks_shape()
    {
        var alice = new ProtoWallet(AliceKey);
        var verifier = new ProtoWallet(PrivateKey.Random());
        var time = new DateTimeOffset(2026, 12, 3, 15, 4, 5, 67, TimeSpan.FromHours(2));
        CounterpartyKeyLinkage revealed = alice.RevealCounterpartyKeyLinkage(BobKey.PublicKey, verifier.IdentityKey, time);
        revealed.RevelationTime.Should().Be("2026-12-03T13:04:05.067Z");
        byte[] linkage = verifier.Decrypt(revealed.EncryptedLinkage,
            ProtoWallet.CounterpartyLinkageProtocol, revealed.RevelationTime, AliceKey.PublicKey);
        linkage.Should().Equal(BobKey.DeriveSharedPoint(AliceKey.PublicKey));
        byte[] proof = verifier.Decrypt(revealed.EncryptedLinkageProof,
            ProtoWallet.CounterpartyLinkageProtocol, revealed.RevelationTime, AliceKey.PublicKey);
        proof.Length.Should().BeInRange(33 + 33 + 1, 33 + 33 + 32);
        alice.Invoking(w => w.RevealCounterpartyKeyLinkage(AliceKey.PublicKey, verifier.IdentityKey)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void A_verifier_checks_a_counterparty_linkage_and_refuses_an_altered_one()
    {
        var alice = new ProtoWallet(AliceKey);
        var verifier = new ProtoWallet(PrivateKey.Random());
        CounterpartyKeyLinkage revealed = alice.RevealCounterpartyKeyLinkage(BobKey.PublicKey, verifier.IdentityKey);
        verifier.VerifyCounterpartyKeyLinkage(revealed).Should().Equal(AliceKey.DeriveSharedPoint(BobKey.PublicKey));

        // Claiming another counterparty, or a proof made for another secret, fails the check.
        verifier.Invoking(v => v.VerifyCounterpartyKeyLinkage(revealed with { Counterparty = PrivateKey.Random().PublicKey }))
            .Should().Throw<CryptographicException>().WithMessage("*proof does not hold*");
        byte[] otherProof = SchnorrLinkageProof.Generate(AliceKey, BobKey.PublicKey,
            AliceKey.DeriveSharedPoint(PrivateKey.Random().PublicKey));
        byte[] encrypted = alice.Encrypt(otherProof,
            ProtoWallet.CounterpartyLinkageProtocol, revealed.RevelationTime, verifier.IdentityKey);
        verifier.Invoking(v => v.VerifyCounterpartyKeyLinkage(revealed with { EncryptedLinkageProof = encrypted }))
            .Should().Throw<CryptographicException>();
        new ProtoWallet(PrivateKey.Random()).Invoking(v => v.VerifyCounterpartyKeyLinkage(revealed))
            .Should().Throw<CryptographicException>();
        SchnorrLinkageProof.Verify(AliceKey.PublicKey, BobKey.PublicKey, new byte[33], otherProof).Should().BeFalse();
        SchnorrLinkageProof.Verify(AliceKey.PublicKey, BobKey.PublicKey, AliceKey.DeriveSharedPoint(BobKey.PublicKey), otherProof[..60])
            .Should().BeFalse();
    }

    [Fact]
    public void Point_addition_agrees_with_the_keys_arithmetic()
    {
        byte[] g = KeyDeriver.AnyoneKey.PublicKey.ToBytes();
        byte[] two = new byte[32];
        two[31] = 2;
        CurvePoint.Add(g, g).Should().Equal(PrivateKey.FromBytes(two).PublicKey.ToBytes());
        for (int i = 0; i < 20; i++)
        {
            PrivateKey a = PrivateKey.Random();
            PrivateKey b = PrivateKey.Random();
            CurvePoint.Add(a.PublicKey.ToBytes(), b.PublicKey.ToBytes()).Should().Equal(a.TweakAdd(b.ToBytes()).PublicKey.ToBytes());
        }

        byte[] p = AliceKey.PublicKey.ToBytes();
        byte[] minus = (byte[])p.Clone();
        minus[0] ^= 1;
        CurvePoint.Add(p, minus).Should().BeEmpty();
    }

    [Fact]
    public void The_linkage_proof_answers_its_challenge()
    {
        PrivateKey nonce = PrivateKey.Random();
        byte[] shared = AliceKey.DeriveSharedPoint(BobKey.PublicKey);
        byte[] proof = SchnorrLinkageProof.Generate(AliceKey, BobKey.PublicKey, shared, nonce);
        proof.AsSpan(0, 33).ToArray().Should().Equal(nonce.PublicKey.ToBytes());
        proof.AsSpan(33, 33).ToArray().Should().Equal(nonce.DeriveSharedPoint(BobKey.PublicKey));
        byte[] z = new byte[32];
        proof.AsSpan(66).CopyTo(z.AsSpan(32 - (proof.Length - 66)));
        byte[] e = SHA256.HashData([.. AliceKey.PublicKey.ToBytes(), .. BobKey.PublicKey.ToBytes(),
            .. shared, .. proof.AsSpan(33, 33), .. proof.AsSpan(0, 33)]);
        // With the nonce r known, z must be r + e·a mod n, so z·G is r's key tweaked by e·a.
        PrivateKey ea = new PrivateKey(MulModN(e, AliceKey.ToBytes()));
        nonce.TweakAdd(ea.ToBytes()).PublicKey.Should().Be(PrivateKey.FromBytes(z).PublicKey);
        FluentActions.Invoking(() => SchnorrLinkageProof.Generate(AliceKey, BobKey.PublicKey, shared.AsSpan(0, 32), nonce))
            .Should().Throw<ArgumentException>();
    }

    private static byte[] MulModN(byte[] a, byte[] b)
    {
        var n = System.Numerics.BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
            System.Globalization.NumberStyles.HexNumber);
        var product = new System.Numerics.BigInteger(a, isUnsigned: true, isBigEndian: true)
            * new System.Numerics.BigInteger(b, isUnsigned: true, isBigEndian: true) % n;
        byte[] bytes = product.ToByteArray(isUnsigned: true, isBigEndian: true);
        return [.. new byte[32 - bytes.Length], .. bytes];
    }

    internal static ProtoWallet WalletOf(JsonElement row) =>
        new(PrivateKey.FromHex(row.GetProperty("input").GetProperty("root_key").GetString()!));

    private static void Check(string file, string id, Func<ProtoWallet, JsonElement, byte[]> act, string property)
    {
        JsonElement row = VectorFiles.ConformanceRow(file, id);
        JsonElement args = row.GetProperty("input").GetProperty("args");
        ProtoWallet wallet = WalletOf(row);
        JsonElement expected = row.GetProperty("expected");
        if (expected.TryGetProperty(property, out JsonElement bytes))
        {
            act(wallet, args).Should().Equal(VectorFiles.Bytes(bytes));
        }
        else
        {
            wallet.Invoking(w => act(w, args)).Should().Throw<ArgumentException>()
                .WithMessage(expected.GetProperty("message").GetString() + "*");
        }
    }

    // @bsv/sdk throws ERR_INVALID_* (or "... is not valid") where we answer false; other errors must be the same.
    private static void ExpectVerdict(JsonElement expected, Func<bool> verify, string invalidMessage)
    {
        if (expected.TryGetProperty("valid", out JsonElement valid))
        {
            verify().Should().Be(valid.GetBoolean());
        }
        else if (expected.TryGetProperty("code", out _) || !expected.TryGetProperty("message", out JsonElement m)
            || m.GetString() == invalidMessage)
        {
            verify().Should().BeFalse();
        }
        else
        {
            verify.Should().Throw<ArgumentException>().WithMessage(m.GetString() + "*");
        }
    }

    private static WalletProtocol Proto(JsonElement args) => KeyDeriverTests.ProtocolOf(args);

    private static string KeyId(JsonElement args) => args.GetProperty("keyID").GetString()!;

    private static Counterparty Party(JsonElement args) => Counterparty.Parse(args.GetProperty("counterparty").GetString()!);

    private static byte[] Utf8(JsonElement args) => Encoding.UTF8.GetBytes(args.GetProperty("data").GetString()!);
}
