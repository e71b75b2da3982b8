using System.Text;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Auth;

/// <summary>The server side of BRC-103: the handshake, general messages and their refusals, each with its reason code.</summary>
public class AuthServerTests
{
    private readonly ProtoWallet _serverWallet = new(PrivateKey.Random());
    private readonly ProtoWallet _client = new(PrivateKey.Random());
    private readonly ManualClock _clock = new();
    private readonly AuthServer _server;

    public AuthServerTests() =>
        _server = new AuthServer(_serverWallet, new AuthSessionManager(TimeSpan.FromMinutes(10), _clock));

    [Fact]
    public void An_initial_request_gets_a_signed_initial_response_the_client_accepts_and_opens_an_authenticated_session()
    {
        string clientNonce = AuthNonce.Create(_client);
        AuthOutcome outcome = _server.AcceptHandshake(AuthMessage.CreateInitialRequest(_client, clientNonce).ToJson());

        outcome.IsValid.Should().BeTrue();
        AuthMessage response = AuthMessage.FromJson(outcome.Message!.ToJson());
        response.MessageType.Should().Be(AuthMessageType.InitialResponse);
        response.YourNonce.Should().Be(clientNonce);
        response.IdentityKey.Should().Be(_serverWallet.IdentityKey.ToHex());
        response.Check(_client, clientNonce).Should().Be(AuthMessageStatus.Valid);
        AuthNonce.Verify(response.InitialNonce, _serverWallet).Should().BeTrue();

        AuthSession session = outcome.Session!;
        session.IsAuthenticated.Should().BeTrue();
        session.PeerNonce.Should().Be(clientNonce);
        _server.Sessions.FindByIdentityKey(_client.IdentityKey.ToHex()).Should().BeSameAs(session);
        _server.Sessions.Find(response.InitialNonce, out AuthSession? found).Should().Be(AuthSessionLookup.Found);
        found.Should().BeSameAs(session);
    }

    [Fact]
    public void A_general_message_in_the_session_is_accepted_once_and_its_replay_is_refused()
    {
        var (session, _) = Handshake();
        AuthMessage general = AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, session.SessionNonce, "hello"u8.ToArray());

        AuthOutcome first = _server.VerifyGeneral(general);
        first.IsValid.Should().BeTrue();
        first.Session.Should().BeSameAs(session);

        AuthOutcome replay = _server.VerifyGeneral(general);
        replay.Reason.Should().Be(AuthReasons.NonceReplayed);

        _server.VerifyGeneral(AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, session.SessionNonce, "hello"u8.ToArray()))
            .IsValid.Should().BeTrue("a fresh nonce over the same payload is a new request");
    }

    [Fact]
    public void A_forged_signature_is_refused_and_does_not_use_up_the_nonce()
    {
        var (session, _) = Handshake();
        AuthMessage general = AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, session.SessionNonce, [1, 2, 3]);

        _server.VerifyGeneral(general with { Payload = [1, 2, 4] }).Reason.Should().Be(AuthReasons.SignatureInvalid);
        _server.VerifyGeneral(general with { Signature = [0x30, 0x00] }).Reason.Should().Be(AuthReasons.SignatureInvalid);
        _server.VerifyGeneral(general).IsValid.Should().BeTrue();
    }

    [Fact]
    public void A_nonce_this_server_did_not_make_is_refused_as_invalid()
    {
        Handshake();
        var other = new ProtoWallet(PrivateKey.Random());
        AuthMessage general = AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, AuthNonce.Create(other), [1]);
        _server.VerifyGeneral(general).Reason.Should().Be(AuthReasons.NonceInvalid);
        _server.VerifyGeneral(general with { YourNonce = "not a nonce" }).Reason.Should().Be(AuthReasons.NonceInvalid);
        _server.VerifyGeneral(general with { YourNonce = null }).Reason.Should().Be(AuthReasons.NonceInvalid);
    }

    [Fact]
    public void A_nonce_of_ours_that_names_no_session_is_refused_as_unknown()
    {
        AuthMessage general = AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, AuthNonce.Create(_serverWallet), [1]);
        _server.VerifyGeneral(general).Reason.Should().Be(AuthReasons.SessionUnknown);
    }

    [Fact]
    public void A_session_idle_past_its_lifetime_is_refused_as_expired_and_then_forgotten()
    {
        var (session, _) = Handshake();
        _clock.Advance(TimeSpan.FromMinutes(9));
        _server.VerifyGeneral(AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, session.SessionNonce, [1]))
            .IsValid.Should().BeTrue("use keeps the session alive");
        _clock.Advance(TimeSpan.FromMinutes(9));
        _server.VerifyGeneral(AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, session.SessionNonce, [2]))
            .IsValid.Should().BeTrue();

        _clock.Advance(TimeSpan.FromMinutes(11));
        AuthMessage late = AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, session.SessionNonce, [3]);
        _server.VerifyGeneral(late).Reason.Should().Be(AuthReasons.SessionExpired);
        _server.VerifyGeneral(late).Reason.Should().Be(AuthReasons.SessionUnknown);
        _server.Sessions.Count.Should().Be(0);
    }

    [Fact]
    public void Another_identity_in_the_session_the_wrong_version_and_missing_fields_are_each_refused_with_their_code()
    {
        var (session, _) = Handshake();
        var mallory = new ProtoWallet(PrivateKey.Random());
        AuthMessage general = AuthMessage.CreateGeneral(mallory, _serverWallet.IdentityKey, session.SessionNonce, [1]);
        _server.VerifyGeneral(general).Reason.Should().Be(AuthReasons.IdentityMismatch);

        AuthMessage good = AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, session.SessionNonce, [1]);
        _server.VerifyGeneral(good with { Version = "0.2" }).Reason.Should().Be(AuthReasons.VersionUnsupported);
        _server.VerifyGeneral(good with { Payload = null }).Reason.Should().Be(AuthReasons.HeadersMalformed);
        _server.VerifyGeneral(good with { IdentityKey = "02ab" }).Reason.Should().Be(AuthReasons.HeadersMalformed);
    }

    [Fact]
    public void The_handshake_refuses_what_is_not_a_readable_initial_request()
    {
        _server.AcceptHandshake("{").Reason.Should().Be(AuthReasons.MessageMalformed);
        _server.AcceptHandshake("""{"version":"0.1","messageType":"nope","identityKey":"02"}""").Reason.Should().Be(AuthReasons.MessageMalformed);
        AuthMessage request = AuthMessage.CreateInitialRequest(_client, AuthNonce.Create(_client));
        _server.AcceptHandshake(request with { Version = "1.0" }).Reason.Should().Be(AuthReasons.VersionUnsupported);
        _server.AcceptHandshake(request with { InitialNonce = "" }).Reason.Should().Be(AuthReasons.MessageMalformed);
        _server.AcceptHandshake(request with { InitialNonce = "short" }).Reason.Should().Be(AuthReasons.MessageMalformed);
        _server.AcceptHandshake(request with { IdentityKey = "zz" }).Reason.Should().Be(AuthReasons.MessageMalformed);
        _server.AcceptHandshake(AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, AuthNonce.Create(_serverWallet), [1]))
            .Reason.Should().Be(AuthReasons.MessageUnsupported);
        _server.Sessions.Count.Should().Be(0);
    }

    [Fact]
    public void A_signed_general_answer_verifies_for_the_client_in_its_session()
    {
        var (session, clientNonce) = Handshake();
        AuthMessage answer = _server.SignGeneral(session, "ok"u8.ToArray());
        answer.YourNonce.Should().Be(clientNonce);
        answer.Check(_client, clientNonce, _serverWallet.IdentityKey).Should().Be(AuthMessageStatus.Valid);
    }

    [Fact]
    public void An_http_request_signed_by_the_client_is_rebuilt_from_its_headers_and_verified_and_the_signed_response_reads_back()
    {
        var (session, clientNonce) = Handshake();
        byte[] requestId = new byte[32];
        requestId[0] = 7;
        byte[] body = Encoding.UTF8.GetBytes("""{"a":1}""");
        AuthHttpRequest request = AuthHttpRequest.Create(
            requestId, "POST", "/v1/things/a%20b", "?x=1", [new("Content-Type", "application/json; charset=utf-8"), new("X-Bsv-Topic", "t")], body);
        AuthMessage general = AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, session.SessionNonce, request.ToPayload());

        List<KeyValuePair<string, string>> headers =
        [
            new("Content-Type", "application/json; charset=utf-8"),
            new("X-Bsv-Topic", "t"),
            new("Accept", "*/*"),
            new("User-Agent", "test"),
            .. AuthHttpHeaders.ForRequest(general),
        ];
        AuthMessage read = AuthHttpHeaders.FromRequest("POST", "/v1/things/a%20b", "?x=1", headers, body);
        _server.VerifyGeneral(read).IsValid.Should().BeTrue();

        AuthMessage tampered = AuthHttpHeaders.FromRequest("POST", "/v1/things/a%20b", "?x=2", headers, body);
        _server.VerifyGeneral(tampered).Reason.Should().Be(AuthReasons.SignatureInvalid);

        List<KeyValuePair<string, string>> signed = _server.SignHttpResponse(
            session, requestId, 201, [new("X-Bsv-Note", "n"), new("Content-Type", "application/json")], "{}"u8.ToArray());
        AuthMessage back = AuthHttpHeaders.FromResponse(201, [.. signed, new("x-bsv-note", "n"), new("content-type", "text/plain")], "{}"u8.ToArray());
        back.Check(_client, clientNonce, _serverWallet.IdentityKey).Should().Be(AuthMessageStatus.Valid);
        AuthHttpResponse.Parse(back.Payload!).RequestId.Should().Equal(requestId);
        AuthHttpHeaders.FromResponse(200, [.. signed, new("x-bsv-note", "n")], "{}"u8.ToArray())
            .Check(_client, clientNonce, _serverWallet.IdentityKey).Should().Be(AuthMessageStatus.BadSignature);
    }

    [Theory]
    [InlineData("x-bsv-auth-signature", "zz", "not hex")]
    [InlineData("x-bsv-auth-request-id", "AAAA", "not 32 bytes")]
    [InlineData("x-bsv-auth-nonce", " ", "lacks")]
    public void Garbled_or_missing_auth_headers_cannot_be_read_as_a_request(string header, string value, string message)
    {
        var (session, _) = Handshake();
        byte[] payload = AuthHttpRequest.Create(new byte[32], "GET", "/", "", [], null).ToPayload();
        AuthMessage general = AuthMessage.CreateGeneral(_client, _serverWallet.IdentityKey, session.SessionNonce, payload);
        var headers = AuthHttpHeaders.ForRequest(general).Select(h => h.Key == header ? new KeyValuePair<string, string>(h.Key, value) : h);

        FluentActions.Invoking(() => AuthHttpHeaders.FromRequest("GET", "/", null, headers, default))
            .Should().Throw<AuthPayloadException>().WithMessage($"*{message}*");
    }

    private (AuthSession Session, string ClientNonce) Handshake()
    {
        string clientNonce = AuthNonce.Create(_client);
        AuthOutcome outcome = _server.AcceptHandshake(AuthMessage.CreateInitialRequest(_client, clientNonce));
        outcome.IsValid.Should().BeTrue();
        return (outcome.Session!, clientNonce);
    }
}
