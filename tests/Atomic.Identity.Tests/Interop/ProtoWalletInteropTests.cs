using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Interop;

/// <summary>Our ProtoWallet against @bsv/sdk 2.1.0's, run in Node on the same keys (tests/interop/identity-peer.mjs).</summary>
public class ProtoWalletInteropTests
{
    private static readonly WalletProtocol[] Protocols =
    [
        new(0, "hello world"), new(1, "Tests Of Identity"), new(2, "certificate signature"), new(2, "brc2 test"),
    ];

    private static readonly string[] KeyIds = ["1", "key id with spaces", "ünïcødé ✓", new string('k', 800)];

    [Fact]
    public async Task Derived_keys_and_secrets_are_the_sdks_for_every_counterparty()
    {
        PrivateKey root = PrivateKey.Random();
        var ours = new KeyDeriver(root);
        string other = PrivateKey.Random().PublicKey.ToHex();
        var cases = (from p in Protocols
                     from k in KeyIds
                     from c in new[] { "self", "anyone", other }
                     select (p, k, c)).ToList();
        var requests = new List<object>();
        foreach (var (p, k, c) in cases)
        {
            requests.Add(Request("getPublicKey", p, k, c));
            requests.Add(Request("getPublicKey", p, k, c, new { forSelf = true }));
            requests.Add(Request("deriveSymmetricKey", p, k, c));
            requests.Add(Request("revealSpecificSecret", p, k, c));
        }

        requests.Add(new { op = "revealCounterpartySecret", counterparty = other });
        requests.Add(new { op = "revealCounterpartySecret", counterparty = "anyone" });
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(root.ToHex(), [.. requests]);
        int i = 0;
        foreach (var (p, k, c) in cases)
        {
            Counterparty party = Counterparty.Parse(c);
            string because = $"{p} '{k}' {c}";
            ours.DerivePublicKey(p, k, party).ToHex().Should().Be(sdk[i++].Get("publicKey"), because);
            ours.DerivePublicKey(p, k, party, forSelf: true).ToHex().Should().Be(sdk[i++].Get("publicKey"), because);
            Hex.Encode(ours.DeriveSymmetricKey(p, k, party).ToSdkBytes()).Should().Be(sdk[i++].Get("key"), because);
            Hex.Encode(ours.RevealSpecificSecret(party, p, k)).Should().Be(sdk[i++].Get("secret"), because);
        }

        Hex.Encode(ours.RevealCounterpartySecret(Counterparty.Parse(other))).Should().Be(sdk[i++].Get("secret"));
        Hex.Encode(ours.RevealCounterpartySecret(Counterparty.Anyone)).Should().Be(sdk[i++].Get("secret"));
    }

    [Fact]
    public async Task Bad_protocol_ids_and_key_ids_fail_with_the_sdks_message()
    {
        (int Level, string Name, string KeyId)[] bad =
        [
            (3, "hello world", "1"), (0, "abcd", "1"), (0, "hello  world", "1"), (0, "hello-world", "1"),
            (0, "payment protocol", "1"), (0, "hello world", ""), (0, "hello world", new string('k', 801)),
            (0, new string('a', 401), "1"), (2, "specific linkage revelation 2 " + new string('a', 401), "1"),
            (0, "  hello world  ", "1"),
        ];
        PrivateKey root = PrivateKey.Random();
        var ours = new ProtoWallet(root);
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(
            root.ToHex(), [.. bad.Select(b => Request("getPublicKey", new WalletProtocol(b.Level, b.Name), b.KeyId, "self"))]);
        for (int i = 0; i < bad.Length; i++)
        {
            var protocol = new WalletProtocol(bad[i].Level, bad[i].Name);
            string? message = sdk[i].Error();
            if (message is null)
            {
                ours.GetPublicKey(protocol, bad[i].KeyId).ToHex().Should().Be(sdk[i].Get("publicKey"));
            }
            else
            {
                ours.Invoking(w => w.GetPublicKey(protocol, bad[i].KeyId))
                    .Should().Throw<ArgumentException>().Which.Message.Should().StartWith(message);
            }
        }
    }

    [Fact]
    public async Task Signatures_are_byte_identical_and_verify_across_implementations()
    {
        PrivateKey aliceKey = PrivateKey.Random();
        PrivateKey bobKey = PrivateKey.Random();
        var alice = new ProtoWallet(aliceKey);
        var bob = new ProtoWallet(bobKey);
        byte[] data = RandomNumberGenerator.GetBytes(100);
        byte[] hash = SHA256.HashData(RandomNumberGenerator.GetBytes(10));
        var p = new WalletProtocol(2, "signing tests");
        string bobHex = bobKey.PublicKey.ToHex();
        string aliceHex = aliceKey.PublicKey.ToHex();

        // The same wallet in Node signs the same bytes: RFC 6979 makes the signatures equal.
        IReadOnlyList<JsonElement> sameKey = await IdentityPeer.AskAsync(
            aliceKey.ToHex(),
            Request("createSignature", p, "1", bobHex, new { data = Hex.Encode(data) }),
            Request("createSignature", p, "1", "anyone", new { data = Hex.Encode(data) }),
            Request("createSignature", p, "2", "self", new { hashToDirectlySign = Hex.Encode(hash) }));
        Hex.Encode(alice.CreateSignature(data, p, "1", bobKey.PublicKey)).Should().Be(sameKey[0].Get("signature"));
        Hex.Encode(alice.CreateSignature(data, p, "1")).Should().Be(sameKey[1].Get("signature"));
        Hex.Encode(alice.CreateSignatureForHash(hash, p, "2", Counterparty.Self)).Should().Be(sameKey[2].Get("signature"));

        // Bob in Node verifies what Alice signed here, and Alice here verifies what Bob signed there.
        byte[] ourSignature = alice.CreateSignature(data, p, "3", bobKey.PublicKey);
        byte[] tampered = (byte[])data.Clone();
        tampered[0] ^= 1;
        IReadOnlyList<JsonElement> fromBob = await IdentityPeer.AskAsync(
            bobKey.ToHex(),
            Request("verifySignature", p, "3", aliceHex, new { data = Hex.Encode(data), signature = Hex.Encode(ourSignature) }),
            Request("verifySignature", p, "3", aliceHex, new { data = Hex.Encode(tampered), signature = Hex.Encode(ourSignature) }),
            Request("createSignature", p, "4", aliceHex, new { data = Hex.Encode(data) }));
        fromBob[0].Get("valid").Should().Be("True");
        fromBob[1].Error().Should().Be("Signature is not valid");
        byte[] theirSignature = Hex.Decode(fromBob[2].Get("signature"));
        alice.VerifySignature(data, theirSignature, p, "4", bobKey.PublicKey).Should().BeTrue();
        alice.VerifySignature(tampered, theirSignature, p, "4", bobKey.PublicKey).Should().BeFalse();
        bob.VerifySignature(data, theirSignature, p, "4", aliceKey.PublicKey, forSelf: true).Should().BeTrue();
    }

    [Fact]
    public async Task Ciphertexts_decrypt_in_the_other_implementation_and_HMACs_are_equal()
    {
        PrivateKey aliceKey = PrivateKey.Random();
        PrivateKey bobKey = PrivateKey.Random();
        var alice = new ProtoWallet(aliceKey);
        var p = new WalletProtocol(2, "messaging tests");
        string aliceHex = aliceKey.PublicKey.ToHex();
        int[] lengths = [1, 15, 16, 17, 1000];
        byte[][] messages = [.. lengths.Select(RandomNumberGenerator.GetBytes)];
        byte[][] ours = [.. messages.Select((m, i) => alice.Encrypt(m, p, $"m{i}", bobKey.PublicKey))];

        // A key id whose symmetric key begins with a zero byte: @bsv/sdk keys its HMAC with the shorter number.
        string zeroKeyId = Enumerable.Range(0, 5000).Select(i => $"z{i}")
            .First(k => alice.KeyDeriver.DeriveSymmetricKey(p, k, bobKey.PublicKey).ToBytes()[0] == 0);
        var requests = new List<object>();
        for (int i = 0; i < messages.Length; i++)
        {
            requests.Add(Request("decrypt", p, $"m{i}", aliceHex, new { ciphertext = Hex.Encode(ours[i]) }));
            requests.Add(Request("encrypt", p, $"n{i}", aliceHex, new { plaintext = Hex.Encode(messages[i]) }));
            requests.Add(Request("createHmac", p, $"h{i}", aliceHex, new { data = Hex.Encode(messages[i]) }));
        }

        requests.Add(Request("createHmac", p, zeroKeyId, aliceHex, new { data = "00" }));
        requests.Add(Request("encrypt", p, "empty", aliceHex, new { plaintext = "" }));
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(bobKey.ToHex(), [.. requests]);
        int n = 0;
        for (int i = 0; i < messages.Length; i++)
        {
            sdk[n++].Get("plaintext").Should().Be(Hex.Encode(messages[i]));
            alice.Decrypt(Hex.Decode(sdk[n++].Get("ciphertext")), p, $"n{i}", bobKey.PublicKey).Should().Equal(messages[i]);
            byte[] theirHmac = Hex.Decode(sdk[n++].Get("hmac"));
            alice.CreateHmac(messages[i], p, $"h{i}", bobKey.PublicKey).Should().Equal(theirHmac);
            alice.VerifyHmac(messages[i], theirHmac, p, $"h{i}", bobKey.PublicKey).Should().BeTrue();
        }

        Hex.Encode(alice.CreateHmac([0], p, zeroKeyId, bobKey.PublicKey)).Should().Be(sdk[n++].Get("hmac"));
        // @bsv/sdk encrypts the empty message to IV || tag; both implementations refuse to decrypt that.
        byte[] empty = Hex.Decode(sdk[n++].Get("ciphertext"));
        empty.Should().HaveCount(48);
        alice.Invoking(w => w.Decrypt(empty, p, "empty", bobKey.PublicKey)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task A_specific_key_linkage_revealed_by_the_sdk_decrypts_here_to_our_own_tweak()
    {
        PrivateKey proverKey = PrivateKey.Random();
        PrivateKey counterpartyKey = PrivateKey.Random();
        var verifier = new ProtoWallet(PrivateKey.Random());
        var p = new WalletProtocol(1, "Linked Things");
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(
            proverKey.ToHex(),
            Request("revealSpecificKeyLinkage", p, "42", counterpartyKey.PublicKey.ToHex(),
                new { verifier = verifier.IdentityKey.ToHex() }));
        WalletProtocol revelation = ProtoWallet.SpecificLinkageProtocol(p);
        byte[] linkage = verifier.Decrypt(Hex.Decode(sdk[0].Get("encryptedLinkage")), revelation, "42", proverKey.PublicKey);
        linkage.Should().Equal(new KeyDeriver(proverKey).RevealSpecificSecret(counterpartyKey.PublicKey, p, "42"));
        verifier.Decrypt(Hex.Decode(sdk[0].Get("encryptedLinkageProof")), revelation, "42", proverKey.PublicKey)
            .Should().Equal(new byte[] { 0 });
    }

    [Fact]
    public async Task A_counterparty_linkage_revealed_here_passes_the_sdks_proof_check_and_one_revealed_there_passes_ours()
    {
        PrivateKey proverKey = PrivateKey.Random();
        PrivateKey counterpartyKey = PrivateKey.Random();
        PrivateKey verifierKey = PrivateKey.Random();
        var prover = new ProtoWallet(proverKey);
        var verifier = new ProtoWallet(verifierKey);
        CounterpartyKeyLinkage ours = prover.RevealCounterpartyKeyLinkage(counterpartyKey.PublicKey, verifierKey.PublicKey);
        // The prover can read what it encrypted for the verifier: alter z and encrypt it again.
        byte[] proof = prover.Decrypt(ours.EncryptedLinkageProof,
            ProtoWallet.CounterpartyLinkageProtocol, ours.RevelationTime, verifierKey.PublicKey);
        proof[^1] ^= 1;
        byte[] forged = prover.Encrypt(proof, ProtoWallet.CounterpartyLinkageProtocol, ours.RevelationTime, verifierKey.PublicKey);
        object Check(byte[] proof) => new
        {
            op = "checkCounterpartyKeyLinkage",
            prover = proverKey.PublicKey.ToHex(),
            counterparty = counterpartyKey.PublicKey.ToHex(),
            revelationTime = ours.RevelationTime,
            encryptedLinkage = Hex.Encode(ours.EncryptedLinkage),
            encryptedLinkageProof = Hex.Encode(proof),
        };
        IReadOnlyList<JsonElement> asVerifier = await IdentityPeer.AskAsync(
            verifierKey.ToHex(), Check(ours.EncryptedLinkageProof), Check(forged));
        asVerifier[0].Get("linkage").Should().Be(Hex.Encode(counterpartyKey.DeriveSharedPoint(proverKey.PublicKey)));
        asVerifier[0].Get("valid").Should().Be("True");
        asVerifier[1].Get("valid").Should().Be("False");

        IReadOnlyList<JsonElement> fromSdk = await IdentityPeer.AskAsync(
            proverKey.ToHex(),
            new
            {
                op = "revealCounterpartyKeyLinkage",
                counterparty = counterpartyKey.PublicKey.ToHex(),
                verifier = verifierKey.PublicKey.ToHex()
            });
        string time = fromSdk[0].Get("revelationTime");
        time.Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
        ours.RevelationTime.Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
        verifier.Decrypt(Hex.Decode(fromSdk[0].Get("encryptedLinkage")), ProtoWallet.CounterpartyLinkageProtocol, time, proverKey.PublicKey)
            .Should().Equal(counterpartyKey.DeriveSharedPoint(proverKey.PublicKey));
        byte[] theirProof = verifier.Decrypt(
            Hex.Decode(fromSdk[0].Get("encryptedLinkageProof")), ProtoWallet.CounterpartyLinkageProtocol, time, proverKey.PublicKey);
        theirProof.Length.Should().BeInRange(67, 98);
        var revelation = new CounterpartyKeyLinkage(
            proverKey.PublicKey, verifierKey.PublicKey, counterpartyKey.PublicKey, time,
            Hex.Decode(fromSdk[0].Get("encryptedLinkage")), Hex.Decode(fromSdk[0].Get("encryptedLinkageProof")));
        verifier.VerifyCounterpartyKeyLinkage(revelation).Should().Equal(counterpartyKey.DeriveSharedPoint(proverKey.PublicKey));
        verifier.Invoking(v => v.VerifyCounterpartyKeyLinkage(revelation with { Counterparty = verifierKey.PublicKey }))
            .Should().Throw<CryptographicException>();
    }

    internal static object Request(string op, WalletProtocol protocol, string keyId, string counterparty, object? extra = null)
    {
        var request = new Dictionary<string, object?>
        {
            ["op"] = op,
            ["protocolID"] = new object[] { protocol.SecurityLevel, protocol.Name },
            ["keyID"] = keyId,
            ["counterparty"] = counterparty,
        };
        if (extra is not null)
        {
            foreach (var property in extra.GetType().GetProperties())
            {
                request[property.Name] = property.GetValue(extra);
            }
        }

        return request;
    }
}
