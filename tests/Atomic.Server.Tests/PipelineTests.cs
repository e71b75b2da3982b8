using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;
using Atomic.Services.Pipeline;
using TxRecord = Atomic.Services.Pipeline.TxRecord;
using TxStatus = Atomic.Services.Pipeline.TxStatus;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>
/// The whole way of a transaction through the all-in-one server, over HTTP only: funded by the dev chain's faucet,
/// spent and signed here, submitted as Atomic BEEF, verified, broadcast to the server's own /arc, mined, and proven
/// back by the dev chain's callback.
/// </summary>
public sealed class PipelineTests
{
    [Fact]
    public async Task A_signed_spend_of_a_faucet_payment_goes_from_received_to_mined_with_a_merkle_path_on_sqlite()
    {
        await using ServerHost server = await ServerHost.StartAsync();
        await RunAsync(server);
        BeefHandOff handOff = server.Services.GetRequiredService<BeefHandOff>();
        handOff.Taken.Should().BeGreaterThanOrEqualTo(1, "the verifier took the spend's BEEF from the intake instead of reading it back");
        handOff.Count.Should().Be(0, "each BEEF handed over was taken");
        File.Exists(Path.Combine(server.Directory, "data", "state.db")).Should().BeTrue("the components' relative paths resolve under the data folder");
        File.Exists(Path.Combine(server.Directory, "data", "devchain.sqlite")).Should().BeTrue();
    }

    [Fact]
    public async Task Mined_arrives_by_the_dev_chains_callback_when_the_poller_would_be_too_late()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?> { ["Atomic:Broadcaster:PollInterval"] = "01:00:00" });
        await RunAsync(server);
    }

    [Fact]
    public async Task Mined_arrives_by_polling_when_callbacks_are_off()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?> { ["Atomic:Broadcaster:CallbackUrl"] = string.Empty });
        await RunAsync(server);
        server.Services.GetRequiredService<Atomic.Services.Broadcaster.BroadcasterOptions>().CallbackUrl.Should().BeEmpty("ARC was asked for no callbacks");
    }

    [Fact]
    public async Task A_composite_chain_tracker_of_block_headers_services_verifies_through_the_servers_own_headers_routes()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Atomic:ChainTracker:Kind"] = "composite",
            ["Atomic:ChainTracker:Quorum"] = "2",
            ["Atomic:ChainTracker:Trackers:0:Kind"] = "bhs",
            ["Atomic:ChainTracker:Trackers:0:Url"] = "{url}/arc",
            ["Atomic:ChainTracker:Trackers:1:Kind"] = "bhs",
            ["Atomic:ChainTracker:Trackers:1:Url"] = "{url}/arc/",
        });
        Hosting.ChainTrackers.Describe(server.Services.GetRequiredService<Hosting.ServerSettings>().ChainTracker)
            .Should().StartWith($"composite, 2 of [Block Headers Service at {server.Url}/arc; Block Headers Service at {server.Url}/arc/]");
        await RunAsync(server);
    }

    [PostgresFact]
    public async Task The_same_transaction_goes_the_same_way_when_the_components_are_the_postgresql_variants()
    {
        await using var postgres = new PostgresComponents();
        await using (ServerHost server = await ServerHost.StartAsync(directory: postgres.Directory))
        {
            await RunAsync(server);
            File.Exists(Path.Combine(postgres.Directory, "data", "state.db")).Should().BeFalse("every component is on PostgreSQL");
        }

        (await postgres.RecordsAsync()).Should().Be(1, "the record lives in PostgreSQL");
    }

    /// <summary>Faucet → spend → POST /v1/beef → verified → broadcast → POST /arc/v1/mine → mined, checked at each step.</summary>
    internal static async Task<string> RunAsync(ServerHost server)
    {
        HttpClient http = server.Client;
        PrivateKey key = PrivateKey.Random();
        (Beef funding, Transaction parent, uint vout) = await FundAsync(http, key);
        Transaction spend = Spend(funding, parent, vout, key);
        string txid = await SubmitAsync(http, funding, spend);

        JsonElement broadcast = await WaitForAsync(http, txid, "broadcast");
        broadcast.GetProperty("merklePath").ValueKind.Should().Be(JsonValueKind.Null);
        LocalChain chain = server.Services.GetRequiredService<LocalChain>();
        chain.GetTransaction(spend.Id).Should().NotBeNull("the broadcaster gave it to the dev chain");

        using HttpResponseMessage mine = await http.PostAsync("/arc/v1/mine", null);
        mine.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement block = (await mine.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("blocks")[0];
        block.GetProperty("txids").EnumerateArray().Select(t => t.GetString()).Should().Contain(txid);

        JsonElement mined = await WaitForAsync(http, txid, "mined");
        MerklePath path = MerklePath.FromHex(mined.GetProperty("merklePath").GetString()!);
        path.ComputeRoot(spend.Id).ToDisplayHex().Should().Be(block.GetProperty("merkleRoot").GetString());
        path.BlockHeight.Should().Be(block.GetProperty("height").GetUInt32());

        TxRecords records = server.Services.GetRequiredService<TxRecords>();
        TxRecord record = (await records.GetAsync(txid))?.Record ?? throw new InvalidOperationException($"no record of {txid}");
        record.History.Select(h => h.Status).Should().Equal(TxStatus.Received, TxStatus.Verified, TxStatus.Broadcast, TxStatus.Mined);
        record.Beef.Should().BeNull("the BEEF is kept apart from the record");
        Beef proven = Beef.FromBytes((await records.GetBeefAsync(txid))!.Value.Beef);
        proven.Find(spend.Id)!.IsProven.Should().BeTrue("the stored BEEF was upgraded with the merkle path");
        proven.AtomicTxId.Should().Be(spend.Id);
        proven.Transactions.Should().ContainSingle("proven, it needs no ancestors");
        proven.IsValid().Should().BeTrue("the BEEF served once mined passes our own strict check");
        return txid;
    }

    /// <summary>Asks the dev chain's faucet to pay 50,000 satoshis to <paramref name="key"/>'s P2PKH script.</summary>
    internal static async Task<(Beef Funding, Transaction Parent, uint Vout)> FundAsync(HttpClient http, PrivateKey key, string prefix = "/arc")
    {
        Script locking = Script.PayToPublicKeyHash(key.PublicKey.ToHash160());
        using HttpResponseMessage funded = await http.PostAsJsonAsync(prefix + "/v1/faucet", new { lockingScript = locking.ToHex(), satoshis = 50_000 });
        funded.StatusCode.Should().Be(HttpStatusCode.OK, await funded.Content.ReadAsStringAsync());
        JsonElement faucet = await funded.Content.ReadFromJsonAsync<JsonElement>();
        Beef funding = Beef.FromHex(faucet.GetProperty("beef").GetString()!);
        Transaction parent = funding.Find(Hash256.FromDisplayHex(faucet.GetProperty("txid").GetString()!))!.Transaction!;
        return (funding, parent, faucet.GetProperty("vout").GetUInt32());
    }

    /// <summary>Spends the funded output back to <paramref name="signer"/>'s script, signed by it, paying 1,000 satoshis of fee.</summary>
    internal static Transaction Spend(Beef funding, Transaction parent, uint vout, PrivateKey signer)
    {
        _ = funding;
        Script locking = Script.PayToPublicKeyHash(signer.PublicKey.ToHash160());
        var unsigned = new Transaction(1, [new TxInput(new OutPoint(parent.Id, vout), Script.Empty)], [new TxOutput(parent.Outputs[(int)vout].Satoshis - 1_000, locking)], 0);
        return P2pkh.Sign(unsigned, [parent.Outputs[(int)vout]], signer);
    }

    /// <summary>Posts the Atomic BEEF of <paramref name="spend"/> with its funding ancestry; answers its txid once accepted (202).</summary>
    internal static async Task<string> SubmitAsync(HttpClient http, Beef funding, Transaction spend)
    {
        var beef = new Beef(BeefVersion.V2, funding.Bumps, [.. funding.Transactions, BeefTx.FromTransaction(spend)]);
        using var content = new ByteArrayContent(beef.ToAtomicBytes(spend.Id));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using HttpResponseMessage submitted = await http.PostAsync("/v1/beef", content);
        submitted.StatusCode.Should().Be(HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());
        string txid = spend.Id.ToDisplayHex();
        (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("txid").GetString().Should().Be(txid);
        return txid;
    }

    /// <summary>Polls <c>GET /v1/tx/{txid}</c> until <paramref name="status"/> (a failure status ends the wait with its error).</summary>
    internal static async Task<JsonElement> WaitForAsync(HttpClient http, string txid, string status)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        JsonElement last = default;
        try
        {
            while (true)
            {
                using HttpResponseMessage response = await http.GetAsync($"/v1/tx/{txid}", deadline.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    last = await response.Content.ReadFromJsonAsync<JsonElement>(deadline.Token);
                    string? now = last.GetProperty("status").GetString();
                    if (now == status)
                    {
                        return last;
                    }

                    new[] { "rejected", "failed" }.Except([status]).Should().NotContain(now, $"waiting for {status}: {last}");
                }

                await Task.Delay(50, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"{txid} did not reach {status} within 60 s; last seen {last}");
        }
    }
}
