using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Interop;

/// <summary>
/// Our <see cref="AuthFetchHandler"/> presenting a BRC-52 certificate to Express behind @bsv/auth-express-middleware
/// 2.0.5 with <c>certificatesToRequest</c> (tests/interop/auth-express-certificates.mjs): the middleware's Peer
/// validates it and its handler decrypts exactly the fields it asked for.
/// </summary>
public sealed class AuthExpressCertificateTests : IAsyncLifetime
{
    private static readonly string MemberType = Convert.ToBase64String(SHA256.HashData("atomic member"u8));
    private readonly PrivateKey _serverKey = PrivateKey.Random();
    private readonly PrivateKey _certifier = PrivateKey.Random();
    private readonly ProtoWallet _client = new(PrivateKey.Random());
    private ExpressServer _server = null!;

    public async Task InitializeAsync() => _server = await ExpressServer.StartAsync(
        "auth-express-certificates.mjs", Hex.Encode(_serverKey.ToBytes()), Hex.Encode(_certifier.ToBytes()), MemberType, "tier,since");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_server_asking_at_the_handshake_gets_the_certificate_and_decrypts_only_the_fields_it_asked_for()
    {
        MasterCertificate member = Issue(_certifier, MemberType, new() { ["name"] = "Alice", ["tier"] = "gold", ["since"] = "2024" });
        MasterCertificate other = Issue(PrivateKey.Random(), MemberType, new() { ["tier"] = "platinum" });
        var handler = new AuthFetchHandler(_client, new HttpClientHandler()) { Certificates = [other, member] };
        using var http = new HttpClient(handler) { BaseAddress = _server.BaseAddress };

        JsonElement seen = await http.GetFromJsonAsync<JsonElement>("certificates");

        seen.GetProperty("identityKey").GetString().Should().Be(_client.IdentityKey.ToHex());
        JsonElement certificate = seen.GetProperty("certificates").EnumerateArray().ToList().Should().ContainSingle(
            "only the certificate from the certifier it asked for is presented").Subject;
        certificate.GetProperty("serialNumber").GetString().Should().Be(member.Certificate.SerialNumber);
        certificate.GetProperty("certifier").GetString().Should().Be(_certifier.PublicKey.ToHex());
        certificate.GetProperty("revealed").Deserialize<Dictionary<string, string>>().Should().BeEquivalentTo(
            new Dictionary<string, string> { ["tier"] = "gold", ["since"] = "2024" });
        certificate.GetProperty("encrypted").EnumerateArray().Select(e => e.GetString()).Should().BeEquivalentTo("name", "tier", "since");
        handler.PresentedCertificates(_server.BaseAddress).Should().ContainSingle()
            .Which.Keyring.Keys.Should().BeEquivalentTo("tier", "since");

        JsonElement again = await http.GetFromJsonAsync<JsonElement>("certificates");
        again.GetProperty("certificates").GetArrayLength().Should().Be(1, "the session keeps its certificates");
    }

    private MasterCertificate Issue(PrivateKey certifier, string type, Dictionary<string, string> fields) =>
        MasterCertificate.IssueCertificateForSubject(
            new ProtoWallet(certifier), Counterparty.Of(_client.IdentityKey), fields, type, new string('0', 64) + ".0");
}
