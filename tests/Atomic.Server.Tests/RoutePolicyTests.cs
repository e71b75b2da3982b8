using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Server.Tests;

/// <summary>
/// Certificate policies put on our own routes by configuration: <c>Atomic:Auth:AuditPolicy</c> on <c>GET /v1/audit</c>
/// and <c>Atomic:Auth:CertifierPolicy</c> on the certifier's issuance, met by a certificate our client presents.
/// </summary>
public sealed class RoutePolicyTests
{
    private static readonly string EmployeeType = Convert.ToBase64String(SHA256.HashData("atomic route policy employee"u8));
    private readonly PrivateKey _certifier = PrivateKey.Random();
    private readonly ProtoWallet _client = new(PrivateKey.Random());

    private Dictionary<string, string?> Settings => new()
    {
        ["Atomic:Identity:Trust:Types:employee:Type"] = EmployeeType,
        ["Atomic:Identity:Trust:Types:employee:Certifiers:0"] = _certifier.PublicKey.ToHex(),
        ["Atomic:Identity:Trust:Policies:auditor:Certificate"] = "employee",
        ["Atomic:Identity:Trust:Policies:auditor:Require:role:0"] = "auditor",
        ["Atomic:Auth:RequireForAudit"] = "true",
        ["Atomic:Auth:AuditPolicy"] = "auditor",
        ["Atomic:Certifier:Enabled"] = "true",
        ["Atomic:Certifier:Types:badge:Type"] = Convert.ToBase64String(SHA256.HashData("atomic route policy badge"u8)),
        ["Atomic:Certifier:Types:badge:Fields:0"] = "level",
        ["Atomic:Auth:CertifierPolicy"] = "auditor",
    };

    [Fact]
    public async Task The_audit_export_and_the_certifiers_issuance_take_the_configured_policy()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);

        (await server.Client.GetAsync("/v1/audit")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "unsigned");
        using (var plain = new HttpClient(new AuthFetchHandler(_client, new HttpClientHandler())) { BaseAddress = new Uri(server.Url) })
        {
            await ExpectRefusedAsync(await plain.GetAsync("/v1/audit"), AuthReasons.CertificateRequired);
            await ExpectRefusedAsync(await plain.PostAsJsonAsync("/v1/certifier/signCertificate", new { }), AuthReasons.CertificateRequired);
        }

        using (var clerk = Presenting(Issue("clerk"), server))
        {
            await ExpectRefusedAsync(await clerk.GetAsync("/v1/audit"), AuthReasons.Forbidden);
        }

        using var auditor = Presenting(Issue("auditor"), server);
        using HttpResponseMessage exported = await auditor.GetAsync("/v1/audit?format=jsonl");
        exported.StatusCode.Should().Be(HttpStatusCode.OK, await exported.Content.ReadAsStringAsync());
        using HttpResponseMessage asked = await auditor.PostAsJsonAsync("/v1/certifier/signCertificate", new { });
        asked.StatusCode.Should().Be(HttpStatusCode.BadRequest, "the policy let it through to the issuance, which refuses an empty request");
    }

    private HttpClient Presenting(MasterCertificate certificate, ServerHost server) =>
        new(new AuthFetchHandler(_client, new HttpClientHandler()) { Certificates = [certificate] }) { BaseAddress = new Uri(server.Url) };

    private MasterCertificate Issue(string role) =>
        MasterCertificate.IssueCertificateForSubject(
            new ProtoWallet(_certifier), Counterparty.Of(_client.IdentityKey), new Dictionary<string, string> { ["role"] = role }, EmployeeType,
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + ".0");

    private static async Task ExpectRefusedAsync(HttpResponseMessage response, string code)
    {
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync();
            response.StatusCode.Should().Be(HttpStatusCode.Forbidden, text);
            JsonDocument.Parse(text).RootElement.GetProperty("code").GetString().Should().Be(code);
        }
    }
}
