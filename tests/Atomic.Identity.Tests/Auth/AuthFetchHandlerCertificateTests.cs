using System.Net;
using System.Security.Cryptography;
using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Auth;

/// <summary>
/// <see cref="AuthFetchHandler"/> presenting BRC-52 certificates to an in-memory server on <see cref="AuthServer"/>:
/// asked at the handshake, or by a certificateRequest answering a request (which is then sent again).
/// </summary>
public class AuthFetchHandlerCertificateTests
{
    private static readonly string EmployeeType = Convert.ToBase64String(SHA256.HashData("atomic employee"u8));
    private readonly ProtoWallet _client = new(PrivateKey.Random());
    private readonly ProtoWallet _certifier = new(PrivateKey.Random());
    private readonly CertificateServer _server;

    public AuthFetchHandlerCertificateTests()
    {
        var serverWallet = new ProtoWallet(PrivateKey.Random());
        var employee = new TrustedCertificateType(
            "employee", EmployeeType, new HashSet<string> { _certifier.IdentityKey.ToHex() }, new Dictionary<string, string>());
        var auth = new AuthServer(serverWallet, new AuthSessionManager(TimeSpan.FromMinutes(5), new ManualClock()))
        {
            Trust = new CertificateTrust([employee], serverWallet),
        };
        _server = new CertificateServer(auth, new RequestedCertificateSet([_certifier.IdentityKey.ToHex()], [new(EmployeeType, ["role"])]));
    }

    [Fact]
    public async Task A_certificate_request_answering_a_request_is_met_and_the_request_sent_again_revealing_only_the_asked_field()
    {
        var handler = new AuthFetchHandler(_client, _server) { Certificates = [Issue(_certifier, "auditor")] };
        using var http = new HttpClient(handler);

        (await http.GetStringAsync("http://api.test/needs")).Should().Be("role=auditor");

        _server.CertificateRequests.Should().Be(1);
        _server.Presented.Should().ContainSingle().Which.Keyring.Keys.Should().Equal("role");
        handler.PresentedCertificates(new Uri("http://api.test/")).Should().ContainSingle();
        (await http.GetStringAsync("http://api.test/needs")).Should().Be("role=auditor");
        _server.CertificateRequests.Should().Be(1, "the session keeps the certificate");
    }

    [Fact]
    public async Task A_certificate_request_the_client_cannot_meet_is_refused_with_certificate_required()
    {
        var handler = new AuthFetchHandler(_client, _server) { Certificates = [Issue(new ProtoWallet(PrivateKey.Random()), "auditor")] };
        using var http = new HttpClient(handler);
        Func<Task> call = () => http.GetStringAsync("http://api.test/needs");
        (await call.Should().ThrowAsync<AuthFetchException>()).Which.Reason.Should().Be(AuthReasons.CertificateRequired);
        _server.Presented.Should().BeEmpty();
    }

    [Fact]
    public async Task Certificates_asked_for_at_the_handshake_are_presented_before_the_first_request()
    {
        _server.Auth.RequestedCertificates = _server.Asked;
        var handler = new AuthFetchHandler(_client, _server) { Certificates = [Issue(_certifier, "auditor")] };
        using var http = new HttpClient(handler);

        (await http.GetStringAsync("http://api.test/needs")).Should().Be("role=auditor");
        _server.CertificateRequests.Should().Be(0);
        _server.Presented.Should().ContainSingle().Which.Keyring.Keys.Should().Equal("role");
    }

    [Fact]
    public async Task A_client_holding_nothing_asked_for_at_the_handshake_says_so_with_an_empty_answer()
    {
        _server.Auth.RequestedCertificates = _server.Asked;
        using var http = new HttpClient(new AuthFetchHandler(_client, _server));
        (await http.GetStringAsync("http://api.test/open")).Should().Be("open");
        _server.CertificateResponses.Should().Be(1);
        _server.Presented.Should().BeEmpty();
    }

    private MasterCertificate Issue(ProtoWallet certifier, string role) =>
        MasterCertificate.IssueCertificateForSubject(
            certifier,
            Counterparty.Of(_client.IdentityKey),
            new Dictionary<string, string> { ["name"] = "Alice", ["role"] = role },
            EmployeeType,
            new string('0', 64) + ".0");

    /// <summary>
    /// Answers <c>/needs</c> with the accepted certificate's role, or, without one, with a signed certificateRequest in
    /// its headers; <c>/open</c> with "open".
    /// </summary>
    private sealed class CertificateServer(AuthServer auth, RequestedCertificateSet asked) : HttpMessageHandler
    {
        public AuthServer Auth => auth;

        public RequestedCertificateSet Asked => asked;

        public int CertificateRequests { get; private set; }

        public int CertificateResponses { get; private set; }

        public List<VerifiableCertificate> Presented { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            byte[] body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
            if (request.RequestUri!.AbsolutePath == "/.well-known/auth")
            {
                AuthCertificateOutcome received = auth.AcceptAuthMessage(Encoding.UTF8.GetString(body));
                AuthMessage answer = received.Outcome.Message!;
                if (answer.MessageType == AuthMessageType.CertificateResponse)
                {
                    CertificateResponses++;
                    Presented.AddRange(received.Verdicts.Select(v => v.Certificate));
                    return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
                }

                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer.ToJson(), Encoding.UTF8, "application/json") };
            }

            var headers = request.Headers.Select(h => new KeyValuePair<string, string>(h.Key, string.Join(", ", h.Value)));
            AuthOutcome outcome = auth.VerifyGeneral(AuthHttpHeaders.FromRequest(
                request.Method.Method, request.RequestUri.AbsolutePath, request.RequestUri.Query, headers, body));
            AuthSession session = outcome.Session ?? throw new InvalidOperationException(outcome.Detail);
            var response = new HttpResponseMessage(HttpStatusCode.OK);
            CertificateVerdict? accepted = session.Certificates.FirstOrDefault(v => v.IsAccepted);
            if (request.RequestUri.AbsolutePath == "/needs" && accepted is null)
            {
                CertificateRequests++;
                AuthMessage ask = AuthMessage.CreateCertificateRequest(
                    auth.Wallet, session.PeerIdentityKey, session.SessionNonce, session.PeerNonce, asked.ToJson());
                foreach ((string name, string value) in AuthHttpHeaders.ForCertificateRequest(ask))
                {
                    response.Headers.TryAddWithoutValidation(name, value);
                }

                return response;
            }

            byte[] answerBody = Encoding.UTF8.GetBytes(request.RequestUri.AbsolutePath == "/needs" ? $"role={accepted!.RevealedFields["role"]}" : "open");
            byte[] requestId = outcome.Message!.Payload.AsSpan(0, 32).ToArray();
            foreach (var (name, value) in auth.SignHttpResponse(session, requestId, 200, [], answerBody))
            {
                response.Headers.TryAddWithoutValidation(name, value);
            }

            response.Content = new ByteArrayContent(answerBody);
            return response;
        }
    }
}
