using System.Text.Json;
using System.Text.Json.Nodes;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.DevChain.Tests.Interop;
using Atomic.Identity.Auth;

namespace Atomic.Services.Tests.Identity;

/// <summary>
/// Federation through BRC-103 certificate exchange: @bsv/sdk's AuthFetch (a ProtoWallet holding certificates) is asked
/// at the handshake for the fields the "auditor" policy needs, presents a certificate, and the route's policy decides
/// over the claims; each bad certificate is refused with its own reason code.
/// </summary>
public sealed class BsvCertificateHostTests : IAsyncLifetime
{
    private readonly PrivateKey _client = PrivateKey.Random();
    private BsvCertificateHost _host = null!;

    public async Task InitializeAsync() => _host = await BsvCertificateHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("A")]
    [InlineData("B")]
    public async Task The_sdks_auth_fetch_presents_a_certificate_from_either_trusted_certifier_and_reveals_only_the_policys_field(string which)
    {
        PrivateKey certifier = which == "A" ? BsvCertificateHost.CertifierA : BsvCertificateHost.CertifierB;
        JsonElement output = await RunAsync([Issue(certifier, "auditor")]);

        JsonElement result = output.GetProperty("results")[0];
        result.GetProperty("status").GetInt32().Should().Be(200, result.ToString());
        JsonElement body = JsonDocument.Parse(result.GetProperty("body").GetString()!).RootElement;
        body.GetProperty("identityKey").GetString().Should().Be(_client.PublicKey.ToHex());
        body.GetProperty("role").GetString().Should().Be("auditor");
        body.GetProperty("certifier").GetString().Should().Be(certifier.PublicKey.ToHex());
        body.GetProperty("certificate").GetString().Should().Be("employee");
        body.GetProperty("claims").EnumerateArray().Select(c => c.GetString()).Should().NotContain("employee:name", "only role was asked for");
        JsonElement requested = output.GetProperty("requested")[0];
        requested.GetProperty("type").GetString().Should().Be(BsvCertificateHost.EmployeeType);
        requested.GetProperty("fields").EnumerateArray().Select(f => f.GetString()).Should().Equal("role");
    }

    [Fact]
    public async Task A_caller_without_a_certificate_is_refused_with_certificate_required_naming_the_routes_needs()
    {
        JsonElement result = (await RunAsync([])).GetProperty("results")[0];
        ShouldBeRefused(result, 403, AuthReasons.CertificateRequired);
    }

    [Fact]
    public async Task A_certificate_from_an_untrusted_certifier_is_refused_as_untrusted()
    {
        JsonElement result = (await RunAsync([Issue(PrivateKey.Random(), "auditor")], presentAll: true)).GetProperty("results")[0];
        ShouldBeRefused(result, 403, AuthReasons.CertifierUntrusted);
    }

    [Fact]
    public async Task A_tampered_certificate_is_refused_as_invalid()
    {
        JsonObject tampered = Issue(BsvCertificateHost.CertifierA, "auditor");
        tampered["tamper"] = true;
        JsonElement result = (await RunAsync([tampered])).GetProperty("results")[0];
        ShouldBeRefused(result, 403, AuthReasons.CertificateInvalid);
    }

    [Fact]
    public async Task A_good_certificate_with_another_role_is_forbidden()
    {
        JsonElement result = (await RunAsync([Issue(BsvCertificateHost.CertifierA, "engineer")])).GetProperty("results")[0];
        ShouldBeRefused(result, 403, AuthReasons.Forbidden);
    }

    [Fact]
    public async Task A_revoked_certificate_is_refused_as_revoked()
    {
        string outpoint = Hex.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + ".0";
        _host.Revocations.Revoke(outpoint, DateTimeOffset.UtcNow);
        JsonElement result = (await RunAsync([Issue(BsvCertificateHost.CertifierA, "auditor", outpoint)])).GetProperty("results")[0];
        ShouldBeRefused(result, 403, AuthReasons.CertificateRevoked);
    }

    private static void ShouldBeRefused(JsonElement result, int status, string code)
    {
        result.GetProperty("status").GetInt32().Should().Be(status, result.ToString());
        result.GetProperty("body").GetString().Should().Contain($"\"code\":\"{code}\"", result.ToString());
    }

    private static JsonObject Issue(PrivateKey certifier, string role, string? revocationOutpoint = null)
    {
        var issue = new JsonObject
        {
            ["certifierKey"] = Hex.Encode(certifier.ToBytes()),
            ["type"] = BsvCertificateHost.EmployeeType,
            ["fields"] = new JsonObject { ["name"] = "Alice", ["role"] = role },
        };
        if (revocationOutpoint is not null)
        {
            issue["revocationOutpoint"] = revocationOutpoint;
        }

        return new JsonObject { ["issue"] = issue };
    }

    private async Task<JsonElement> RunAsync(JsonObject[] certificates, bool presentAll = false)
    {
        var input = new JsonObject
        {
            ["clientKey"] = Hex.Encode(_client.ToBytes()),
            ["baseUrl"] = _host.BaseAddress.ToString().TrimEnd('/'),
            ["certificates"] = new JsonArray([.. certificates]),
            ["presentAll"] = presentAll,
            ["requests"] = new JsonArray(new JsonObject { ["method"] = "GET", ["path"] = "/audit" }),
        };
        string output = await NodeRunner.RunWithInputAsync("auth-fetch-certificates.mjs", input.ToJsonString(), TimeSpan.FromSeconds(60));
        return JsonDocument.Parse(output).RootElement;
    }
}
