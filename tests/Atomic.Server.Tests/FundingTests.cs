using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Cli;
using Atomic.Services.Funding;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>
/// The server's coins (<c>Atomic:Funding</c>) on the all-in-one server with the dev chain: deposits by
/// <c>atomic fund</c> and <c>POST /v1/funding</c>, payments from them that never spend a coin twice and give a coin back
/// when their submission fails, and the certifier's revocation outputs paid from them without a faucet.
/// </summary>
public class FundingTests
{
    private static readonly string EmployeeType = Convert.ToBase64String(SHA256.HashData("atomic funded employee"u8));

    private static Dictionary<string, string?> Settings(bool certifier = false)
    {
        var settings = new Dictionary<string, string?> { [FundingOptions.KeyKey] = PrivateKey.Random().ToWif() };
        if (certifier)
        {
            settings["Atomic:Certifier:Enabled"] = "true";
            settings["Atomic:Certifier:Types:employee:Type"] = EmployeeType;
            settings["Atomic:Certifier:Types:employee:Fields:0"] = "role";
        }

        return settings;
    }

    [Fact]
    public async Task Atomic_fund_deposits_from_the_faucet_and_bad_deposits_are_refused_with_their_codes()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings());

        (int code, string output, string error) = await CliAsync("fund", "--server", server.Url, "--faucet", $"{server.Url}/arc", "--satoshis", "40000");
        code.Should().Be(0, error);
        output.Should().MatchRegex("deposit [0-9a-f]{64}: 1 coin\\(s\\) added").And.Contain("balance 40000 satoshis in 1 coin(s)");

        (code, output, error) = await CliAsync("fund", "--server", server.Url, "--json");
        code.Should().Be(0, error);
        JsonElement view = JsonDocument.Parse(output).RootElement;
        view.GetProperty("balance").GetUInt64().Should().Be(40000);
        view.GetProperty("address").GetString().Should().StartWith("1");

        // A transaction paying someone else: nothing for the funding key.
        (Beef funding, _, _) = await PipelineTests.FundAsync(server.Client, PrivateKey.Random());
        using HttpResponseMessage other = await server.Client.PostAsync("/v1/funding", new ByteArrayContent(funding.ToBytes()));
        other.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await other.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be(FundingException.NoOutput);

        using HttpResponseMessage garbage = await server.Client.PostAsync("/v1/funding", new ByteArrayContent([1, 2, 3]));
        garbage.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using HttpResponseMessage json = await server.Client.PostAsync("/v1/funding", new StringContent("{}", Encoding.UTF8, "application/json"));
        json.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);

        // The same deposit again adds nothing.
        Beef deposit = await FaucetAsync(server, view.GetProperty("lockingScript").GetString()!, 5000);
        (await DepositAsync(server, deposit)).GetProperty("added").GetArrayLength().Should().Be(1);
        (await DepositAsync(server, deposit)).GetProperty("added").GetArrayLength().Should().Be(0);
        (await DepositAsync(server, deposit)).GetProperty("balance").GetUInt64().Should().Be(45000);
    }

    [Fact]
    public async Task Atomic_fund_names_the_missing_setting_when_the_server_has_no_funding_key()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        (int code, _, string error) = await CliAsync("fund", "--server", server.Url);
        code.Should().Be(2);
        error.Should().Contain("Atomic:Funding:Key");
    }

    [Fact]
    public async Task Concurrent_payments_never_spend_a_coin_twice_and_a_failed_submission_gives_its_coins_back()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings());
        FundingCoins coins = server.Services.GetRequiredService<FundingCoins>();
        await DepositAsync(server, await FaucetAsync(server, coins.LockingScript.ToHex(), 30000));
        IReadOnlyList<FundingCoin> before = await coins.CoinsAsync(CancellationToken.None);

        Func<Transaction, byte[], CancellationToken, Task> refused = (_, _, _) => throw new HttpRequestException("ARC is down");
        Func<Task> failing = () => coins.PayAsync([new TxOutput(1000, Payee())], refused, CancellationToken.None);
        await failing.Should().ThrowAsync<HttpRequestException>();
        (await coins.CoinsAsync(CancellationToken.None)).Should().BeEquivalentTo(before, "the coins went back and no change was kept");

        (Transaction Tx, byte[] Beef)[] paid = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            coins.PayAsync([new TxOutput(1000, Payee())], (_, beef, ct) => SubmitAsync(server, beef, ct), CancellationToken.None)));

        paid.SelectMany(p => p.Tx.Inputs.Select(i => i.PrevOut)).Should().OnlyHaveUniqueItems("no coin is spent twice");
        foreach ((Transaction tx, _) in paid)
        {
            await PipelineTests.WaitForAsync(server.Client, tx.Id.ToDisplayHex(), "broadcast");
        }

        IReadOnlyList<FundingCoin> after = await coins.CoinsAsync(CancellationToken.None);
        after.Should().ContainSingle("each payment spent the change of the one before");
        ulong fees = 30000 - (4 * 1000) - after[0].Satoshis;
        fees.Should().BeInRange(4, 400);
    }

    [Fact]
    public async Task The_certifier_pays_revocation_outputs_from_the_servers_coins_and_a_revocation_gives_the_rest_back()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: Settings(certifier: true));
        string variable = $"ATOMIC_TEST_FUNDED_{Guid.NewGuid():n}";
        Environment.SetEnvironmentVariable(variable, PrivateKey.Random().ToWif());
        try
        {
            string[] issue = ["identity", "issue", "--server", server.Url, "--key-from", variable, "--type", "employee", "--field", "role=auditor"];
            (int code, _, string error) = await CliAsync(issue);
            code.Should().Be(2, "the server has no coins yet");
            error.Should().Contain("REVOCATION_OUTPUT_FAILED").And.Contain(FundingException.Insufficient);

            (code, _, error) = await CliAsync("fund", "--server", server.Url, "--faucet", $"{server.Url}/arc", "--satoshis", "20000");
            code.Should().Be(0, error);
            (code, string json, error) = await CliAsync(issue);
            code.Should().Be(0, error);
            JsonElement certificate = JsonDocument.Parse(json).RootElement;
            string outpoint = certificate.GetProperty("revocationOutpoint").GetString()!;
            string serial = certificate.GetProperty("serialNumber").GetString()!;
            string txid = outpoint.Split('.')[0];
            outpoint.Should().EndWith(".0");
            await PipelineTests.WaitForAsync(server.Client, txid, "broadcast");

            FundingCoins coins = server.Services.GetRequiredService<FundingCoins>();
            FundingCoin change = (await coins.CoinsAsync(CancellationToken.None)).Should().ContainSingle().Subject;
            change.Outpoint.Should().StartWith(txid, "the change of the revocation output's transaction");
            change.Satoshis.Should().BeLessThan(20000 - 1000);

            (code, _, error) = await CliAsync("identity", "revoke", "--server", server.Url, "--key-from", variable, "--serial", serial);
            code.Should().Be(0, error);
            IReadOnlyList<FundingCoin> after = await coins.CoinsAsync(CancellationToken.None);
            after.Should().HaveCount(2);
            FundingCoin back = after.Single(c => c != change);
            back.Satoshis.Should().Be(800, "the revocation output's 1000 satoshis less the spend's fee of 200");

            // The revoke returns once the spend is in the pipeline; it is mined only if broadcast before the block.
            await PipelineTests.WaitForAsync(server.Client, back.Outpoint.Split('.')[0], "broadcast");
            (await server.Client.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            await PipelineTests.WaitForAsync(server.Client, back.Outpoint.Split('.')[0], "mined");
            var revocations = server.Services.GetRequiredService<Atomic.Services.Identity.CertificateRevocations>();
            revocations.IsSerialRevoked(serial).Should().BeTrue();
            // The overlay takes the spend in on its own way (beef.verified), not in step with the broadcast.
            for (int i = 0; i < 300 && !revocations.IsRevoked(outpoint); i++)
            {
                await Task.Delay(100);
            }

            revocations.IsRevoked(outpoint).Should().BeTrue("the overlay admitted the output and saw it spent");

            // Coins mined since: the next payment's BEEF carries their merkle paths, not their ancestors.
            (code, json, error) = await CliAsync(issue);
            code.Should().Be(0, error);
            string next = JsonDocument.Parse(json).RootElement.GetProperty("revocationOutpoint").GetString()!.Split('.')[0];
            Beef paid = Beef.FromMemory(await server.Services.GetRequiredService<Dapr.Client.DaprClient>()
                .GetByteStateAsync("statestore", FundingCoins.BeefKey(next)));
            BeefTx spentCoin = paid.Find(Atomic.Bsv.Primitives.Hash256.FromDisplayHex(txid))!;
            spentCoin.IsProven.Should().BeTrue("the change coin's transaction was mined: its merkle path stands for its ancestors");
            paid.Transactions.Should().HaveCount(2);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    private static Script Payee() => Script.PayToPublicKeyHash(PrivateKey.Random().PublicKey.ToHash160());

    private static async Task SubmitAsync(ServerHost server, byte[] beef, CancellationToken ct)
    {
        using HttpResponseMessage response = await server.Client.PostAsync("/v1/beef", new ByteArrayContent(beef), ct);
        response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync(ct));
    }

    private static async Task<Beef> FaucetAsync(ServerHost server, string lockingScript, long satoshis)
    {
        using HttpResponseMessage paid = await server.Client.PostAsJsonAsync("/arc/v1/faucet", new { lockingScript, satoshis });
        paid.StatusCode.Should().Be(HttpStatusCode.OK);
        return Beef.FromHex((await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("beef").GetString()!);
    }

    private static async Task<JsonElement> DepositAsync(ServerHost server, Beef deposit)
    {
        using HttpResponseMessage response = await server.Client.PostAsync("/v1/funding", new ByteArrayContent(deposit.ToBytes()));
        string body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<(int Code, string Out, string Error)> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await AtomicCli.RunAsync(args, new CliConsole(Stream.Null, output, error), CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
