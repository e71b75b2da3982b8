using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Services.Tests.Identity;

/// <summary>
/// Our own client presenting certificates: <see cref="AuthFetchHandler"/> with a master certificate answers the
/// handshake's request of <see cref="BsvCertificateHost"/> (the "auditor" policy of <c>Atomic:Identity:Trust</c>),
/// revealing only the field the policy needs; without a fitting certificate the route refuses it.
/// </summary>
public sealed class AuthFetchCertificateTests : IAsyncLifetime
{
    private readonly ProtoWallet _client = new(PrivateKey.Random());
    private BsvCertificateHost _host = null!;

    public async Task InitializeAsync() => _host = await BsvCertificateHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_client_holding_an_auditor_certificate_passes_the_auditor_route_revealing_only_the_role()
    {
        MasterCertificate auditor = Issue(BsvCertificateHost.CertifierB, "auditor");
        var handler = new AuthFetchHandler(_client, new HttpClientHandler()) { Certificates = [auditor] };
        using var http = new HttpClient(handler) { BaseAddress = _host.BaseAddress };

        using HttpResponseMessage response = await http.GetAsync("audit");

        string text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        JsonElement body = JsonDocument.Parse(text).RootElement;
        body.GetProperty("identityKey").GetString().Should().Be(_client.IdentityKey.ToHex());
        body.GetProperty("role").GetString().Should().Be("auditor");
        body.GetProperty("certifier").GetString().Should().Be(BsvCertificateHost.CertifierB.PublicKey.ToHex());
        body.GetProperty("certificate").GetString().Should().Be("employee");
        body.GetProperty("claims").EnumerateArray().Select(c => c.GetString()).Should().NotContain("employee:name");
        handler.PresentedCertificates(_host.BaseAddress).Should().ContainSingle()
            .Which.Keyring.Keys.Should().Equal("role");
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused_with_certificate_required()
    {
        using var http = new HttpClient(new AuthFetchHandler(_client, new HttpClientHandler())) { BaseAddress = _host.BaseAddress };
        using HttpResponseMessage response = await http.GetAsync("audit");
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(AuthReasons.CertificateRequired);
    }

    [Fact]
    public async Task A_certificate_from_a_certifier_the_server_did_not_name_is_not_presented_and_the_route_refuses()
    {
        var handler = new AuthFetchHandler(_client, new HttpClientHandler()) { Certificates = [Issue(PrivateKey.Random(), "auditor")] };
        using var http = new HttpClient(handler) { BaseAddress = _host.BaseAddress };
        using HttpResponseMessage response = await http.GetAsync("audit");
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(AuthReasons.CertificateRequired);
        handler.PresentedCertificates(_host.BaseAddress).Should().BeEmpty();
    }

    [Fact]
    public async Task An_auditor_certificate_whose_revocation_output_is_spent_is_refused_as_revoked()
    {
        MasterCertificate auditor = Issue(BsvCertificateHost.CertifierA, "auditor");
        _host.Revocations.Revoke(auditor.Certificate.RevocationOutpoint, DateTimeOffset.UtcNow);
        var handler = new AuthFetchHandler(_client, new HttpClientHandler()) { Certificates = [auditor] };
        using var http = new HttpClient(handler) { BaseAddress = _host.BaseAddress };
        using HttpResponseMessage response = await http.GetAsync("audit");
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(AuthReasons.CertificateRevoked);
    }

    [Fact]
    public async Task Asked_by_the_route_rather_than_at_the_handshake_a_client_presents_that_routes_fields_and_passes()
    {
        await using BsvCertificateHost host = await BsvCertificateHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atomic:Identity:Trust:CertificateRequests"] = "route",
        });
        MasterCertificate auditor = Issue(BsvCertificateHost.CertifierA, "auditor");
        var handler = new AuthFetchHandler(_client, new HttpClientHandler()) { Certificates = [auditor] };
        using var http = new HttpClient(handler) { BaseAddress = host.BaseAddress };

        using HttpResponseMessage response = await http.GetAsync("audit");

        string text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        JsonDocument.Parse(text).RootElement.GetProperty("role").GetString().Should().Be("auditor");
        handler.PresentedCertificates(host.BaseAddress).Should().ContainSingle("asked once, by the route")
            .Which.Keyring.Keys.Should().Equal("role");

        // Without a certificate the route's certificateRequest cannot be met: our client says so.
        using var bare = new HttpClient(new AuthFetchHandler(new ProtoWallet(PrivateKey.Random()), new HttpClientHandler())) { BaseAddress = host.BaseAddress };
        Func<Task> refused = () => bare.GetAsync("audit");
        (await refused.Should().ThrowAsync<AuthFetchException>()).Which.Reason.Should().Be(AuthReasons.CertificateRequired);
    }

    [Fact]
    public async Task A_certificate_request_mode_other_than_handshake_or_route_stops_the_start()
    {
        Func<Task> start = async () => await (await BsvCertificateHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atomic:Identity:Trust:CertificateRequests"] = "later",
        })).DisposeAsync();
        (await start.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>())
            .Which.Message.Should().Contain("Atomic:Identity:Trust:CertificateRequests must be 'handshake' or 'route'");
    }

    [Fact]
    public void A_certificate_about_another_key_is_refused_when_given_to_the_handler()
    {
        MasterCertificate theirs = MasterCertificate.IssueCertificateForSubject(
            new ProtoWallet(BsvCertificateHost.CertifierA), Counterparty.Of(PrivateKey.Random().PublicKey),
            new Dictionary<string, string> { ["role"] = "auditor" }, BsvCertificateHost.EmployeeType, new string('0', 64) + ".0");
        Action give = () => _ = new AuthFetchHandler(_client) { Certificates = [theirs] };
        give.Should().Throw<ArgumentException>().WithMessage("*not this client's identity key*");
    }

    private MasterCertificate Issue(PrivateKey certifier, string role) =>
        MasterCertificate.IssueCertificateForSubject(
            new ProtoWallet(certifier),
            Counterparty.Of(_client.IdentityKey),
            new Dictionary<string, string> { ["name"] = "Alice", ["role"] = role },
            BsvCertificateHost.EmployeeType,
            Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + ".0");
}
