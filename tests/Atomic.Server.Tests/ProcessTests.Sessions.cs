using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Atomic.Bsv.Transactions;

namespace Atomic.Server.Tests;

/// <summary>Multi-party sessions through SIGKILLs of the real server process at each of their workflows' steps.</summary>
public sealed partial class ProcessTests
{
    [Fact]
    public async Task A_swap_killed_at_each_step_of_its_workflow_completes_exactly_once_after_each_restart()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        Process server = await StartAsync(http); // no fee rate set: the dev chain's policy gives it
        try
        {
            SessionTests.Swap swap = await SessionTests.PrepareAsync(http);
            string id = await SessionTests.CreateAsync(http, swap, deadlineSeconds: 600);
            server = await KillAndRestartAsync(server, http); // 1. created, nothing contributed

            await SessionTests.ContributeAsync(http, id, swap.Seller, SessionTests.SellerContribution(swap));
            server = await KillAndRestartAsync(server, http); // 2. one contribution in

            await SessionTests.ContributeAsync(http, id, swap.Buyer, SessionTests.BuyerContribution(swap));
            server = await KillAndRestartAsync(server, http); // 3. the last contribution: assembling, or assembled

            JsonElement signing = await SessionTests.WaitForSessionAsync(http, id, "signing");
            await SessionTests.SignAsync(http, id, swap.Seller, "seller", signing);
            await SessionTests.SignAsync(http, id, swap.Buyer, "buyer", signing);
            server = await KillAndRestartAsync(server, http); // 4. the last signature: finishing and submitting, or submitted

            JsonElement broadcasting = await SessionTests.WaitForSessionAsync(http, id, "broadcasting");
            string txid = broadcasting.GetProperty("txid").GetString()!;
            await PipelineTests.WaitForAsync(http, txid, "broadcast");
            server = await KillAndRestartAsync(server, http); // 5. broadcast, waiting to be mined

            (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            JsonElement completed = await SessionTests.WaitForSessionAsync(http, id, "completed");
            completed.GetProperty("txid").GetString().Should().Be(txid, "the transaction assembled once is the one that completed");
            completed.GetProperty("unsignedTx").GetString().Should().Be(signing.GetProperty("unsignedTx").GetString());

            JsonElement mined = await PipelineTests.WaitForAsync(http, txid, "mined");
            Transaction unsigned = Transaction.FromHex(signing.GetProperty("unsignedTx").GetString()!);
            unsigned.Id.ToDisplayHex().Should().NotBe(txid, "signing changes the txid; the mined one is the signed one");
            mined.GetProperty("status").GetString().Should().Be("mined");
        }
        finally
        {
            await StopAsync(server);
        }
    }

    [Fact]
    public async Task A_bridge_killed_at_each_step_claims_exactly_once_with_the_secret_after_each_restart()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        Process server = await StartAsync(http);
        try
        {
            BridgeSessionTests.Bridge bridge = await BridgeSessionTests.PrepareAsync(http);
            string id = await BridgeSessionTests.CreateAsync(http, bridge, deadlineSeconds: 600);
            await BridgeSessionTests.ContributeAsync(http, id, bridge);
            JsonElement signing = await SessionTests.WaitForSessionAsync(http, id, "signing");
            await SessionTests.SignAsync(http, id, bridge.Initiator, "initiator", signing);
            server = await KillAndRestartAsync(server, http); // 1. the funding signed: building the spends, or presigning

            JsonElement presigning = await SessionTests.WaitForSessionAsync(http, id, "presigning");
            await BridgeSessionTests.PresignAsync(http, id, bridge.Initiator, "initiator", presigning, claim: false);
            await BridgeSessionTests.PresignAsync(http, id, bridge.Counterparty, "counterparty", presigning, claim: true);
            server = await KillAndRestartAsync(server, http); // 2. every spend signed: the funding going, or gone

            JsonElement broadcasting = await SessionTests.WaitForSessionAsync(http, id, "broadcasting", "locked");
            string fundingTxid = broadcasting.GetProperty("txid").GetString()!;
            await PipelineTests.WaitForAsync(http, fundingTxid, "broadcast");
            (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            await SessionTests.WaitForSessionAsync(http, id, "locked");
            server = await KillAndRestartAsync(server, http); // 3. locked, waiting for the secret

            using (HttpResponseMessage revealed = await BridgeSessionTests.RevealAsync(http, id, bridge.Counterparty, "counterparty", bridge.Secret))
            {
                revealed.StatusCode.Should().Be(HttpStatusCode.Accepted);
            }

            server = await KillAndRestartAsync(server, http); // 4. the secret in and its event raised: claiming, or about to

            JsonElement claiming = await SessionTests.WaitForSessionAsync(http, id, "claiming");
            string claimTxid = claiming.GetProperty("bridge").GetProperty("claimTxid").GetString()!;
            await PipelineTests.WaitForAsync(http, claimTxid, "broadcast");
            (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            JsonElement completed = await SessionTests.WaitForSessionAsync(http, id, "completed");
            completed.GetProperty("txid").GetString().Should().Be(fundingTxid, "the funding signed once is the one broadcast");
            completed.GetProperty("bridge").GetProperty("claimTxid").GetString().Should().Be(claimTxid);
            (await PipelineTests.WaitForAsync(http, claimTxid, "mined")).GetProperty("status").GetString().Should().Be("mined");
            string refundTxid = Transaction.FromHex(presigning.GetProperty("bridge").GetProperty("refundTx").GetString()!).Id.ToDisplayHex();
            (await http.GetAsync($"/v1/tx/{refundTxid}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "only the claim went");
        }
        finally
        {
            await StopAsync(server);
        }
    }

    private async Task<Process> KillAndRestartAsync(Process server, HttpClient http)
    {
        server.Kill(); // SIGKILL: no shutdown code runs
        await server.WaitForExitAsync();

        // Disposed only once its successor runs: should the restart fail, the caller's finally still holds a process it
        // can stop (an exited one), and the restart's own error is the one reported.
        Process restarted = await StartAsync(http);
        server.Dispose();
        return restarted;
    }
}
