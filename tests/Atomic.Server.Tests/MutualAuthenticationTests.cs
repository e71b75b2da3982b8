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
}
