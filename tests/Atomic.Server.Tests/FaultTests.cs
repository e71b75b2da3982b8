using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Atomic.Server.Tests;

/// <summary>
/// The built server as a real process, its dependencies failing under it (issue #18, "Protection and faults"): ARC
/// answering 503, never answering and answering slowly (a <see cref="FaultProxy"/> between the broadcaster and the
/// dev chain's ARC API), the chain tracker down (the same proxy before the dev chain's Block Headers Service API) and
/// PostgreSQL restarted mid-load. Nothing acknowledged is lost; everything reaches its final state once the fault ends.
/// </summary>
public sealed partial class FaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly ITestOutputHelper _output = output;

    /// <summary>Generous: two busy cores shared with other test runs.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    private string _directory = ServerHost.CopyComponents();
    private readonly int _port = ServerHost.FreePort();
    private readonly List<Process> _started = [];

    public void Dispose()
    {
        StopServers();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // a PostgreSQL run's folder, already deleted with its tables
        }
    }

    private string Url => $"http://127.0.0.1:{_port}";

    [Fact]
    public async Task Arc_refusing_hanging_and_slow_loses_nothing_and_each_transaction_is_broadcast_once_and_mined_after_it_recovers()
    {
        await using FaultProxy arc = await FaultProxy.StartAsync(Url + "/arc");
        using HttpClient http = Client();
        await StartAsync(
            http,
            "--Atomic:Broadcaster:Endpoints:0:Url", arc.Url,
            "--Atomic:Broadcaster:Timeout", "00:00:03",
            "--Atomic:Broadcaster:RetryDelay", "00:00:00.050",
            "--Atomic:Broadcaster:BreakerMinimumCalls", "5",
            "--Atomic:Broadcaster:BreakerBreakDuration", "00:00:02",
            // Without the breaker's Wait, a transaction would fail BROADCAST_UNREACHABLE after 4 deliveries (a few seconds).
            "--Atomic:Broadcaster:DeliveryAttempts", "4");
        PrivateKey key = PrivateKey.Random();
        var funded = new List<(Beef Funding, Transaction Parent, uint Vout)>();
        for (int i = 0; i < 6; i++)
        {
            funded.Add(await PipelineTests.FundAsync(http, key)); // the faucet, straight to the dev chain
        }

        // 503: every submission is still acknowledged; the breaker opens, and opens again after a failed probe.
        arc.Mode = FaultMode.Unavailable;
        var txids = new List<string>();
        foreach ((Beef funding, Transaction parent, uint vout) in funded.Take(3))
        {
            txids.Add(await PipelineTests.SubmitAsync(http, funding, PipelineTests.Spend(funding, parent, vout, key)));
        }

        await EventuallyAsync(async () => await CircuitAsync(http, "open") >= 2, "the breaker opened, probed and opened again");
        arc.Refused.Should().BeGreaterThan(0);
        await AllAsync(http, txids, "verified");

        // No answer at all: each call times out, the breaker stays open between probes.
        arc.Mode = FaultMode.Hang;
        foreach ((Beef funding, Transaction parent, uint vout) in funded.Skip(3))
        {
            txids.Add(await PipelineTests.SubmitAsync(http, funding, PipelineTests.Spend(funding, parent, vout, key)));
        }

        long opened = await CircuitAsync(http, "open");
        await EventuallyAsync(async () => arc.Hung > 0 && await CircuitAsync(http, "open") > opened, "a hanging probe timed out and the breaker opened again");
        await AllAsync(http, txids, "verified");
        (await CircuitAsync(http, "closed")).Should().Be(0, "ARC has not answered yet");

        // Slow but answering: the probe passes, the breaker closes and every waiting transaction goes out.
        arc.Mode = FaultMode.Slow;
        JsonElement[] broadcast = await Task.WhenAll(txids.Select(txid => WaitForAsync(http, txid, "broadcast")));
        await EventuallyAsync(async () => await CircuitAsync(http, "closed") >= 1, "the breaker closed");
        arc.Mode = FaultMode.Pass;

        (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement[] mined = await Task.WhenAll(txids.Select(txid => WaitForAsync(http, txid, "mined")));

        broadcast.Should().HaveCount(6);
        foreach (JsonElement record in mined)
        {
            string[] steps = record.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("status").GetString()!).ToArray();
            steps.Should().Equal(["received", "verified", "broadcast", "mined"], "each transaction was broadcast once and nothing failed");
            record.GetProperty("merklePath").GetString().Should().NotBeNullOrEmpty();
        }

        arc.Accepted.Keys.Should().BeEquivalentTo(txids, "ARC accepted each transaction, none other");
    }

    [Fact]
    public async Task A_beef_whose_roots_cannot_be_checked_while_the_chain_tracker_is_down_waits_and_is_verified_when_it_is_back()
    {
        await using FaultProxy headers = await FaultProxy.StartAsync(Url + "/arc", FaultMode.Unavailable);
        using HttpClient http = Client();
        await StartAsync(
            http,
            "--Atomic:ChainTracker:Kind", "bhs",
            "--Atomic:ChainTracker:Url", headers.Url,
            "--Atomic:ChainTracker:Timeout", "00:00:03");
        PrivateKey key = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(http, key);

        string txid = await PipelineTests.SubmitAsync(http, funding, PipelineTests.Spend(funding, parent, vout, key));

        // More failed checks than the verifier's attempt limit (5), first refused, then never answered.
        await EventuallyAsync(() => Task.FromResult(headers.Refused >= 6), "the verifier asked the tracker six times");
        headers.Mode = FaultMode.Hang;
        await EventuallyAsync(() => Task.FromResult(headers.Hung >= 2), "the verifier's tracker calls timed out twice");
        (await StatusAsync(http, txid)).Should().Be("received", "a root that cannot be checked is neither verified nor rejected");

        headers.Mode = FaultMode.Pass;
        await WaitForAsync(http, txid, "broadcast");
        (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement mined = await WaitForAsync(http, txid, "mined");
        mined.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("status").GetString()).Should()
            .Equal(["received", "verified", "broadcast", "mined"]);
    }

    /// <summary>Kills the servers this test started (SIGKILL: what they hold is the stores' business).</summary>
    private void StopServers()
    {
        foreach (Process process in _started)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }

            process.Dispose();
        }

        _started.Clear();
    }

    private static HttpClient Client() => new() { Timeout = TimeSpan.FromSeconds(60) };

    private async Task StartAsync(HttpClient http, params string[] extraArgs)
    {
        http.BaseAddress ??= new Uri(Url);
        _started.Add(await ServerProcess.StartAsync(_directory, Url, http, Patience, extraArgs));
    }

    /// <summary>How often the ARC circuit breaker has moved to <paramref name="state"/>, from <c>/metrics</c>.</summary>
    private static async Task<long> CircuitAsync(HttpClient http, string state)
    {
        string text = await http.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith("atomic_arc_circuit_total{", StringComparison.Ordinal) && l.Contains($"state=\"{state}\"", StringComparison.Ordinal))
            .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    private static async Task<string?> StatusAsync(HttpClient http, string txid) =>
        (await http.GetFromJsonAsync<JsonElement>($"/v1/tx/{txid}")).GetProperty("status").GetString();

    /// <summary>Each of <paramref name="txids"/> is (or, on a busy machine, soon is) at <paramref name="status"/>, none failed.</summary>
    private static async Task AllAsync(HttpClient http, IEnumerable<string> txids, string status)
    {
        foreach (string txid in txids)
        {
            await WaitForAsync(http, txid, status);
        }
    }

    /// <summary>Polls <c>GET /v1/tx/{txid}</c> until <paramref name="status"/>; a failed or rejected record ends the wait.</summary>
    private static async Task<JsonElement> WaitForAsync(HttpClient http, string txid, string status)
    {
        JsonElement last = default;
        await EventuallyAsync(async () =>
        {
            last = await http.GetFromJsonAsync<JsonElement>($"/v1/tx/{txid}");
            string? now = last.GetProperty("status").GetString();
            new[] { "rejected", "failed" }.Except([status]).Should().NotContain(now, $"waiting for {status}: {last}");
            return now == status;
        }, $"{txid} reaches {status}");
        return last;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, for up to <see cref="Patience"/>.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        if (!await Polling.UntilAsync(condition, held => held, Patience, TimeSpan.FromMilliseconds(100)))
        {
            throw new TimeoutException($"not within {Patience}: {what}");
        }
    }
}
