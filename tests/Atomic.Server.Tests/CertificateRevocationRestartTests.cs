using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.DevChain.Tests.Interop;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;
using Atomic.Services.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>
/// The all-in-one server as certifier and verifier on the repository's SQLite components: a certificate our certifier
/// issued and revoked stays refused after the server restarts on the same data, and one it issued before the restart
/// can still be revoked after it. The certificates are acquired and presented by @bsv/sdk 2.1.0 (tests/interop).
/// </summary>
public class CertificateRevocationRestartTests
{
    private static readonly string EmployeeType = Convert.ToBase64String(SHA256.HashData("atomic restart employee"u8));
    private readonly PrivateKey _serverKey = PrivateKey.Random();
    private readonly PrivateKey _client = PrivateKey.Random();
    private int _outputs;

    private Dictionary<string, string?> Settings => new()
    {
        ["Atomic:Identity:ServerPrivateKey"] = _serverKey.ToWif(), // the same certifier and verifier after the restart
        ["Atomic:Certifier:Enabled"] = "true",
        ["Atomic:Certifier:Types:employee:Type"] = EmployeeType,
        ["Atomic:Certifier:Types:employee:Fields:0"] = "role",
        ["Atomic:Identity:Trust:Types:employee:Type"] = EmployeeType,
        ["Atomic:Identity:Trust:Types:employee:Certifiers:0"] = _serverKey.PublicKey.ToHex(),
        ["Atomic:Identity:Trust:Policies:auditor:Certificate"] = "employee",
        ["Atomic:Identity:Trust:Policies:auditor:Require:role:0"] = "auditor",
        ["Atomic:Auth:RequireForBaskets"] = "true",
        ["Atomic:Auth:BasketsPolicy"] = "auditor",
    };

    [Fact]
    public async Task A_revoked_certificate_is_still_refused_after_a_restart_and_one_issued_before_it_can_be_revoked_after_it()
    {
        string directory = ServerHost.CopyComponents();
        JsonElement revoked;
        JsonElement kept;
        await using (ServerHost first = await ServerHost.StartAsync(settings: Settings, directory: directory, keepDirectory: true))
        {
            revoked = await AcquireAsync(first.Url);
            kept = await AcquireAsync(first.Url);
            (await PresentAsync(first.Url, revoked)).GetProperty("status").GetInt32().Should().Be(200);
            (await RevokeAsync(first.Url, revoked)).StatusCode.Should().Be(HttpStatusCode.OK);
            JsonElement refused = await PresentAsync(first.Url, revoked);
            refused.GetProperty("status").GetInt32().Should().Be(403, refused.ToString());
        }

        await using ServerHost second = await ServerHost.StartAsync(settings: Settings, directory: directory);
        JsonElement after = await PresentAsync(second.Url, revoked);
        after.GetProperty("status").GetInt32().Should().Be(403, after.ToString());
        after.GetProperty("body").GetString().Should().Contain($"\"code\":\"{AuthReasons.CertificateRevoked}\"");
        second.Services.GetRequiredService<CertificateRevocations>().IsSerialRevoked(Serial(revoked)).Should().BeTrue();
        (await RevokeAsync(second.Url, revoked)).StatusCode.Should().Be(HttpStatusCode.OK, "revoking again changes nothing");

        JsonElement open = await PresentAsync(second.Url, kept);
        open.GetProperty("status").GetInt32().Should().Be(200, open.ToString());
        HttpResponseMessage revokedAfter = await RevokeAsync(second.Url, kept);
        revokedAfter.StatusCode.Should().Be(
            HttpStatusCode.OK, "the certifier still knows what it issued before the restart: " + await revokedAfter.Content.ReadAsStringAsync());
        JsonElement closed = await PresentAsync(second.Url, kept);
        closed.GetProperty("status").GetInt32().Should().Be(403, closed.ToString());
        closed.GetProperty("body").GetString().Should().Contain(AuthReasons.CertificateRevoked);

        // The audit trail, kept across the restart: each issuance and each revocation once, with the subject's key.
        string subjectKey = _client.PublicKey.ToHex();
        List<JsonElement> trail = await AuditAsync(second, Serial(kept));
        trail.Where(e => e.GetProperty("kind").GetString() == CertifierApi.IssuedAuditKind)
            .Select(e => (e.GetProperty("subject").GetString(), e.GetProperty("identity").GetString()))
            .Should().BeEquivalentTo([(Serial(revoked), subjectKey), (Serial(kept), subjectKey)]);
        trail.Where(e => e.GetProperty("kind").GetString() == CertificateRevoker.Topic)
            .Select(e => (e.GetProperty("subject").GetString(), e.GetProperty("identity").GetString()))
            .Should().BeEquivalentTo([(Serial(revoked), subjectKey), (Serial(kept), subjectKey)], "the certifier's revocations name who asked");
    }

    /// <summary>The audit trail once it holds the revocation of <paramref name="serial"/> (the writer appends in the background).</summary>
    private static async Task<List<JsonElement>> AuditAsync(ServerHost server, string serial)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            string jsonl = await server.Client.GetStringAsync("/v1/audit?format=jsonl");
            List<JsonElement> entries = [.. jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
            if (entries.Any(e => e.GetProperty("kind").GetString() == CertificateRevoker.Topic && e.GetProperty("subject").GetString() == serial) || DateTime.UtcNow > deadline)
            {
                return entries;
            }

            await Task.Delay(100);
        }
    }

    private static string Serial(JsonElement certificate) => certificate.GetProperty("serialNumber").GetString()!;

    /// <summary>The subject's side of BRC-53 issuance, as @bsv/sdk wallets run it; answers the master certificate.</summary>
    private async Task<JsonElement> AcquireAsync(string url)
    {
        var input = new JsonObject
        {
            ["clientKey"] = Hex.Encode(_client.ToBytes()),
            ["certifierUrl"] = url + "/v1/certifier",
            ["certifier"] = _serverKey.PublicKey.ToHex(),
            ["type"] = EmployeeType,
            ["fields"] = new JsonObject { ["role"] = "auditor" },
        };
        string output = await NodeRunner.RunWithInputAsync("certifier-acquire.mjs", input.ToJsonString(), TimeSpan.FromSeconds(60));
        JsonElement acquired = JsonDocument.Parse(output).RootElement;
        acquired.TryGetProperty("error", out _).Should().BeFalse(acquired.ToString());
        return acquired.GetProperty("certificate").Clone();
    }

    /// <summary>@bsv/sdk's AuthFetch presenting the certificate for a basket change behind the "auditor" policy; answers {status, body}.</summary>
    private async Task<JsonElement> PresentAsync(string url, JsonElement certificate)
    {
        string outpoint = $"{Interlocked.Increment(ref _outputs):x64}.0";
        string body = JsonSerializer.Serialize(new
        {
            operations = new[]
            {
                new { op = "insert", outpoint, satoshis = 42UL, lockingScript = "76a914" + new string('1', 40) + "88ac", tags = new[] { "t" } },
            },
        });
        var input = new JsonObject
        {
            ["clientKey"] = Hex.Encode(_client.ToBytes()),
            ["baseUrl"] = url,
            ["certificates"] = new JsonArray(new JsonObject { ["master"] = JsonNode.Parse(certificate.GetRawText()) }),
            ["requests"] = new JsonArray(new JsonObject
            {
                ["method"] = "POST",
                ["path"] = "/v1/baskets/audited/operations",
                ["headers"] = new JsonObject { ["content-type"] = "application/json" },
                ["body"] = body,
            }),
        };
        string output = await NodeRunner.RunWithInputAsync("auth-fetch-certificates.mjs", input.ToJsonString(), TimeSpan.FromSeconds(60));
        return JsonDocument.Parse(output).RootElement.GetProperty("results")[0].Clone();
    }

    /// <summary><c>POST /v1/certifier/revoke</c> signed by the certificate's subject.</summary>
    private async Task<HttpResponseMessage> RevokeAsync(string url, JsonElement certificate)
    {
        using var http = new HttpClient(new AuthFetchHandler(new ProtoWallet(_client), new HttpClientHandler())) { BaseAddress = new Uri(url) };
        return await http.PostAsJsonAsync("/v1/certifier/revoke", new { serialNumber = Serial(certificate) });
    }
}
