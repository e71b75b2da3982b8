using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Cli;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary><c>atomic identity issue|show|revoke</c> against the all-in-one server with its certifier on (<c>Atomic:Certifier</c>).</summary>
public class IdentityCommandTests
{
    private static readonly string EmployeeType = Convert.ToBase64String(SHA256.HashData("atomic cli employee"u8));

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Atomic:Certifier:Enabled"] = "true",
        ["Atomic:Certifier:Types:employee:Type"] = EmployeeType,
        ["Atomic:Certifier:Types:employee:Fields:0"] = "name",
        ["Atomic:Certifier:Types:employee:Fields:1"] = "role",
    };

    [Fact]
    public async Task The_cli_gets_a_certificate_issued_shows_it_decrypted_and_revokes_it()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings);
        string variable = $"ATOMIC_TEST_IDENTITY_{Guid.NewGuid():n}";
        var key = PrivateKey.Random();
        Environment.SetEnvironmentVariable(variable, key.ToWif());
        try
        {
            (int issued, string json, string issueErr) = await RunAsync(
                "", "identity", "issue", "--server", server.Url, "--key-from", variable, "--type", "employee", "--field", "name=Alice", "--field", "role=auditor");
            issued.Should().Be(0, issueErr);
            JsonElement certificate = JsonDocument.Parse(json).RootElement;
            certificate.GetProperty("type").GetString().Should().Be(EmployeeType);
            certificate.GetProperty("subject").GetString().Should().Be(key.PublicKey.ToHex());
            certificate.GetProperty("masterKeyring").EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("name", "role");

            (int shown, string report, string showErr) = await RunAsync(json, "identity", "show", "-", "--key-from", variable);
            shown.Should().Be(0, showErr);
            report.Should().Contain("signature     valid").And.Contain("field role    auditor").And.Contain("field name    Alice");

            string serial = certificate.GetProperty("serialNumber").GetString()!;
            (int revoked, string said, string revokeErr) = await RunAsync(
                "", "identity", "revoke", "--server", server.Url, "--key-from", variable, "--serial", serial);
            revoked.Should().Be(0, revokeErr);
            said.Should().Contain($"revoked {serial}");

            (int refused, _, string refusedErr) = await RunAsync(
                "", "identity", "issue", "--server", server.Url, "--key-from", variable, "--type", "employee", "--field", "salary=lots");
            refused.Should().Be(2);
            refusedErr.Should().Contain("CERTIFIER_FIELD_REFUSED");
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task With_a_faucet_each_certificate_gets_a_revocation_output_the_overlay_admits_and_revoking_spends_it()
    {
        var settings = new Dictionary<string, string?>(Settings)
        {
            ["Atomic:Certifier:Revocation:FaucetUrl"] = "{url}/arc",
            ["Atomic:Certifier:Revocation:SubmitUrl"] = "{url}",
        };
        await using ServerHost server = await ServerHost.StartAsync(settings: settings);
        string variable = $"ATOMIC_TEST_IDENTITY_{Guid.NewGuid():n}";
        Environment.SetEnvironmentVariable(variable, PrivateKey.Random().ToWif());
        try
        {
            (int issued, string json, string issueErr) = await RunAsync(
                "", "identity", "issue", "--server", server.Url, "--key-from", variable, "--type", "employee", "--field", "role=auditor");
            issued.Should().Be(0, issueErr);
            JsonElement certificate = JsonDocument.Parse(json).RootElement;
            string outpoint = certificate.GetProperty("revocationOutpoint").GetString()!;
            outpoint.Should().NotStartWith("0000000000", "the faucet funded a real output");
            string serial = certificate.GetProperty("serialNumber").GetString()!;
            (await RevocationAsync(server, serial)).Should().Equal((outpoint, (string?)null));

            (int revoked, _, string revokeErr) = await RunAsync("", "identity", "revoke", "--server", server.Url, "--key-from", variable, "--serial", serial);
            revoked.Should().Be(0, revokeErr);
            var after = await RevocationAsync(server, serial);
            after.Should().ContainSingle();
            after[0].SpentBy.Should().NotBeNull("the revocation output is spent on chain");

            // The spend mined: the certificate stays revoked, by serial number and by its spent outpoint.
            // The revoke returns once the spend is in the pipeline; it is mined only if broadcast before the block.
            await PipelineTests.WaitForAsync(server.Client, after[0].SpentBy!, "broadcast");
            (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
            await PipelineTests.WaitForAsync(server.Client, after[0].SpentBy!, "mined");
            var revocations = server.Services.GetRequiredService<Atomic.Services.Identity.CertificateRevocations>();
            revocations.IsSerialRevoked(serial).Should().BeTrue();
            revocations.IsRevoked(outpoint).Should().BeTrue("the overlay saw the revocation output spent");
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    private static async Task<List<(string Outpoint, string? SpentBy)>> RevocationAsync(ServerHost server, string serial)
    {
        HttpResponseMessage response = await server.Client.PostAsync(
            "/lookup",
            new StringContent(JsonSerializer.Serialize(new { service = "ls_revocation", query = new { serialNumber = serial } }), Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeTrue(text);
        var found = new List<(string, string?)>();
        foreach (JsonElement output in JsonDocument.Parse(text).RootElement.GetProperty("outputs").EnumerateArray())
        {
            var beef = Atomic.Bsv.Spv.Beef.FromBytes([.. output.GetProperty("beef").EnumerateArray().Select(b => b.GetByte())]);
            string? spentBy = output.TryGetProperty("spentBy", out JsonElement s) ? s.GetString() : null;
            found.Add(($"{beef.SubjectTxId!.Value.ToDisplayHex()}.{output.GetProperty("outputIndex").GetInt32()}", spentBy));
        }

        return found;
    }

    private static async Task<(int Code, string Out, string Error)> RunAsync(string stdin, params string[] args)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(stdin));
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await AtomicCli.RunAsync(args, new CliConsole(input, output, error), CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
