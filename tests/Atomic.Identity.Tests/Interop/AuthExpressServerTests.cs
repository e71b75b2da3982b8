using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Interop;

/// <summary>Our <see cref="AuthFetchHandler"/> against Express behind @bsv/auth-express-middleware 2.0.5, the reference server.</summary>
public sealed class AuthExpressServerTests : IAsyncLifetime
{
    private readonly PrivateKey _serverKey = PrivateKey.Random();
    private readonly ProtoWallet _client = new(PrivateKey.Random());
    private ExpressServer _server = null!;

    public async Task InitializeAsync() => _server = await ExpressServer.StartAsync("auth-express-server.mjs", Hex.Encode(_serverKey.ToBytes()));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_get_shakes_hands_once_and_each_signed_request_gets_the_servers_signed_answer()
    {
        var handler = new AuthFetchHandler(_client, new HttpClientHandler());
        using var http = new HttpClient(handler) { BaseAddress = _server.BaseAddress };

        JsonElement first = await http.GetFromJsonAsync<JsonElement>("protected?x=1&y=a%20b");
        first.GetProperty("identityKey").GetString().Should().Be(_client.IdentityKey.ToHex());
        first.GetProperty("query").GetProperty("y").GetString().Should().Be("a b");
        handler.ServerIdentityKey(_server.BaseAddress)!.ToHex().Should().Be(_server.IdentityKey);

        for (int i = 0; i < 3; i++)
        {
            JsonElement again = await http.GetFromJsonAsync<JsonElement>("protected");
            again.GetProperty("identityKey").GetString().Should().Be(_client.IdentityKey.ToHex());
        }
    }

    [Fact]
    public async Task A_json_post_with_signed_x_bsv_headers_is_accepted_and_echoed()
    {
        using var http = new HttpClient(new AuthFetchHandler(_client, new HttpClientHandler())) { BaseAddress = _server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "echo")
        {
            Content = new StringContent("""{"amount":5,"memo":"hi"}""", Encoding.UTF8, "application/json"),
        };

        // The middleware signs the body only under exactly "application/json" (it compares with ===): the handler drops
        // StringContent's "; charset=utf-8", which JSON does not need.
        request.Headers.Add("X-Bsv-Topic", "tm_test");
        request.Headers.Add("Accept", "application/json");

        using HttpResponseMessage response = await http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement echoed = await response.Content.ReadFromJsonAsync<JsonElement>();
        echoed.GetProperty("got").GetProperty("memo").GetString().Should().Be("hi");
        echoed.GetProperty("identityKey").GetString().Should().Be(_client.IdentityKey.ToHex());
    }

    [Fact]
    public async Task An_unsigned_answer_from_the_same_server_is_refused()
    {
        using var http = new HttpClient(new AuthFetchHandler(_client, new HttpClientHandler())) { BaseAddress = _server.BaseAddress };
        Func<Task> open = () => http.GetAsync("open");
        (await open.Should().ThrowAsync<AuthFetchException>()).Which.Reason.Should().Be(AuthReasons.ResponseUnsigned);
    }
}
