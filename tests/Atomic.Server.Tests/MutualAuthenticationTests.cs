using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;

namespace Atomic.Server.Tests;

/// <summary>The all-in-one server with <c>Atomic:Auth:RequireForBaskets</c>: a basket changes only by signed requests.</summary>
public class MutualAuthenticationTests
{
    private static readonly Dictionary<string, string?> Settings = new() { ["Atomic:Auth:RequireForBaskets"] = "true" };

    [Fact]
    public async Task Basket_changes_need_a_signed_request_and_a_signed_one_goes_through_end_to_end()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        string outpoint = $"{new string('c', 64)}.0";
        object insert = new
        {
            operations = new[] { new { op = "insert", outpoint, satoshis = 42UL, lockingScript = "76a914" + new string('1', 40) + "88ac", tags = new[] { "t" } } },
        };

        HttpResponseMessage unsigned = await server.Client.PostAsJsonAsync("/v1/baskets/signed/operations", insert);
        unsigned.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await unsigned.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(AuthReasons.Required);

        var handler = new AuthFetchHandler(new ProtoWallet(PrivateKey.Random()), new HttpClientHandler());
        using var signed = new HttpClient(handler) { BaseAddress = new Uri(server.Url) };
        HttpResponseMessage applied = await signed.PostAsJsonAsync("/v1/baskets/signed/operations", insert);
        applied.StatusCode.Should().Be(HttpStatusCode.OK, await applied.Content.ReadAsStringAsync());
        (await applied.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("totalOutputs").GetInt32().Should().Be(1);

        (await server.Client.DeleteAsync($"/v1/baskets/signed/outputs/{outpoint}")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        JsonElement listed = await server.Client.GetFromJsonAsync<JsonElement>("/v1/baskets/signed/outputs");
        listed.GetProperty("totalOutputs").GetInt32().Should().Be(1, "listing stays open");
        (await signed.DeleteAsync($"/v1/baskets/signed/outputs/{outpoint}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task The_submission_and_operations_routes_closed_by_configuration_answer_only_signed_callers()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Atomic:Auth:RequireForSubmit"] = "true",
            ["Atomic:Auth:RequireForOperations"] = "true",
        });
        (HttpMethod Method, string Path)[] closed =
            [(HttpMethod.Post, "/v1/beef"), (HttpMethod.Post, "/submit"), (HttpMethod.Get, "/v1/status"), (HttpMethod.Get, "/dashboard"), (HttpMethod.Post, "/v1/check")];
        foreach ((HttpMethod method, string path) in closed)
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Post ? new ByteArrayContent([1, 2, 3]) : null };
            using HttpResponseMessage unsigned = await server.Client.SendAsync(request);
            unsigned.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"{method} {path} is closed to unsigned callers");
            (await unsigned.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(AuthReasons.Required);
        }

        (await server.Client.GetAsync($"/v1/tx/{new string('0', 64)}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "reads stay open");

        using var signed = new HttpClient(new AuthFetchHandler(new ProtoWallet(PrivateKey.Random()), new HttpClientHandler())) { BaseAddress = new Uri(server.Url) };
        using (var beef = new ByteArrayContent([1, 2, 3]))
        {
            beef.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            using HttpResponseMessage refused = await signed.PostAsync("/v1/beef", beef);
            refused.StatusCode.Should().Be(HttpStatusCode.BadRequest, "a signed caller reaches the gateway, which reads the body");
        }

        using HttpResponseMessage status = await signed.GetAsync("/v1/status");
        status.StatusCode.Should().Be(HttpStatusCode.OK, await status.Content.ReadAsStringAsync());
    }
}
