using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Keys;
using Atomic.Identity.Tests.Interop;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Auth;

/// <summary>BRC-103 nonces (createNonce / verifyNonce), here and against @bsv/sdk 2.1.0.</summary>
public class AuthNonceTests
{
    private readonly PrivateKey _key = PrivateKey.Random();
    private readonly PrivateKey _other = PrivateKey.Random();

    [Fact]
    public void A_nonce_is_48_bytes_in_base64_and_verifies_only_for_its_wallet_and_counterparty()
    {
        var wallet = new ProtoWallet(_key);
        string nonce = AuthNonce.Create(wallet);
        nonce.Should().HaveLength(64);
        Convert.FromBase64String(nonce).Should().HaveCount(48);
        AuthNonce.Verify(nonce, wallet).Should().BeTrue();
        AuthNonce.Verify(nonce, new ProtoWallet(_other)).Should().BeFalse();
        AuthNonce.Verify(nonce, wallet, Counterparty.Of(_other.PublicKey)).Should().BeFalse();

        string forOther = AuthNonce.Create(wallet, Counterparty.Of(_other.PublicKey));
        AuthNonce.Verify(forOther, wallet, Counterparty.Of(_other.PublicKey)).Should().BeTrue();
        AuthNonce.Verify(forOther, wallet).Should().BeFalse();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64 at all!")]
    [InlineData("AAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*A")]
    public void Malformed_nonces_are_false_not_exceptions(string? nonce) =>
        AuthNonce.Verify(nonce, new ProtoWallet(_key)).Should().BeFalse();

    [Fact]
    public void Any_altered_byte_makes_a_nonce_fail()
    {
        var wallet = new ProtoWallet(_key);
        byte[] bytes = Convert.FromBase64String(AuthNonce.Create(wallet));
        for (int i = 0; i < bytes.Length; i += 7)
        {
            byte[] altered = (byte[])bytes.Clone();
            altered[i] ^= 0x20;
            AuthNonce.Verify(Convert.ToBase64String(altered), wallet).Should().BeFalse($"byte {i} was altered");
        }
    }

    [Fact]
    public async Task Nonces_made_by_the_sdk_verify_here_and_ours_there_with_the_same_key()
    {
        var wallet = new ProtoWallet(_key);
        string other = _other.PublicKey.ToHex();
        // Random bytes that are not UTF-8 (the key id is their TextDecoder reading), and a byte order mark first.
        List<byte[]> randoms = [.. Enumerable.Range(0, 40).Select(_ => RandomNumberGenerator.GetBytes(16))];
        randoms.Add([0xEF, 0xBB, 0xBF, .. RandomNumberGenerator.GetBytes(13)]);
        randoms.Add([0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0x80, 0xC0, 0xAF, 0xE2, 0x82, 0x41, 0xF4, 0x90, 0x80, 0x80]);
        List<string> ours = [.. randoms.Select(r => AuthNonce.Create(wallet, r))];
        string oursForOther = AuthNonce.Create(wallet, Counterparty.Of(_other.PublicKey));
        byte[] tampered = Convert.FromBase64String(ours[0]);
        tampered[20] ^= 1;

        var requests = new List<object>();
        requests.AddRange(Enumerable.Range(0, 20).Select(_ => new { op = "createNonce", counterparty = "self" }));
        requests.Add(new { op = "createNonce", counterparty = other });
        requests.AddRange(ours.Select(n => new { op = "verifyNonce", nonce = n, counterparty = "self" }));
        requests.Add(new { op = "verifyNonce", nonce = oursForOther, counterparty = other });
        requests.Add(new { op = "verifyNonce", nonce = oursForOther, counterparty = "self" });
        requests.Add(new { op = "verifyNonce", nonce = Convert.ToBase64String(tampered), counterparty = "self" });
        requests.AddRange(randoms.Select(r => new { op = "textDecode", bytes = Hex.Encode(r) }));
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(_key.ToHex(), [.. requests]);

        int i = 0;
        for (; i < 20; i++)
        {
            string nonce = sdk[i].Get("nonce");
            AuthNonce.Verify(nonce, wallet).Should().BeTrue(nonce);
            AuthNonce.Verify(nonce, new ProtoWallet(_other)).Should().BeFalse();
        }

        AuthNonce.Verify(sdk[i++].Get("nonce"), wallet, Counterparty.Of(_other.PublicKey)).Should().BeTrue();
        foreach (string nonce in ours)
        {
            sdk[i++].Get("valid").Should().Be("True", nonce);
        }

        sdk[i++].Get("valid").Should().Be("True");
        // @bsv/sdk's ProtoWallet throws where a nonce is not its own; so does its Peer then.
        sdk[i++].Error().Should().Be("HMAC is not valid");
        sdk[i++].Error().Should().Be("HMAC is not valid");
        foreach (byte[] r in randoms)
        {
            JsText.DecodeUtf8(r).Should().Be(sdk[i++].Get("text"), Hex.Encode(r));
        }
    }
}
