using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Interop;

/// <summary>BRC-103 sessions between our messages and @bsv/sdk 2.1.0's Peer (tests/interop/auth-peer.mjs), both ways.</summary>
public class AuthPeerInteropTests
{
    private const string RequestedJson =
        "{\"certifiers\":[\"{0}\"],\"types\":{\"dHlwZQ==\":[\"name\",\"ünï ✓\",\"a\\\"b\\\\c\\u0001</x>\"]}}";

    private readonly PrivateKey _ourKey = PrivateKey.Random();
    private readonly PrivateKey _sdkKey = PrivateKey.Random();

    [Fact]
    public async Task We_open_a_session_with_the_sdk_and_every_message_kind_verifies_both_ways()
    {
        var us = new ProtoWallet(_ourKey);
        string ourHex = us.IdentityKey.ToHex();
        await using AuthPeer sdk = await AuthPeer.StartAsync(_sdkKey.ToHex());
        PublicKey sdkId = PublicKey.FromHex(sdk.IdentityKey);

        // Handshake: our initialRequest, the sdk's initialResponse.
        string ourNonce = AuthNonce.Create(us);
        List<JsonElement> events = await sdk.DeliverAsync(AuthMessage.CreateInitialRequest(us, ourNonce).ToJson());
        AuthMessage response = Sent(events);
        response.MessageType.Should().Be(AuthMessageType.InitialResponse);
        response.YourNonce.Should().Be(ourNonce);
        response.Check(us, ourNonce, sdkId).Should().Be(AuthMessageStatus.Valid);
        response.Check(us, AuthNonce.Create(us), sdkId).Should().Be(AuthMessageStatus.UnknownSession);
        response.Check(new ProtoWallet(PrivateKey.Random()), ourNonce).Should().Be(AuthMessageStatus.ForeignNonce);
        (response with { InitialNonce = AuthNonce.Create(us) }).Check(us).Should().Be(AuthMessageStatus.BadSignature);
        string sdkNonce = response.InitialNonce!;

        // Our general message: the sdk's Peer accepts it and hands the payload to its listener.
        byte[] payload = RandomNumberGenerator.GetBytes(300);
        AuthMessage general = AuthMessage.CreateGeneral(us, sdkId, sdkNonce, payload);
        events = await sdk.DeliverAsync(general.ToJson());
        Error(events).Should().BeNull();
        JsonElement received = events.Single(e => e.TryGetProperty("general", out _)).GetProperty("general");
        received.Get("sender").Should().Be(ourHex);
        received.Get("payload").Should().Be(Hex.Encode(payload));

        // The sdk's Peer keeps no record of message nonces: the same message replayed is accepted again (a server
        // that must refuse replays has to remember nonces itself). Replayed into another session it fails here.
        events = await sdk.DeliverAsync(general.ToJson());
        Error(events).Should().BeNull();
        events.Where(e => e.TryGetProperty("general", out _)).Should().ContainSingle();
        general.Check(new ProtoWallet(_sdkKey), AuthNonce.Create(new ProtoWallet(_sdkKey))).Should().Be(AuthMessageStatus.UnknownSession);

        // Altered, for the wrong counterparty, or answering a nonce the sdk never made: refused.
        events = await sdk.DeliverAsync((general with { Payload = [.. payload[..^1], (byte)(payload[^1] ^ 1)] }).ToJson());
        Error(events).Should().Be("Signature is not valid");
        events = await sdk.DeliverAsync((general with { Signature = null }).Sign(us, PrivateKey.Random().PublicKey).ToJson());
        Error(events).Should().Be("Signature is not valid");
        string foreign = AuthNonce.Create(new ProtoWallet(_sdkKey), Counterparty.Of(us.IdentityKey));
        events = await sdk.DeliverAsync(AuthMessage.CreateGeneral(us, sdkId, foreign, payload).ToJson());
        Error(events).Should().NotBeNull();
        events.Where(e => e.TryGetProperty("general", out _)).Should().BeEmpty();

        // The sdk's general message to us.
        byte[] reply = RandomNumberGenerator.GetBytes(50);
        events = await sdk.SendAsync(new { toPeer = new { payload = Hex.Encode(reply), identityKey = ourHex } });
        AuthMessage theirs = Sent(events);
        theirs.MessageType.Should().Be(AuthMessageType.General);
        theirs.Payload.Should().Equal(reply);
        theirs.Check(us, ourNonce, sdkId).Should().Be(AuthMessageStatus.Valid);
        theirs.Check(us, ourNonce, PrivateKey.Random().PublicKey).Should().Be(AuthMessageStatus.WrongPeer);
        (theirs with { Payload = [.. reply, 0] }).Check(us, ourNonce, sdkId).Should().Be(AuthMessageStatus.BadSignature);

        // Certificate requests both ways: signed over JavaScript's JSON of the request.
        var certifier = new ProtoWallet(PrivateKey.Random());
        using JsonDocument requested = JsonDocument.Parse(RequestedJson.Replace("{0}", certifier.IdentityKey.ToHex(), StringComparison.Ordinal));
        RequestedCertificateSet typed = RequestedCertificateSet.FromJson(requested.RootElement);
        typed.Types.Single().Value.Should().Equal("name", "ünï ✓", "a\"b\\c\u0001</x>");
        JsJson.Stringify(typed.ToJson()).Should().Be(JsJson.Stringify(requested.RootElement));
        events = await sdk.DeliverAsync(
            AuthMessage.CreateCertificateRequest(us, sdkId, ourNonce, sdkNonce, requested.RootElement).ToJson());
        Error(events).Should().BeNull();
        JsonElement asked = events.Single(e => e.TryGetProperty("certificatesRequested", out _)).GetProperty("certificatesRequested");
        asked.Get("sender").Should().Be(ourHex);
        asked.GetProperty("requested").GetRawText().Should().Be(JsJson.Stringify(requested.RootElement));

        events = await sdk.SendAsync(new { requestCertificates = new { set = requested.RootElement, identityKey = ourHex } });
        AuthMessage theirRequest = Sent(events);
        theirRequest.MessageType.Should().Be(AuthMessageType.CertificateRequest);
        theirRequest.Check(us, ourNonce, sdkId).Should().Be(AuthMessageStatus.Valid);

        // Certificate responses both ways: a certificate issued to us, fields revealed to the sdk.
        string certificateType = Convert.ToBase64String(SHA256.HashData("auth interop type"u8));
        MasterCertificate master = MasterCertificate.IssueCertificateForSubject(
            certifier, Counterparty.Of(us.IdentityKey), new Dictionary<string, string> { ["name"] = "Alice", ["email"] = "a@b.c" },
            certificateType, Hex.Encode(SHA256.HashData("outpoint"u8)) + ".0");
        Dictionary<string, string> keyring = master.CreateKeyringForVerifier(us, Counterparty.Of(sdkId), ["name"]);
        Certificate c = master.Certificate;
        JsonElement certificatesJson = AuthCertificates.ToJson([new VerifiableCertificate(c, keyring)]);
        using JsonDocument certificates = JsonDocument.Parse(certificatesJson.GetRawText());
        events = await sdk.DeliverAsync(
            AuthMessage.CreateCertificateResponse(us, sdkId, ourNonce, sdkNonce, certificates.RootElement).ToJson());
        Error(events).Should().BeNull();
        JsonElement got = events.Single(e => e.TryGetProperty("certificatesReceived", out _)).GetProperty("certificatesReceived");
        got.Get("sender").Should().Be(ourHex);
        got.GetProperty("certificates")[0].Get("serialNumber").Should().Be(c.SerialNumber);

        events = await sdk.SendAsync(new { sendCertificateResponse = new { certificates = certificates.RootElement, identityKey = ourHex } });
        AuthMessage theirResponse = Sent(events);
        theirResponse.MessageType.Should().Be(AuthMessageType.CertificateResponse);
        theirResponse.Check(us, ourNonce, sdkId).Should().Be(AuthMessageStatus.Valid);
        // Our JSON of a certificate is the sdk's, property order included (its signature covers that text).
        JsJson.Stringify(AuthCertificates.ToJson(AuthCertificates.FromJson(theirResponse.Certificates!.Value)))
            .Should().Be(JsJson.Stringify(theirResponse.Certificates!.Value));
        AuthCertificates.FromJson(theirResponse.Certificates!.Value).Single()
            .DecryptFields(new ProtoWallet(_sdkKey)).Should().Equal(new Dictionary<string, string> { ["name"] = "Alice" });
    }

    [Fact]
    public async Task The_sdk_opens_a_session_with_us_and_its_first_message_verifies_here()
    {
        var us = new ProtoWallet(_ourKey);
        await using AuthPeer sdk = await AuthPeer.StartAsync(_sdkKey.ToHex());
        PublicKey sdkId = PublicKey.FromHex(sdk.IdentityKey);
        byte[] payload = RandomNumberGenerator.GetBytes(64);
        List<JsonElement> events = await sdk.SendAsync(new { toPeer = new { payload = Hex.Encode(payload), identityKey = us.IdentityKey.ToHex() } });
        AuthMessage request = Sent(events);
        request.MessageType.Should().Be(AuthMessageType.InitialRequest);
        request.Check(us).Should().Be(AuthMessageStatus.Valid);

        // A response signed by someone else is refused; ours is accepted and the sdk sends its message.
        string ourNonce = AuthNonce.Create(us);
        var impostor = new ProtoWallet(PrivateKey.Random());
        AuthMessage forged = AuthMessage.CreateInitialResponse(us, request, ourNonce) with { IdentityKey = impostor.IdentityKey.ToHex() };
        events = await sdk.DeliverAsync(forged.ToJson());
        Error(events).Should().Be("Signature is not valid");

        events = await sdk.DeliverAsync(AuthMessage.CreateInitialResponse(us, request, ourNonce).ToJson());
        Error(events).Should().BeNull();
        AuthMessage general = Sent(events);
        general.MessageType.Should().Be(AuthMessageType.General);
        general.YourNonce.Should().Be(ourNonce);
        general.Payload.Should().Equal(payload);
        general.Check(us, ourNonce, sdkId).Should().Be(AuthMessageStatus.Valid);
    }

    private static AuthMessage Sent(List<JsonElement> events)
    {
        Error(events).Should().BeNull();
        return AuthMessage.FromJson(events.Single(e => e.TryGetProperty("sent", out _)).GetProperty("sent").GetRawText());
    }

    private static string? Error(List<JsonElement> events) =>
        events.Where(e => e.TryGetProperty("error", out _)).Select(e => e.GetProperty("error").GetString()).FirstOrDefault();
}
