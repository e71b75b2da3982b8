using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.DevChain.Tests.Interop;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;

namespace Atomic.Services.Tests.Identity;

/// <summary>
/// BRC-103/104 on ASP.NET Core (<c>AddBsvAuth</c>, <c>UseBsvAuth</c>, <c>RequireBsvAuth</c>): called by @bsv/sdk's
/// AuthFetch and by ours, and refusing each kind of bad request with its reason code.
/// </summary>
public sealed class BsvAuthHostTests : IAsyncLifetime
{
    private readonly ProtoWallet _client = new(PrivateKey.Random());
    private BsvAuthHost _host = null!;

    public async Task InitializeAsync() => _host = await BsvAuthHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task The_sdks_auth_fetch_calls_protected_routes_and_gets_answers_signed_by_the_server()
    {
        var requests = new object[]
        {
            new { method = "GET", path = "/protected?q=a%20b" },
            new { method = "POST", path = "/echo", headers = new Dictionary<string, string> { ["content-type"] = "application/json" }, body = """{"n":1}""" },
            new { method = "GET", path = "/protected" },
            new { method = "PUT", path = "/note" },
        };
        string output = await NodeRunner.RunAsync(
            "auth-fetch-client.mjs",
            TimeSpan.FromSeconds(60),
            Hex.Encode(_client.KeyDeriver.RootKey.ToBytes()),
            _host.BaseAddress.ToString().TrimEnd('/'),
            JsonSerializer.Serialize(requests));

        JsonElement[] results = JsonDocument.Parse(output).RootElement.EnumerateArray().ToArray();
        results.Should().HaveCount(4);
        results[0].GetProperty("status").GetInt32().Should().Be(200);
        JsonElement first = JsonDocument.Parse(results[0].GetProperty("body").GetString()!).RootElement;
        first.GetProperty("identityKey").GetString().Should().Be(_client.IdentityKey.ToHex());
        first.GetProperty("q").GetString().Should().Be("a b");
        results[0].GetProperty("serverKey").GetString().Should().Be(_host.ServerKey.PublicKey.ToHex());
        results[1].GetProperty("status").GetInt32().Should().Be(201);
        results[1].GetProperty("body").GetString().Should().Be($"{_client.IdentityKey.ToHex()} {{\"n\":1}}");
        results[2].GetProperty("status").GetInt32().Should().Be(200);
        results[3].GetProperty("status").GetInt32().Should().Be(204, "an empty answer with a repeated x-bsv-* header verifies too");
        results[3].GetProperty("note").GetString().Should().Be("signed, twice");
    }

    [Fact]
    public async Task Our_auth_fetch_handler_calls_protected_routes_and_the_identity_is_the_users()
    {
        var handler = new AuthFetchHandler(_client, new HttpClientHandler());
        using var http = new HttpClient(handler) { BaseAddress = _host.BaseAddress };

        JsonElement answer = await http.GetFromJsonAsync<JsonElement>("protected?q=1");
        answer.GetProperty("identityKey").GetString().Should().Be(_client.IdentityKey.ToHex());
        handler.ServerIdentityKey(_host.BaseAddress).Should().Be(_host.ServerKey.PublicKey);

        using HttpResponseMessage echoed = await http.PostAsync("echo", new StringContent("x=1", Encoding.UTF8, "text/plain"));
        echoed.StatusCode.Should().Be(HttpStatusCode.Created);
        (await echoed.Content.ReadAsStringAsync()).Should().Be($"{_client.IdentityKey.ToHex()} x=1");

        (await http.GetStringAsync("any-scheme")).Should().Be("BsvAuth", "a plain RequireAuthorization() takes the BsvAuth identity");
        (await http.GetStringAsync("open")).Should().Be("open", "a signed request to an open route is answered signed too");
    }

    [Fact]
    public async Task An_unsigned_request_to_a_protected_route_is_refused_as_auth_required_and_open_routes_stay_open()
    {
        using var http = new HttpClient { BaseAddress = _host.BaseAddress };
        await ExpectRefusal(await http.GetAsync("protected"), AuthReasons.Required);
        await ExpectRefusal(await http.GetAsync("any-scheme"), AuthReasons.Required);
        (await http.GetStringAsync("open")).Should().Be("open");
    }

    [Fact]
    public async Task The_handshake_refuses_a_message_that_is_not_an_initial_request()
    {
        using var http = new HttpClient { BaseAddress = _host.BaseAddress };
        await ExpectRefusal(await http.PostAsync(".well-known/auth", new StringContent("{", Encoding.UTF8, "application/json")), AuthReasons.MessageMalformed);
        string general = AuthMessage.CreateGeneral(_client, _host.ServerKey.PublicKey, "n", [1]).ToJson();
        await ExpectRefusal(
            await http.PostAsync(".well-known/auth", new StringContent(general, Encoding.UTF8, "application/json")), AuthReasons.MessageUnsupported);
        (await http.GetAsync(".well-known/auth")).StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
    }

    [Theory]
    [InlineData("forged-signature", AuthReasons.SignatureInvalid)]
    [InlineData("altered-query", AuthReasons.SignatureInvalid)]
    [InlineData("malformed-signature", AuthReasons.HeadersMalformed)]
    [InlineData("missing-request-id", AuthReasons.HeadersMalformed)]
    [InlineData("foreign-nonce", AuthReasons.NonceInvalid)]
    [InlineData("version", AuthReasons.VersionUnsupported)]
    [InlineData("other-identity", AuthReasons.IdentityMismatch)]
    public async Task A_bad_signed_request_is_refused_with_401_and_its_reason_code(string tampering, string reason)
    {
        var tamper = new Tamper(request => Mutate(request, tampering));
        using var http = new HttpClient(new AuthFetchHandler(_client, tamper)) { BaseAddress = _host.BaseAddress };
        await http.GetStringAsync("protected");

        tamper.Armed = true;
        Func<Task> call = () => http.GetStringAsync("protected?q=1");
        await call.Should().ThrowAsync<AuthFetchException>();
        tamper.Refusals.Should().NotBeEmpty();
        tamper.Refusals[0].Status.Should().Be(401);
        tamper.Refusals[0].Code.Should().Be(reason);
        tamper.Refusals[0].ContentType.Should().StartWith("application/problem+json");
    }

    [Fact]
    public async Task A_session_the_server_does_not_hold_is_refused_as_unknown_and_the_client_shakes_hands_again()
    {
        var tamper = new Tamper(request => Mutate(request, "unknown-session"));
        using var http = new HttpClient(new AuthFetchHandler(_client, tamper)) { BaseAddress = _host.BaseAddress };
        await http.GetStringAsync("protected");

        tamper.Armed = true;
        (await http.GetStringAsync("protected?q=again")).Should().Contain("again");
        tamper.Refusals.Select(r => r.Code).Should().Equal(AuthReasons.SessionUnknown);
        tamper.Handshakes.Should().Be(2);
    }

    [Fact]
    public async Task A_signed_body_over_the_limit_is_refused_without_being_signed_for()
    {
        var tamper = new Tamper(_ => { });
        using var http = new HttpClient(new AuthFetchHandler(_client, tamper)) { BaseAddress = _host.BaseAddress };
        Func<Task> call = () => http.PostAsync("echo", new StringContent(new string('x', 5000), Encoding.UTF8, "text/plain"));
        (await call.Should().ThrowAsync<AuthFetchException>()).Which.Status.Should().Be(401);
        tamper.Refusals.Select(r => r.Code).Should().Equal(AuthReasons.HeadersMalformed);
    }

    [Fact]
    public async Task A_replayed_request_is_refused_as_replayed()
    {
        var tamper = new Tamper(_ => { });
        using var http = new HttpClient(new AuthFetchHandler(_client, tamper)) { BaseAddress = _host.BaseAddress };
        (await http.GetStringAsync("protected?q=once")).Should().Contain("once");

        using var raw = new HttpClient();
        using var replay = new HttpRequestMessage(HttpMethod.Get, new Uri(_host.BaseAddress, "protected?q=once"));
        foreach (var (name, value) in tamper.LastSigned!)
        {
            replay.Headers.TryAddWithoutValidation(name, value);
        }

        await ExpectRefusal(await raw.SendAsync(replay), AuthReasons.NonceReplayed);
    }

    [Fact]
    public async Task A_session_idle_past_its_lifetime_is_refused_as_expired_and_the_client_shakes_hands_again()
    {
        var tamper = new Tamper(_ => { });
        using var http = new HttpClient(new AuthFetchHandler(_client, tamper)) { BaseAddress = _host.BaseAddress };
        await http.GetStringAsync("protected");
        _host.Clock.Advance(TimeSpan.FromMinutes(11));

        (await http.GetStringAsync("protected?q=later")).Should().Contain("later");
        tamper.Refusals.Select(r => r.Code).Should().Equal(AuthReasons.SessionExpired);
        tamper.Handshakes.Should().Be(2);
    }

    private void Mutate(HttpRequestMessage request, string tampering)
    {
        string Header(string name) => request.Headers.GetValues(name).Single();
        void Set(string name, string value)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }

        switch (tampering)
        {
            case "forged-signature":
                byte[] signature = Hex.Decode(Header(AuthHttpHeaders.Signature));
                signature[^1] ^= 1;
                Set(AuthHttpHeaders.Signature, Hex.Encode(signature));
                break;
            case "altered-query":
                request.RequestUri = new Uri(request.RequestUri!.ToString().Replace("q=1", "q=2", StringComparison.Ordinal));
                break;
            case "malformed-signature":
                Set(AuthHttpHeaders.Signature, "not hex");
                break;
            case "missing-request-id":
                request.Headers.Remove(AuthHttpHeaders.RequestId);
                break;
            case "foreign-nonce":
                Set(AuthHttpHeaders.YourNonce, AuthNonce.Create(new ProtoWallet(PrivateKey.Random())));
                break;
            case "unknown-session":
                Set(AuthHttpHeaders.YourNonce, AuthNonce.Create(new ProtoWallet(_host.ServerKey)));
                break;
            case "version":
                Set(AuthHttpHeaders.Version, "0.2");
                break;
            case "other-identity":
                Set(AuthHttpHeaders.IdentityKey, PrivateKey.Random().PublicKey.ToHex());
                break;
        }
    }

    private static async Task ExpectRefusal(HttpResponseMessage response, string reason)
    {
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().Should().Be(reason);
    }

    /// <summary>Between our AuthFetch handler and the network: changes one signed request when armed, and records refusals.</summary>
    private sealed class Tamper(Action<HttpRequestMessage> mutate) : DelegatingHandler(new HttpClientHandler())
    {
        public bool Armed { get; set; }

        public int Handshakes { get; private set; }

        public List<(int Status, string? Code, string? ContentType)> Refusals { get; } = [];

        public List<KeyValuePair<string, string>>? LastSigned { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath == "/.well-known/auth")
            {
                Handshakes++;
            }
            else
            {
                LastSigned = [.. request.Headers.Select(h => new KeyValuePair<string, string>(h.Key, string.Join(", ", h.Value)))];
                if (Armed)
                {
                    Armed = false;
                    mutate(request);
                }
            }

            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
                Refusals.Add((401, problem.GetProperty("code").GetString(), response.Content.Headers.ContentType?.ToString()));
            }

            return response;
        }
    }
}
