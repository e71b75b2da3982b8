using System.Net;
using System.Text;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Auth;

/// <summary><see cref="AuthFetchHandler"/> against an in-memory server built on <see cref="AuthServer"/>, which can misbehave.</summary>
public class AuthFetchHandlerTests
{
    private readonly ProtoWallet _client = new(PrivateKey.Random());
    private readonly ManualClock _clock = new();
    private readonly FakeServer _server;

    public AuthFetchHandlerTests() =>
        _server = new FakeServer(new AuthServer(new ProtoWallet(PrivateKey.Random()), new AuthSessionManager(TimeSpan.FromMinutes(5), _clock)));

    [Fact]
    public async Task Requests_are_signed_verified_by_the_server_and_their_signed_answers_returned()
    {
        using var http = Client();
        (await http.GetStringAsync("http://api.test/a?b=1")).Should().Be("GET /a ?b=1");
        using var post = new StringContent("{\"k\":1}", Encoding.UTF8, "application/json");
        HttpResponseMessage response = await http.PostAsync("http://api.test/things", post);
        (await response.Content.ReadAsStringAsync()).Should().Be("POST /things  {\"k\":1}");
        response.Headers.GetValues("x-bsv-note").Should().Equal("signed");
        _server.Handshakes.Should().Be(1);
        _server.Refusals.Should().BeEmpty();
    }

    [Theory]
    [InlineData(FakeServer.Misbehaviour.AlterBody, AuthReasons.SignatureInvalid)]
    [InlineData(FakeServer.Misbehaviour.AlterStatus, AuthReasons.SignatureInvalid)]
    [InlineData(FakeServer.Misbehaviour.SignedByAnotherKey, AuthReasons.IdentityMismatch)]
    [InlineData(FakeServer.Misbehaviour.AnswerAnotherRequest, AuthReasons.SignatureInvalid)]
    [InlineData(FakeServer.Misbehaviour.Unsigned, AuthReasons.ResponseUnsigned)]
    [InlineData(FakeServer.Misbehaviour.GarbledSignature, AuthReasons.HeadersMalformed)]
    public async Task A_forged_or_unsigned_answer_is_refused_with_its_reason(FakeServer.Misbehaviour misbehaviour, string reason)
    {
        using var http = Client();
        (await http.GetStringAsync("http://api.test/warm")).Should().NotBeEmpty();
        _server.Now = misbehaviour;
        Func<Task> call = () => http.GetStringAsync("http://api.test/x");
        (await call.Should().ThrowAsync<AuthFetchException>()).Which.Reason.Should().Be(reason);
    }

    [Fact]
    public async Task A_handshake_answer_that_is_not_a_valid_initial_response_is_refused()
    {
        _server.Now = FakeServer.Misbehaviour.BadHandshake;
        using var http = Client();
        Func<Task> call = () => http.GetStringAsync("http://api.test/x");
        (await call.Should().ThrowAsync<AuthFetchException>()).Which.Reason.Should().Be(AuthReasons.SignatureInvalid);
        _server.Now = FakeServer.Misbehaviour.None;
        (await http.GetStringAsync("http://api.test/x")).Should().Be("GET /x ");
    }

    [Fact]
    public async Task A_session_the_server_lost_is_replaced_by_a_fresh_handshake_and_the_request_sent_again()
    {
        using var http = Client();
        await http.GetStringAsync("http://api.test/a");
        _clock.Advance(TimeSpan.FromMinutes(6));
        using var post = new StringContent("{}", Encoding.UTF8, "application/json");
        (await (await http.PostAsync("http://api.test/b", post)).Content.ReadAsStringAsync()).Should().Be("POST /b  {}");
        _server.Handshakes.Should().Be(2);
        _server.Refusals.Should().Equal(AuthReasons.SessionExpired);
    }

    private HttpClient Client() => new(new AuthFetchHandler(_client, _server));

    /// <summary>A BRC-104 server on <see cref="AuthServer"/> that answers "METHOD path query body", or misbehaves as told.</summary>
    public sealed class FakeServer(AuthServer server) : HttpMessageHandler
    {
        public enum Misbehaviour { None, AlterBody, AlterStatus, SignedByAnotherKey, AnswerAnotherRequest, Unsigned, GarbledSignature, BadHandshake }

        public Misbehaviour Now { get; set; }

        public int Handshakes { get; private set; }

        public List<string> Refusals { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            byte[] body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
            if (request.RequestUri!.AbsolutePath == "/.well-known/auth")
            {
                Handshakes++;
                AuthOutcome handshake = server.AcceptHandshake(Encoding.UTF8.GetString(body));
                AuthMessage answer = handshake.Message!;
                if (Now == Misbehaviour.BadHandshake)
                {
                    answer = answer with { InitialNonce = AuthNonce.Create(server.Wallet) };
                }

                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer.ToJson(), Encoding.UTF8, "application/json") };
            }

            var headers = request.Headers.Select(h => new KeyValuePair<string, string>(h.Key, string.Join(", ", h.Value)))
                .Concat(request.Content?.Headers.Select(h => new KeyValuePair<string, string>(h.Key, string.Join(", ", h.Value))) ?? []);
            AuthMessage general = AuthHttpHeaders.FromRequest(
                request.Method.Method, request.RequestUri.AbsolutePath, request.RequestUri.Query, headers, body);
            AuthOutcome outcome = server.VerifyGeneral(general);
            if (!outcome.IsValid)
            {
                Refusals.Add(outcome.Reason!);
                return new HttpResponseMessage(HttpStatusCode.Unauthorized)
                {
                    Content = new StringContent($$"""{"code":"{{outcome.Reason}}"}""", Encoding.UTF8, "application/problem+json"),
                };
            }

            byte[] requestId = general.Payload.AsSpan(0, 32).ToArray();
            string echo = $"{request.Method.Method} {request.RequestUri.AbsolutePath} {request.RequestUri.Query}";
            byte[] answerBody = Encoding.UTF8.GetBytes(body.Length == 0 ? echo : $"{echo} {Encoding.UTF8.GetString(body)}");

            AuthServer signer = Now == Misbehaviour.SignedByAnotherKey
                ? new AuthServer(new ProtoWallet(PrivateKey.Random()), server.Sessions)
                : server;
            byte[] signedId = Now == Misbehaviour.AnswerAnotherRequest ? new byte[32] : requestId;
            List<KeyValuePair<string, string>> auth = signer.SignHttpResponse(outcome.Session!, signedId, 200, [new("x-bsv-note", "signed")], answerBody);
            var response = new HttpResponseMessage(Now == Misbehaviour.AlterStatus ? HttpStatusCode.Created : HttpStatusCode.OK)
            {
                Content = new ByteArrayContent(Now == Misbehaviour.AlterBody ? [.. answerBody, (byte)'!'] : answerBody),
            };
            response.Headers.Add("x-bsv-note", "signed");
            if (Now != Misbehaviour.Unsigned)
            {
                foreach (var (name, value) in auth)
                {
                    response.Headers.TryAddWithoutValidation(name, name == AuthHttpHeaders.Signature && Now == Misbehaviour.GarbledSignature ? "xyz" : value);
                }
            }

            return response;
        }
    }
}
