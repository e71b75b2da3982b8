using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Atomic.Server.Tests;

/// <summary>
/// Chains of unconfirmed transactions, each sent as its own BEEF to a freshly started server process: none may fail for
/// the order in which the pipeline's stages happen to run (issue: a child broadcast before its parent reached ARC).
/// </summary>
public sealed partial class ProcessTests
{
    [Fact]
    public async Task A_parent_and_fifty_children_submitted_at_once_to_a_cold_server_all_reach_broadcast_and_then_mined()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        using Process server = await StartAsync(http);
        try
        {
            PrivateKey key = PrivateKey.Random();
            (Beef funding, Transaction funded, uint vout) = await PipelineTests.FundAsync(http, key);
            Transaction parent = Pay(key, funded, vout, parts: 50, fee: 1_000);
            Transaction[] children = Enumerable.Range(0, 50).Select(i => Pay(key, parent, (uint)i, parts: 1, fee: 100)).ToArray();

            Task<string> parentSubmitted = SubmitChainAsync(http, funding, [parent]);
            string[] txids = await Task.WhenAll(children.Select(child => SubmitChainAsync(http, funding, [parent, child])).Prepend(parentSubmitted));

            await Task.WhenAll(txids.Select(txid => PipelineTests.WaitForAsync(http, txid, "broadcast")));
            (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            JsonElement[] mined = await Task.WhenAll(txids.Select(txid => PipelineTests.WaitForAsync(http, txid, "mined")));
            mined.Should().OnlyContain(m => m.GetProperty("merklePath").GetString()!.Length > 0);
        }
        finally
        {
            await StopAsync(server);
        }
    }

    [Fact]
    public async Task Twenty_five_unconfirmed_generations_submitted_youngest_first_all_reach_mined()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        using Process server = await StartAsync(http);
        try
        {
            PrivateKey key = PrivateKey.Random();
            (Beef funding, Transaction funded, uint vout) = await PipelineTests.FundAsync(http, key);
            var generations = new List<Transaction> { Pay(key, funded, vout, parts: 1, fee: 100) };
            while (generations.Count < 25)
            {
                generations.Add(Pay(key, generations[^1], 0, parts: 1, fee: 100));
            }

            var txids = new List<string>();
            for (int i = generations.Count; i >= 1; i--)
            {
                txids.Add(await SubmitChainAsync(http, funding, generations.Take(i).ToList()));
            }

            await Task.WhenAll(txids.Select(txid => PipelineTests.WaitForAsync(http, txid, "broadcast")));
            (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            await Task.WhenAll(txids.Select(txid => PipelineTests.WaitForAsync(http, txid, "mined")));
        }
        finally
        {
            await StopAsync(server);
        }
    }

    [Fact]
    public async Task A_child_whose_parent_never_reaches_arc_ends_failed_broadcast_orphaned_after_the_retry_budget()
    {
        // An ARC that holds everything as an orphan: the parent never arrives there, as when it was never submitted.
        await using WebApplication arc = await OrphanArcAsync();
        string arcUrl = arc.Urls.Single();
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        using Process server = await StartAsync(
            http,
            "--Atomic:Broadcaster:Endpoints:0:Url", arcUrl,
            "--Atomic:Broadcaster:DeliveryAttempts", "3",
            "--Atomic:Broadcaster:DeliveryInitialDelay", "00:00:00.100",
            "--Atomic:Broadcaster:DeliveryMaxDelay", "00:00:00.200");
        try
        {
            PrivateKey key = PrivateKey.Random();
            (Beef funding, Transaction funded, uint vout) = await PipelineTests.FundAsync(http, key);
            Transaction parent = Pay(key, funded, vout, parts: 1, fee: 100);
            Transaction child = Pay(key, parent, 0, parts: 1, fee: 100);

            string txid = await SubmitChainAsync(http, funding, [parent, child]);

            JsonElement failed = await PipelineTests.WaitForAsync(http, txid, "failed");
            failed.GetProperty("error").GetProperty("code").GetString().Should().Be(ReasonCodes.BroadcastOrphaned);
            failed.GetProperty("error").GetProperty("reason").GetString().Should().Contain("SEEN_IN_ORPHAN_MEMPOOL");
        }
        finally
        {
            await StopAsync(server);
        }
    }

    [Fact]
    public async Task A_child_whose_parent_the_network_refuses_as_a_double_spend_fails_at_once_naming_the_parent()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        using Process server = await StartAsync(http);
        try
        {
            PrivateKey key = PrivateKey.Random();
            (Beef funding, Transaction funded, uint vout) = await PipelineTests.FundAsync(http, key);
            Transaction first = Pay(key, funded, vout, parts: 1, fee: 100);
            Transaction rival = Pay(key, funded, vout, parts: 1, fee: 200);
            Transaction child = Pay(key, rival, 0, parts: 1, fee: 100);
            await PipelineTests.WaitForAsync(http, await SubmitChainAsync(http, funding, [first]), "broadcast");

            string txid = await SubmitChainAsync(http, funding, [rival, child]);

            JsonElement failed = await PipelineTests.WaitForAsync(http, txid, "failed");
            failed.GetProperty("error").GetProperty("code").GetString().Should().Be(ReasonCodes.BroadcastRejected);
            failed.GetProperty("error").GetProperty("reason").GetString().Should().Contain(rival.Id.ToDisplayHex());
        }
        finally
        {
            await StopAsync(server);
        }
    }

    [Fact]
    public async Task The_all_in_one_server_serves_daprs_apis_over_its_own_components_on_the_ports_configured()
    {
        int httpPort = FreePort();
        int grpcPort = FreePort();
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        using Process server = await StartAsync(http, "--Atomic:Sidecar:HttpPort", httpPort.ToString(), "--Atomic:Sidecar:GrpcPort", grpcPort.ToString());
        try
        {
            using var sidecar = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
            (await sidecar.GetAsync("/v1.0/healthz")).StatusCode.Should().Be(HttpStatusCode.NoContent);
            JsonElement metadata = JsonDocument.Parse(await sidecar.GetStringAsync("/v1.0/metadata")).RootElement;
            metadata.GetProperty("id").GetString().Should().Be("atomic-server");
            metadata.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("name").GetString()).Should().Contain(["statestore", "txstore", "pubsub"]);

            using var content = new StringContent("[{\"key\":\"probe\",\"value\":{\"ok\":true}}]", System.Text.Encoding.UTF8, "application/json");
            (await sidecar.PostAsync("/v1.0/state/statestore", content)).StatusCode.Should().Be(HttpStatusCode.NoContent);
            (await sidecar.GetStringAsync("/v1.0/state/statestore/probe")).Should().Be("{\"ok\":true}");
        }
        finally
        {
            await StopAsync(server);
        }
    }

    /// <summary>Pays output <paramref name="vout"/> of <paramref name="parent"/> to <paramref name="key"/> in <paramref name="parts"/> outputs, less <paramref name="fee"/>.</summary>
    private static Transaction Pay(PrivateKey key, Transaction parent, uint vout, int parts, ulong fee)
    {
        ulong value = parent.Outputs[(int)vout].Satoshis - fee;
        ulong each = value / (ulong)parts;
        Script locking = Script.PayToPublicKeyHash(key.PublicKey.ToHash160());
        var outputs = Enumerable.Range(0, parts).Select(i => new TxOutput(i == 0 ? value - (each * (ulong)(parts - 1)) : each, locking));
        var unsigned = new Transaction(1, [new TxInput(new OutPoint(parent.Id, vout), Script.Empty)], outputs, 0);
        return P2pkh.Sign(unsigned, [parent.Outputs[(int)vout]], key);
    }

    /// <summary>Posts the Atomic BEEF of the last of <paramref name="unconfirmed"/>, carrying the others and the proven funding.</summary>
    private static async Task<string> SubmitChainAsync(HttpClient http, Beef funding, IReadOnlyList<Transaction> unconfirmed)
    {
        var beef = new Beef(BeefVersion.V2, funding.Bumps, [.. funding.Transactions, .. unconfirmed.Select(tx => BeefTx.FromTransaction(tx))]);
        using var content = new ByteArrayContent(beef.ToAtomicBytes(unconfirmed[^1].Id));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using HttpResponseMessage submitted = await http.PostAsync("/v1/beef", content);
        submitted.StatusCode.Should().Be(HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());
        return unconfirmed[^1].Id.ToDisplayHex();
    }

    /// <summary>A stand-in ARC on loopback that answers every submission and status call SEEN_IN_ORPHAN_MEMPOOL.</summary>
    private static async Task<WebApplication> OrphanArcAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        static IResult Orphan(string txid) => Results.Json(new { txid, txStatus = "SEEN_IN_ORPHAN_MEMPOOL", status = 200, extraInfo = "parent not seen" });
        app.MapPost("/v1/tx", async (HttpRequest request) =>
        {
            using JsonDocument body = await JsonDocument.ParseAsync(request.Body);
            return Orphan(ExtendedTransaction.FromHex(body.RootElement.GetProperty("rawTx").GetString()!).Transaction.Id.ToDisplayHex());
        });
        app.MapPost("/v1/txs", async (HttpRequest request) =>
        {
            using JsonDocument body = await JsonDocument.ParseAsync(request.Body);
            return Results.Json(body.RootElement.EnumerateArray()
                .Select(item => new { txid = ExtendedTransaction.FromHex(item.GetProperty("rawTx").GetString()!).Transaction.Id.ToDisplayHex(), txStatus = "SEEN_IN_ORPHAN_MEMPOOL", status = 200 })
                .ToList());
        });
        app.MapGet("/v1/tx/{txid}", (string txid) => Orphan(txid));
        await app.StartAsync();
        return app;
    }
}
