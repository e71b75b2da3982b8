using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Tests.Interop;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Auth;

/// <summary>BRC-103 messages: JSON, signing rules and the checks a recipient makes, without a peer.</summary>
public class AuthMessageTests
{
    private readonly ProtoWallet _alice = new(PrivateKey.Random());
    private readonly ProtoWallet _bob = new(PrivateKey.Random());

    [Fact]
    public void A_general_message_round_trips_through_json_and_verifies_for_its_recipient_only()
    {
        string bobNonce = AuthNonce.Create(_bob);
        AuthMessage m = AuthMessage.CreateGeneral(_alice, _bob.IdentityKey, bobNonce, [1, 2, 255]);
        string json = m.ToJson();
        json.Should().Contain("\"messageType\":\"general\"").And.Contain("\"payload\":[1,2,255]");
        AuthMessage back = AuthMessage.FromJson(json);
        back.Payload.Should().Equal(m.Payload);
        back.Signature.Should().Equal(m.Signature);
        back.ToJson().Should().Be(json);
        back.SignedPart().KeyId.Should().Be($"{m.Nonce} {bobNonce}");

        back.Check(_bob, bobNonce, _alice.IdentityKey).Should().Be(AuthMessageStatus.Valid);
        back.Check(_bob).Should().Be(AuthMessageStatus.Valid);
        back.Check(_alice).Should().Be(AuthMessageStatus.ForeignNonce);
        back.Check(_bob, AuthNonce.Create(_bob)).Should().Be(AuthMessageStatus.UnknownSession);
        back.Check(_bob, bobNonce, _bob.IdentityKey).Should().Be(AuthMessageStatus.WrongPeer);
        (back with { Payload = [1, 2, 254] }).Check(_bob).Should().Be(AuthMessageStatus.BadSignature);
        (back with { Nonce = "other" }).Check(_bob).Should().Be(AuthMessageStatus.BadSignature);
        (back with { Signature = [0x30, 0x00] }).Check(_bob).Should().Be(AuthMessageStatus.BadSignature);
        (back with { Signature = null }).Check(_bob).Should().Be(AuthMessageStatus.BadSignature);
        (back with { Payload = null }).Check(_bob).Should().Be(AuthMessageStatus.Malformed);
        (back with { Version = "0.2" }).Check(_bob).Should().Be(AuthMessageStatus.UnsupportedVersion);
        (back with { IdentityKey = "02abc" }).Check(_bob).Should().Be(AuthMessageStatus.Malformed);
        (back with { Nonce = new string('n', 900) }).Check(_bob).Should().Be(AuthMessageStatus.BadSignature);

        // Signed for the wrong counterparty: Bob cannot verify it.
        var forCarol = (m with { Signature = null }).Sign(_alice, PrivateKey.Random().PublicKey);
        forCarol.Check(_bob).Should().Be(AuthMessageStatus.BadSignature);
    }

    [Fact]
    public void An_initial_response_signs_both_nonces_and_is_bound_to_the_requesters_session()
    {
        string aliceNonce = AuthNonce.Create(_alice);
        AuthMessage request = AuthMessage.CreateInitialRequest(_alice, aliceNonce);
        request.Check(_bob).Should().Be(AuthMessageStatus.Valid);
        (request with { InitialNonce = null }).Check(_bob).Should().Be(AuthMessageStatus.Malformed);
        request.Invoking(r => r.SignedPart()).Should().Throw<AuthPayloadException>();

        string bobNonce = AuthNonce.Create(_bob);
        AuthMessage response = AuthMessage.CreateInitialResponse(_bob, request, bobNonce);
        response.SignedPart().Data.Should().Equal([.. Convert.FromBase64String(aliceNonce), .. Convert.FromBase64String(bobNonce)]);
        response.Check(_alice, aliceNonce, _bob.IdentityKey).Should().Be(AuthMessageStatus.Valid);
        (response with { InitialNonce = AuthNonce.Create(_bob) }).Check(_alice).Should().Be(AuthMessageStatus.BadSignature);
        (response with { InitialNonce = "%%%" }).Check(_alice).Should().Be(AuthMessageStatus.Malformed);
        FluentActions.Invoking(() => AuthMessage.CreateInitialResponse(_bob, response, bobNonce)).Should().Throw<AuthPayloadException>();
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"version\":\"0.1\"}")]
    [InlineData("{\"version\":\"0.1\",\"messageType\":\"hello\",\"identityKey\":\"02\"}")]
    [InlineData("{\"version\":\"0.1\",\"messageType\":\"general\",\"identityKey\":\"02\",\"payload\":[256]}")]
    [InlineData("{\"version\":\"0.1\",\"messageType\":\"general\",\"identityKey\":\"02\",\"payload\":\"AQI=\"}")]
    [InlineData("{\"version\":\"0.1\",\"messageType\":\"general\",\"identityKey\":\"02\",\"signature\":[1.5]}")]
    [InlineData("{\"version\":1,\"messageType\":\"general\",\"identityKey\":\"02\"}")]
    [InlineData("{\"version\":\"0.1\",\"messageType\":\"general\",\"identityKey\":\"02\"")]
    public void Garbled_json_is_an_AuthPayloadException(string json) =>
        FluentActions.Invoking(() => AuthMessage.FromJson(json)).Should().Throw<AuthPayloadException>();

    [Theory]
    [InlineData("{}")]
    [InlineData("[1]")]
    [InlineData("[{\"type\":\"x\"}]")]
    [InlineData("[{\"type\":1,\"serialNumber\":\"x\"}]")]
    public void Garbled_certificates_are_an_AuthPayloadException(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        FluentActions.Invoking(() => AuthCertificates.FromJson(doc.RootElement)).Should().Throw<AuthPayloadException>();
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"certifiers\":[]}")]
    [InlineData("{\"certifiers\":[1],\"types\":{}}")]
    [InlineData("{\"certifiers\":[],\"types\":{\"t\":\"name\"}}")]
    public void Garbled_requested_sets_are_an_AuthPayloadException(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        FluentActions.Invoking(() => RequestedCertificateSet.FromJson(doc.RootElement)).Should().Throw<AuthPayloadException>();
    }

    [Fact]
    public async Task Json_is_re_serialized_exactly_as_javascript_does()
    {
        string[] texts =
        [
            "{\"certifiers\":[\"02ab\"],\"types\":{\"dHlwZQ==\":[\"name\",\"email\"]}}",
            "{ \"types\" : { } , \"certifiers\" : [ ] }",
            "{\"b\":1,\"2\":2,\"a\":3,\"1\":4,\"01\":5,\"4294967295\":6,\"4294967294\":7}",
            "{\"a\":1,\"b\":2,\"a\":3}",
            "[\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\",\"\\u00e9\\u2028<>&'\",\"\\ud83d\\ude00\",\"\\ud800\",\"x\\udc00y\"]",
            "[0,-0,1.0,1e21,1e20,123456789012345678901,1.5e-7,0.000001,-2.5,1e-7,12.34e5,5e-324,1.7976931348623157e308,0.1]",
            "[true,false,null,{},[]]",
        ];
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(
            PrivateKey.Random().ToHex(), [.. texts.Select(t => new { op = "jsonRestringify", text = t })]);
        for (int i = 0; i < texts.Length; i++)
        {
            using JsonDocument doc = JsonDocument.Parse(texts[i]);
            JsJson.Stringify(doc.RootElement).Should().Be(sdk[i].Get("text"), texts[i]);
        }
    }
}
