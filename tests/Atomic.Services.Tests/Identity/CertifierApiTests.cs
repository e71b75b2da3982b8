using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.DevChain.Tests.Interop;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;
using Atomic.Services.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Tests.Identity;

/// <summary>
/// Our certifier (<c>/v1/certifier</c>) issuing to @bsv/sdk's side of BRC-53, the certificate then presented by the
/// sdk's AuthFetch to a route whose policy trusts that certifier, and revoked: refused from then on.
/// </summary>
public sealed class CertifierApiTests : IAsyncLifetime
{
    private static readonly string EmployeeType = Convert.ToBase64String(SHA256.HashData("atomic certifier employee"u8));
    private readonly PrivateKey _serverKey = PrivateKey.Random();
    private readonly PrivateKey _client = PrivateKey.Random();
    private WebApplication _app = null!;
    private string _baseUrl = null!;

    public async Task InitializeAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Atomic:Identity:ServerPrivateKey"] = _serverKey.ToWif(),
            ["Atomic:Certifier:Enabled"] = "true",
            ["Atomic:Certifier:Types:employee:Type"] = EmployeeType,
            ["Atomic:Certifier:Types:employee:Fields:0"] = "name",
            ["Atomic:Certifier:Types:employee:Fields:1"] = "role",
            ["Atomic:Identity:Trust:Types:employee:Type"] = EmployeeType,
            ["Atomic:Identity:Trust:Types:employee:Certifiers:0"] = _serverKey.PublicKey.ToHex(),
            ["Atomic:Identity:Trust:Policies:auditor:Certificate"] = "employee",
            ["Atomic:Identity:Trust:Policies:auditor:Require:role:0"] = "auditor",
        });
        builder.Services.AddCertifier();
        _app = builder.Build();
        _app.UseBsvAuth();
        _app.MapCertifierApi();
        _app.MapGet("/audit", (ClaimsPrincipal user) => user.FindFirstValue("employee:role")).RequireAuthorization("auditor");
        await _app.StartAsync();
        _baseUrl = _app.Urls.First().TrimEnd('/');
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task The_sdks_issuance_gets_a_certificate_that_opens_the_route_until_its_subject_revokes_it()
    {
        JsonElement acquired = await AcquireAsync(new JsonObject { ["name"] = "Alice", ["role"] = "auditor" });
        acquired.TryGetProperty("error", out _).Should().BeFalse(acquired.ToString());
        JsonElement certificate = acquired.GetProperty("certificate");
        certificate.GetProperty("certifier").GetString().Should().Be(_serverKey.PublicKey.ToHex());
        certificate.GetProperty("revocationOutpoint").GetString().Should().Be(CertificateRevocations.NoOutput);
        acquired.GetProperty("decrypted").GetProperty("role").GetString().Should().Be("auditor");

        JsonElement before = (await PresentAsync(certificate)).GetProperty("results")[0];
        before.GetProperty("status").GetInt32().Should().Be(200, before.ToString());
        before.GetProperty("body").GetString().Should().Be("auditor");

        using var http = new HttpClient(new AuthFetchHandler(new ProtoWallet(_client), new HttpClientHandler())) { BaseAddress = new Uri(_baseUrl) };
        string serial = certificate.GetProperty("serialNumber").GetString()!;
        HttpResponseMessage revoked = await http.PostAsJsonAsync("/v1/certifier/revoke", new { serialNumber = serial });
        revoked.StatusCode.Should().Be(HttpStatusCode.OK, await revoked.Content.ReadAsStringAsync());
        (await http.PostAsJsonAsync("/v1/certifier/revoke", new { serialNumber = serial })).StatusCode
            .Should().Be(HttpStatusCode.OK, "revoking twice changes nothing");

        JsonElement after = (await PresentAsync(certificate)).GetProperty("results")[0];
        after.GetProperty("status").GetInt32().Should().Be(403, after.ToString());
        after.GetProperty("body").GetString().Should().Contain($"\"code\":\"{AuthReasons.CertificateRevoked}\"");
    }

    [Fact]
    public async Task A_field_the_certifier_does_not_vouch_for_is_refused()
    {
        JsonElement acquired = await AcquireAsync(new JsonObject { ["name"] = "Alice", ["salary"] = "lots" });
        acquired.GetProperty("status").GetInt32().Should().Be(400, acquired.ToString());
        acquired.GetProperty("error").GetString().Should().Contain(CertifierApi.CertifierFieldRefused);
    }

    [Fact]
    public async Task Only_the_subject_or_an_admin_may_revoke_and_unknown_serials_are_not_found()
    {
        JsonElement certificate = (await AcquireAsync(new JsonObject { ["role"] = "auditor" })).GetProperty("certificate");
        using var stranger = new HttpClient(new AuthFetchHandler(new ProtoWallet(PrivateKey.Random()), new HttpClientHandler()))
        {
            BaseAddress = new Uri(_baseUrl),
        };
        HttpResponseMessage refused = await stranger.PostAsJsonAsync(
            "/v1/certifier/revoke", new { serialNumber = certificate.GetProperty("serialNumber").GetString() });
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadAsStringAsync()).Should().Contain(AuthReasons.Forbidden);
        HttpResponseMessage unknown = await stranger.PostAsJsonAsync(
            "/v1/certifier/revoke", new { serialNumber = Convert.ToBase64String(new byte[32]) });
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        using var open = new HttpClient { BaseAddress = new Uri(_baseUrl) };
        (await open.PostAsJsonAsync("/v1/certifier/revoke", new { serialNumber = "x" })).StatusCode
            .Should().Be(HttpStatusCode.Unauthorized, "the certifier's POSTs need a signed request");
        JsonElement view = await open.GetFromJsonAsync<JsonElement>("/v1/certifier");
        view.GetProperty("identityKey").GetString().Should().Be(_serverKey.PublicKey.ToHex());
    }

    private async Task<JsonElement> AcquireAsync(JsonObject fields)
    {
        var input = new JsonObject
        {
            ["clientKey"] = Hex.Encode(_client.ToBytes()),
            ["certifierUrl"] = _baseUrl + "/v1/certifier",
            ["certifier"] = _serverKey.PublicKey.ToHex(),
            ["type"] = EmployeeType,
            ["fields"] = fields,
        };
        return JsonDocument.Parse(await NodeRunner.RunWithInputAsync("certifier-acquire.mjs", input.ToJsonString(), TimeSpan.FromSeconds(60))).RootElement;
    }

    private async Task<JsonElement> PresentAsync(JsonElement master)
    {
        var input = new JsonObject
        {
            ["clientKey"] = Hex.Encode(_client.ToBytes()),
            ["baseUrl"] = _baseUrl,
            ["certificates"] = new JsonArray(new JsonObject { ["master"] = JsonNode.Parse(master.GetRawText()) }),
            ["requests"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = "/audit" }),
        };
        return JsonDocument.Parse(await NodeRunner.RunWithInputAsync("auth-fetch-certificates.mjs", input.ToJsonString(), TimeSpan.FromSeconds(60))).RootElement;
    }
}
