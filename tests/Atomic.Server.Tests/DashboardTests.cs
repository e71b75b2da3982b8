using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Cli;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Tests.Interop;
using Atomic.Services.Operations;
using Xunit.Abstractions;

namespace Atomic.Server.Tests;

/// <summary><c>GET /v1/status</c> and <c>GET /dashboard</c> on a whole server (issue #18), the page in a real browser.</summary>
public sealed class DashboardTests(ITestOutputHelper output)
{
    [Fact]
    public async Task After_a_beef_is_mined_the_status_lists_it_mined_with_the_pipelines_rates_latency_and_queues()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        string txid = await PipelineTests.RunAsync(server);

        // The status's list and rates are updated right after the record's save, which GET /v1/tx/{txid} may read first.
        bool ListsItMined(JsonElement status) =>
            status.GetProperty("recent").EnumerateArray().Any(t => t.GetProperty("txid").GetString() == txid && t.GetProperty("status").GetString() == "mined");
        JsonElement status = await Polling.UntilAsync(
            () => server.Client.GetFromJsonAsync<JsonElement>(OperationsApi.StatusRoute), ListsItMined, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));

        output.WriteLine(status.ToString());

        ListsItMined(status).Should().BeTrue("the recent transactions list it mined");
        JsonElement rates = status.GetProperty("rates");
        foreach (string rate in new[] { "accepted", "verified", "broadcast", "mined" })
        {
            rates.GetProperty(rate).GetDouble().Should().BeGreaterThan(0, $"one BEEF was {rate} in the last minute");
        }

        JsonElement latency = status.GetProperty("latency");
        latency.GetProperty("count").GetInt64().Should().BeGreaterThan(0);
        latency.GetProperty("submitToBroadcastP99").GetDouble().Should().BeGreaterThanOrEqualTo(latency.GetProperty("submitToBroadcastP50").GetDouble());
        status.GetProperty("broadcastCalls").GetProperty("acceptance").ValueKind.Should().Be(JsonValueKind.Number);
        status.GetProperty("pubsub").GetProperty("queues").EnumerateArray().Should().Contain(q =>
            q.GetProperty("topic").GetString() == "beef.submitted" && q.GetProperty("consumer").GetString() == "atomic-server");
        status.GetProperty("sessions").GetProperty("running").GetInt32().Should().Be(0, "this server ran no session");
        status.GetProperty("alerts").EnumerateArray().Should().NotContain(a => a.GetProperty("state").GetString() == "firing",
            "an alert fires only after its condition held for the rules' 5 minutes");

        using HttpResponseMessage tx = await server.Client.GetAsync($"/v1/tx/{txid}");
        JsonElement record = await tx.Content.ReadFromJsonAsync<JsonElement>();
        record.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("status").GetString()).Should().Equal("received", "verified", "broadcast", "mined");
    }

    [Fact]
    public async Task A_condition_that_holds_fires_its_alert_in_the_status()
    {
        // Thresholds no transaction can meet, and no hold: the first status after one BEEF fires the latency alerts.
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Atomic:Operations:AlertForSeconds"] = "0",
            ["Atomic:Operations:Alerts:ProcessingSeconds"] = "0",
            ["Atomic:Operations:Alerts:NetworkAcceptance"] = "1.01",
        });
        await PipelineTests.RunAsync(server);

        JsonElement status = await server.Client.GetFromJsonAsync<JsonElement>(OperationsApi.StatusRoute);

        status.GetProperty("alerts").EnumerateArray().Select(a => (a.GetProperty("name").GetString(), a.GetProperty("state").GetString()))
            .Should().Contain([(AlertRules.ProcessingSlow, "firing"), (AlertRules.NetworkAcceptanceLow, "firing")]);
    }

    [Fact]
    public async Task An_alert_window_longer_than_the_counters_keep_stops_start_up()
    {
        Func<Task> start = async () => await (await ServerHost.StartAsync(settings: new Dictionary<string, string?> { ["Atomic:Operations:AlertWindowSeconds"] = "3600" })).DisposeAsync();

        (await start.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>()).Which.Message.Should().Contain("AlertWindowSeconds");
    }

    [Fact]
    public async Task The_dashboard_is_one_self_contained_page()
    {
        await using ServerHost server = await ServerHost.StartAsync();

        using HttpResponseMessage response = await server.Client.GetAsync(OperationsApi.DashboardRoute);
        string html = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        html.Should().Contain("/v1/status").And.Contain("<meta name=\"viewport\"");
        html.Should().NotContainAny(["http://", "https://", "@import", "url("], "no CDN, no fonts, nothing from outside the page");
        System.Text.RegularExpressions.Regex.Matches(html, "(?:src|href)=\"([^\"]*)\"").Select(m => m.Groups[1].Value).Should().OnlyContain(v => v.StartsWith("data:", StringComparison.Ordinal),
            "the page's only link is its empty inline icon (which keeps the browser from asking for /favicon.ico)");
    }

    [Fact]
    public async Task In_headless_chromium_the_dashboard_shows_a_transaction_reach_mined_its_record_and_a_payment()
    {
        // A route the page does not use is priced, and paid once: the page shows the payment.
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            [Atomic.Services.Payments.PaymentOptions.EnabledKey] = "true",
            ["Atomic:Payments:Policies:outputs:Satoshis"] = "300",
            ["Atomic:Payments:Routes:/v1/baskets/{basket}/outputs"] = "outputs",
        });
        PrivateKey payer = PrivateKey.Random();
        (Beef coin, Transaction coinParent, uint coinVout) = await PipelineTests.FundAsync(server.Client, payer);
        var wallet = new Atomic.Identity.Wallet.ProtoWallet(payer);
        var auth = new Atomic.Identity.Auth.AuthFetchHandler(wallet, new HttpClientHandler());
        var coins = new Atomic.Identity.Payments.UtxoFunding(payer, [(coinParent, (int)coinVout, coin)]);
        using (var paying = new HttpClient(new Atomic.Identity.Payments.PaymentFetchHandler(wallet, auth, coins.PayAsync)) { BaseAddress = new Uri(server.Url) })
        using (HttpResponseMessage paid = await paying.GetAsync("/v1/baskets/payments/outputs"))
        {
            paid.StatusCode.Should().Be(HttpStatusCode.OK, await paid.Content.ReadAsStringAsync());
        }

        PrivateKey key = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(server.Client, key);
        string txid = await PipelineTests.SubmitAsync(server.Client, funding, PipelineTests.Spend(funding, parent, vout, key));
        await PipelineTests.WaitForAsync(server.Client, txid, "broadcast");
        string folder = Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots");

        string stdout = await NodeRunner.RunAsync("dashboard-browser.mjs", TimeSpan.FromMinutes(3), "--url", server.Url, "--txid", txid, "--out", folder);
        output.WriteLine(stdout);
        JsonElement seen = JsonDocument.Parse(stdout).RootElement;

        seen.GetProperty("before").GetString().Should().BeOneOf("broadcast", "mined");
        seen.GetProperty("after").GetString().Should().Be("mined");
        seen.GetProperty("recordTxid").GetString().Should().Be(txid);
        seen.GetProperty("recordStatus").GetString().Should().Be("mined");
        seen.GetProperty("history").EnumerateArray().Select(h => h.GetString()!.Split(' ')[0]).Should().Equal("received", "verified", "broadcast", "mined");
        MerklePath.FromHex(seen.GetProperty("merklePath").GetString()!).BlockHeight.Should().BeGreaterThan(0);
        seen.GetProperty("payments").GetProperty("count").GetString().Should().Be("1");
        seen.GetProperty("payments").GetProperty("satoshis").GetString().Should().Be("300");
        seen.GetProperty("payments").GetProperty("routes").EnumerateArray().Select(r => r.GetString()).Should().Equal("/v1/baskets/{basket}/outputs 1 300");
        (int code, string text, string error) = await CliAsync("status", "--server", server.Url);
        code.Should().Be(ExitCodes.Valid, error);
        text.Should().Contain("payments: 1 since start, 300 satoshis");
        seen.GetProperty("phoneOverflow").GetInt32().Should().BeLessThanOrEqualTo(0, "at phone width the page does not scroll sideways");
        seen.GetProperty("offsite").EnumerateArray().Should().BeEmpty("the page loads nothing from outside the server");
        seen.GetProperty("consoleErrors").EnumerateArray().Should().BeEmpty();
        foreach (JsonElement screenshot in seen.GetProperty("screenshots").EnumerateArray())
        {
            new FileInfo(screenshot.GetString()!).Length.Should().BeGreaterThan(1000);
        }
    }

    [Fact]
    public async Task Atomic_status_prints_the_servers_status_as_tables_and_with_json_as_its_json()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        string txid = await PipelineTests.RunAsync(server);

        (int code, string text, string error) = await CliAsync("status", "--server", server.Url);
        output.WriteLine(text);
        code.Should().Be(ExitCodes.Valid, error);
        text.Should().Contain($"atomic status of {server.Url}/").And.Contain("per second").And.Contain("accepted").And.Contain("submit→broadcast p50")
            .And.Contain("alerts").And.Contain("sessions: 0 running").And.Contain(txid).And.Contain("mined").And.Contain("beef.submitted");
        // "alerts: none firing", or their table: the alerts read this process's meters, which the servers of the tests
        // running beside this one share, so a rejection of theirs can make one pending here. None fires: the exit code
        // above is 0, and it is 1 when one does.

        (code, text, error) = await CliAsync("status", "--server", server.Url, "--json");
        code.Should().Be(ExitCodes.Valid, error);
        JsonDocument.Parse(text).RootElement.GetProperty("recent").EnumerateArray().Should().Contain(t => t.GetProperty("txid").GetString() == txid);
    }

    [Fact]
    public async Task Atomic_status_exits_1_when_an_alert_fires_and_2_when_the_server_cannot_be_reached()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Atomic:Operations:AlertForSeconds"] = "0",
            ["Atomic:Operations:Alerts:ProcessingSeconds"] = "0",
        });
        await PipelineTests.RunAsync(server);

        (int code, string text, _) = await CliAsync("status", "--server", server.Url);
        code.Should().Be(ExitCodes.Invalid);
        text.Should().Contain(AlertRules.ProcessingSlow).And.Contain("firing");

        (code, _, string error) = await CliAsync("status", "--server", $"http://127.0.0.1:{ServerHost.FreePort()}", "--timeout", "5");
        code.Should().Be(ExitCodes.UsageOrIo);
        error.Should().StartWith("atomic: cannot reach http://127.0.0.1:");
    }

    private static async Task<(int Code, string Out, string Error)> CliAsync(params string[] args)
    {
        using var input = new MemoryStream();
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await AtomicCli.RunAsync(args, new CliConsole(input, output, error), CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
