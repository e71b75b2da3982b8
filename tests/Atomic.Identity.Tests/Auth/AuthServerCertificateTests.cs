using System.Security.Cryptography;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Auth;

/// <summary>The server side of BRC-103 certificate exchange: what the handshake asks for, and certificateResponses judged.</summary>
public class AuthServerCertificateTests
{
    private static readonly string Employee = Convert.ToBase64String(SHA256.HashData("employee"u8));
    private readonly ProtoWallet _serverWallet = new(PrivateKey.Random());
    private readonly ProtoWallet _client = new(PrivateKey.Random());
    private readonly ProtoWallet _certifier = new(PrivateKey.Random());
    private readonly AuthServer _server;

    public AuthServerCertificateTests()
    {
        _server = new AuthServer(_serverWallet, new AuthSessionManager(TimeSpan.FromMinutes(10), new ManualClock()))
        {
            RequestedCertificates = new RequestedCertificateSet(
                [_certifier.IdentityKey.ToHex()], [new KeyValuePair<string, IReadOnlyList<string>>(Employee, ["role"])]),
        };
        _server.Trust = new CertificateTrust(
            [new TrustedCertificateType("employee", Employee, new HashSet<string> { _certifier.IdentityKey.ToHex() }, new Dictionary<string, string>())],
            _serverWallet);
    }

    [Fact]
    public void The_initial_response_asks_for_the_policy_fields_and_a_certificate_response_is_judged_and_kept_on_the_session()
    {
        (AuthSession session, AuthMessage response) = Handshake();
        RequestedCertificateSet asked = RequestedCertificateSet.FromJson(response.RequestedCertificates!.Value);
        asked.Certifiers.Should().Equal(_certifier.IdentityKey.ToHex());
        asked.Types.Single().Value.Should().Equal("role");
        session.AwaitingCertificates.Should().BeTrue();

        AuthCertificateOutcome outcome = _server.AcceptAuthMessage(Response(session, [Present(_certifier)]).ToJson());

        outcome.Outcome.IsValid.Should().BeTrue(outcome.Outcome.Detail);
        outcome.Verdicts.Single().RevealedFields.Should().Equal(new Dictionary<string, string> { ["role"] = "auditor" });
        session.Certificates.Single().IsAccepted.Should().BeTrue();
        session.CertificatesArrived.IsCompleted.Should().BeTrue();
        session.AwaitingCertificates.Should().BeFalse();
    }

    [Fact]
    public void A_certificate_response_with_a_forged_signature_or_a_foreign_nonce_is_refused_and_records_nothing()
    {
        (AuthSession session, _) = Handshake();
        AuthMessage good = Response(session, [Present(_certifier)]);

        _server.AcceptCertificateResponse(good with { Signature = Response(session, [Present(_certifier)]).Signature })
            .Outcome.Reason.Should().Be(AuthReasons.SignatureInvalid);
        _server.AcceptCertificateResponse(good with { YourNonce = AuthNonce.Create(new ProtoWallet(PrivateKey.Random())) })
            .Outcome.Reason.Should().Be(AuthReasons.NonceInvalid);
        session.Certificates.Should().BeEmpty();
    }

    [Fact]
    public void An_untrusted_certificate_is_recorded_as_refused()
    {
        (AuthSession session, _) = Handshake();
        AuthCertificateOutcome outcome = _server.AcceptCertificateResponse(Response(session, [Present(new ProtoWallet(PrivateKey.Random()))]));
        outcome.Outcome.IsValid.Should().BeTrue("the message itself checks");
        outcome.Verdicts.Single().Reason.Should().Be(AuthReasons.CertifierUntrusted);
        session.Certificates.Single().IsAccepted.Should().BeFalse();
    }

    private (AuthSession Session, AuthMessage Response) Handshake()
    {
        AuthOutcome outcome = _server.AcceptHandshake(AuthMessage.CreateInitialRequest(_client, AuthNonce.Create(_client)));
        outcome.IsValid.Should().BeTrue();
        return (outcome.Session!, outcome.Message!);
    }

    private AuthMessage Response(AuthSession session, IEnumerable<VerifiableCertificate> certificates) =>
        AuthMessage.CreateCertificateResponse(
            _client, _serverWallet.IdentityKey, session.PeerNonce, session.SessionNonce, AuthCertificates.ToJson(certificates));

    private VerifiableCertificate Present(ProtoWallet certifier)
    {
        MasterCertificate master = MasterCertificate.IssueCertificateForSubject(
            certifier, Counterparty.Of(_client.IdentityKey), new Dictionary<string, string> { ["role"] = "auditor", ["name"] = "A" },
            Employee, new string('d', 64) + ".0");
        return new VerifiableCertificate(master.Certificate, master.CreateKeyringForVerifier(_client, Counterparty.Of(_serverWallet.IdentityKey), ["role"]));
    }
}
