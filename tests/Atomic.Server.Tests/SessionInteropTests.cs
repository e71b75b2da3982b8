using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;
using Atomic.DevChain.Tests.Interop;
using Atomic.Overlay.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>
/// A swap between two languages on the all-in-one server: the seller in C#, the buyer a Node.js party written only with
/// <c>@bsv/sdk</c> 2.1.0 (tests/interop/session-party.mjs; needs Node.js and tests/interop's <c>npm ci</c>, as ./test.sh
/// provides) that contributes, checks the unsigned transaction and signs its input on its own.
/// </summary>
public sealed class SessionInteropTests
{
    private const ulong Price = 10_000;

    [Fact]
    public async Task A_buyer_written_with_the_bsv_sdk_in_Node_swaps_with_a_seller_in_CSharp_and_the_transaction_is_mined()
    {
        await using ServerHost server = await ServerHost.StartAsync(
            settings: new Dictionary<string, string?> { ["Atomic:Sessions:FeeSatoshisPerKilobyte"] = "50" });
        HttpClient http = server.Client;
        SessionTests.Swap swap = await SessionTests.PrepareAsync(http);
        (PrivateKey seller, PrivateKey buyer, Transaction mint) = (swap.Seller, swap.Buyer, swap.Mint);
        (Transaction parent, uint vout) = (swap.BuyerParent, swap.BuyerVout);
        string id = await SessionTests.CreateAsync(http, swap, deadlineSeconds: 120);

        // The buyer runs on its own from here: contributes, waits for signing, checks and signs.
        Task<string> node = NodeRunner.RunAsync("session-party.mjs", TimeSpan.FromMinutes(2),
            "--server", server.Url, "--session", id, "--party", "buyer", "--key", buyer.ToHex(),
            "--funding", Hex.Encode(swap.BuyerFunding.ToAtomicBytes(parent.Id)), "--vout", vout.ToString(CultureInfo.InvariantCulture),
            "--pay-to", SessionTests.P2pkhOf(seller).ToHex(), "--price", Price.ToString(CultureInfo.InvariantCulture));

        await SessionTests.ContributeAsync(http, id, seller, SessionTests.SellerContribution(swap));
        JsonElement signing = await WaitForSessionAsync(http, id, node, "signing");
        await SessionTests.SignAsync(http, id, seller, "seller", signing);

        JsonElement party = JsonDocument.Parse((await node).Trim().Split('\n')[^1]).RootElement;
        party.GetProperty("ok").GetBoolean().Should().BeTrue();

        JsonElement broadcasting = await WaitForSessionAsync(http, id, null, "broadcasting", "completed");
        string txid = broadcasting.GetProperty("txid").GetString()!;
        await PipelineTests.WaitForAsync(http, txid, "broadcast");
        (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement completed = await WaitForSessionAsync(http, id, null, "completed");
        completed.TryGetProperty("code", out _).Should().BeFalse();

        Hash256 minedId = Hash256.FromDisplayHex(txid);
        server.Services.GetRequiredService<LocalChain>().GetTransaction(minedId)!.Status.Should().Be(Atomic.DevChain.Chain.TxStatus.Mined);
        Transaction mined = Beef.FromBytes(await http.GetByteArrayAsync($"/v1/tx/{txid}/beef")).Find(minedId)!.Transaction!;
        mined.Inputs.Select(i => i.PrevOut).Should().Equal(
            new OutPoint(mint.Id, 0), new OutPoint(mint.Id, 1), new OutPoint(parent.Id, vout));
        party.GetProperty("input").GetInt32().Should().Be(2, "the buyer's coin comes after the seller's two");
        TokenTopicManager.Read(mined.Outputs[0].LockingScript, default)!
            .Should().Match<Token>(t => t.Amount == 600 && t.Owner.Equals(buyer.PublicKey));
        mined.Outputs[2].Should().Be(new TxOutput(Price, SessionTests.P2pkhOf(seller)), "the price, to the seller");
        mined.Outputs.Should().ContainSingle(o => o.LockingScript.Equals(SessionTests.P2pkhOf(buyer)))
            .Which.Satoshis.Should().Be(party.GetProperty("change").GetUInt64(), "the buyer's change is what its own check expected");
        ulong brought = mint.Outputs[0].Satoshis + mint.Outputs[1].Satoshis + parent.Outputs[(int)vout].Satoshis;
        (brought - mined.Outputs.Aggregate(0UL, (sum, o) => sum + o.Satoshis)).Should().Be(completed.GetProperty("fee").GetUInt64());
    }

    /// <summary>
    /// Polls the session until one of <paramref name="statuses"/>; a Node party that fails meanwhile fails the wait with its error.
    /// </summary>
    private static async Task<JsonElement> WaitForSessionAsync(HttpClient http, string id, Task? party, params string[] statuses)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        JsonElement last = default;
        while (!deadline.IsCancellationRequested)
        {
            if (party is { IsFaulted: true })
            {
                await party;
            }

            last = await http.GetFromJsonAsync<JsonElement>($"/v1/sessions/{id}");
            string? now = last.GetProperty("status").GetString();
            if (statuses.Contains(now))
            {
                return last;
            }

            now.Should().NotBe("aborted", $"waiting for {string.Join("/", statuses)}: {last}");
            await Task.Delay(100);
        }

        throw new TimeoutException($"session {id} did not reach {string.Join("/", statuses)}; last seen {last}");
    }
}
