using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;
using Atomic.Services.Baskets;
using Atomic.Services.Identity;
using Atomic.Services.Pipeline;
using Dapr.Actors.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Tests.Identity;

/// <summary><c>Atomic:Auth:RequireForBaskets</c>: a basket's changes answer only signed requests when it is on.</summary>
public class BasketsAuthTests
{
    [Fact]
    public async Task With_the_switch_on_unsigned_operations_and_relinquish_are_refused_while_listing_stays_open()
    {
        await using WebApplication app = await StartAsync(requireForBaskets: true);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        await ExpectAuthRequired(await http.PostAsync("/v1/baskets/default/operations", new StringContent("[]", Encoding.UTF8, "application/json")));
        await ExpectAuthRequired(await http.DeleteAsync($"/v1/baskets/default/outputs/{new string('a', 64)}.0"));
        (await http.GetAsync("/v1/baskets/a%7C%7Cb/outputs")).StatusCode.Should().Be(HttpStatusCode.BadRequest, "listing needs no signature");
    }

    [Fact]
    public async Task With_the_switch_on_a_signed_operation_reaches_the_route_and_its_answer_comes_back_signed()
    {
        await using WebApplication app = await StartAsync(requireForBaskets: true);
        var client = new ProtoWallet(PrivateKey.Random());
        using var http = new HttpClient(new AuthFetchHandler(client, new HttpClientHandler())) { BaseAddress = new Uri(app.Urls.First()) };

        using HttpResponseMessage response = await http.PostAsync(
            "/v1/baskets/a%7C%7Cb/operations", new StringContent("[]", Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, "the route itself answered (a bad basket name), signed");
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().Should().Be(Problems.RequestInvalid);
    }

    [Fact]
    public async Task With_the_switch_off_by_default_the_routes_take_unsigned_requests_as_before()
    {
        await using WebApplication app = await StartAsync(requireForBaskets: null);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        (await http.PostAsync("/v1/baskets/a%7C%7Cb/operations", new StringContent("[]", Encoding.UTF8, "application/json")))
            .StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    private static async Task<WebApplication> StartAsync(bool? requireForBaskets)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (requireForBaskets is { } on)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [BsvAuthExtensions.RequireForBasketsKey] = on ? "true" : "false" });
        }

        builder.Services.AddSingleton<IActorProxyFactory>(new ActorProxyFactory());
        builder.Services.AddOptions<OverlayOptions>();
        builder.Services.AddBsvAuth(o => o.ServerPrivateKey = Convert.ToHexStringLower(PrivateKey.Random().ToBytes()));
        WebApplication app = builder.Build();
        app.UseBsvAuth();
        app.MapBasketsApi();
        await app.StartAsync();
        return app;
    }

    private static async Task ExpectAuthRequired(HttpResponseMessage response)
    {
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().Should().Be(AuthReasons.Required);
    }
}
