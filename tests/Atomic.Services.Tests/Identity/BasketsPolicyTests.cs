using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.DevChain.Tests.Interop;
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

/// <summary><c>Atomic:Auth:BasketsPolicy</c>: basket changes need a certificate policy ("basket-writer") by configuration.</summary>
public sealed class BasketsPolicyTests : IAsyncLifetime
{
    private static readonly string MemberType = Convert.ToBase64String(SHA256.HashData("atomic basket member"u8));
    private static readonly PrivateKey Certifier = PrivateKey.Random();
    private WebApplication _app = null!;

    public async Task InitializeAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [BsvAuthExtensions.RequireForBasketsKey] = "true",
            [BsvAuthExtensions.BasketsPolicyKey] = "basket-writer",
            ["Atomic:Identity:ServerPrivateKey"] = PrivateKey.Random().ToWif(),
            ["Atomic:Identity:CertificateWait"] = "00:00:01",
            ["Atomic:Identity:Trust:Types:member:Type"] = MemberType,
            ["Atomic:Identity:Trust:Types:member:Certifiers:0"] = Certifier.PublicKey.ToHex(),
            ["Atomic:Identity:Trust:Policies:basket-writer:Certificate"] = "member",
            ["Atomic:Identity:Trust:Policies:basket-writer:Require:writes:0"] = "baskets",
        });
        builder.Services.AddSingleton<IActorProxyFactory>(new ActorProxyFactory());
        builder.Services.AddOptions<OverlayOptions>();
        builder.Services.AddBsvAuth();
        _app = builder.Build();
        _app.UseBsvAuth();
        _app.MapBasketsApi();
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_signed_caller_without_the_certificate_is_refused_and_one_with_it_reaches_the_route()
    {
        using var http = new HttpClient(new AuthFetchHandler(new ProtoWallet(PrivateKey.Random()), new HttpClientHandler()))
        {
            BaseAddress = new Uri(_app.Urls.First()),
        };
        HttpResponseMessage refused = await http.PostAsync("/v1/baskets/a%7C%7Cb/operations", new StringContent("[]", Encoding.UTF8, "application/json"));
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(AuthReasons.CertificateRequired);
        refused.Headers.GetValues(BsvAuthDefaults.RequestedCertificatesHeader).Single().Should().Contain("writes");

        var input = new JsonObject
        {
            ["clientKey"] = Hex.Encode(PrivateKey.Random().ToBytes()),
            ["baseUrl"] = _app.Urls.First().TrimEnd('/'),
            ["certificates"] = new JsonArray(new JsonObject
            {
                ["issue"] = new JsonObject
                {
                    ["certifierKey"] = Hex.Encode(Certifier.ToBytes()),
                    ["type"] = MemberType,
                    ["fields"] = new JsonObject { ["writes"] = "baskets" },
                },
            }),
            ["requests"] = new JsonArray(new JsonObject
            {
                ["method"] = "POST",
                ["path"] = "/v1/baskets/a%7C%7Cb/operations",
                ["headers"] = new JsonObject { ["content-type"] = "application/json" },
                ["body"] = "[]",
            }),
        };
        JsonElement result = JsonDocument.Parse(
            await NodeRunner.RunWithInputAsync("auth-fetch-certificates.mjs", input.ToJsonString(), TimeSpan.FromSeconds(60))).RootElement
            .GetProperty("results")[0];
        result.GetProperty("status").GetInt32().Should().Be(400, "the route itself answered (a bad basket name): " + result);
    }
}
