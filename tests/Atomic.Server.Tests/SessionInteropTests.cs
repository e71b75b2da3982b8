using System.Globalization;
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
using Atomic.DevChain.Tests.Interop;
using Atomic.Overlay.Tokens;
using Atomic.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

/// <summary>
/// A swap between two languages on the all-in-one server: the seller in C#, the buyer a Node.js party written only with
/// <c>@bsv/sdk</c> 2.1.0 (tests/interop/session-party.mjs; needs Node.js and tests/interop's <c>npm ci</c>, as ./test.sh
/// provides) that contributes, checks the unsigned transaction and signs its input on its own.
/// </summary>
public sealed class SessionInteropTests
{
    private const uint AllForkId = SigHashType.All | SigHashType.ForkId;
    private const ulong Price = 10_000;

    [Fact]
    public async Task A_buyer_written_with_the_bsv_sdk_in_Node_swaps_with_a_seller_in_CSharp_and_the_transaction_is_mined()
    {
        await using ServerHost server = await ServerHost.StartAsync(
            settings: new Dictionary<string, string?> { ["Atomic:Sessions:FeeSatoshisPerKilobyte"] = "50" });
        HttpClient http = server.Client;
        PrivateKey seller = PrivateKey.Random();
        PrivateKey buyer = PrivateKey.Random();
        (Transaction mint, byte[] mintBeef) = await MintAsync(http, seller);
        string assetId = TokenTopicManager.AssetIdOf(new OutPoint(mint.Id, 0));
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(http, buyer);
        string id = await CreateAsync(http, seller, buyer, assetId);

        // The buyer runs on its own from here: contributes, waits for signing, checks and signs.
        Task<string> node = NodeRunner.RunAsync("session-party.mjs", TimeSpan.FromMinutes(2),
            "--server", server.Url, "--session", id, "--party", "buyer", "--key", buyer.ToHex(),
            "--funding", Hex.Encode(funding.ToAtomicBytes(parent.Id)), "--vout", vout.ToString(CultureInfo.InvariantCulture),
            "--pay-to", P2pkhOf(seller).ToHex(), "--price", Price.ToString(CultureInfo.InvariantCulture));

        object contribution = SellerContribution(seller, buyer, assetId, mintBeef);
        using (HttpResponseMessage contributed = await PartyPostAsync(http, $"/v1/sessions/{id}/contributions", seller, contribution))
        {
            contributed.StatusCode.Should().Be(HttpStatusCode.Accepted, await contributed.Content.ReadAsStringAsync());
        }

        JsonElement signing = await WaitForSessionAsync(http, id, node, "signing");
        object signatures = SellerSignatures(seller, signing);
        using (HttpResponseMessage signed = await PartyPostAsync(http, $"/v1/sessions/{id}/signatures", seller, signatures))
        {
            signed.StatusCode.Should().Be(HttpStatusCode.Accepted, await signed.Content.ReadAsStringAsync());
        }

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
        mined.Outputs[2].Should().Be(new TxOutput(Price, P2pkhOf(seller)), "the price, to the seller");
        mined.Outputs.Should().ContainSingle(o => o.LockingScript.Equals(P2pkhOf(buyer)))
            .Which.Satoshis.Should().Be(party.GetProperty("change").GetUInt64(), "the buyer's change is what its own check expected");
        ulong brought = mint.Outputs[0].Satoshis + mint.Outputs[1].Satoshis + parent.Outputs[(int)vout].Satoshis;
        (brought - mined.Outputs.Aggregate(0UL, (sum, o) => sum + o.Satoshis)).Should().Be(completed.GetProperty("fee").GetUInt64());
    }

    private static Script P2pkhOf(PrivateKey key) => Script.PayToPublicKeyHash(key.PublicKey.ToHash160());

    /// <summary>The seller mints 1,000 units of an asset, admitted to tm_tokens and mined: its Atomic BEEF, proven.</summary>
    private static async Task<(Transaction Mint, byte[] Beef)> MintAsync(HttpClient http, PrivateKey seller)
    {
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(http, seller);
        TxOutput source = parent.Outputs[(int)vout];
        var unsigned = new Transaction(1, [new TxInput(new OutPoint(parent.Id, vout), Script.Empty)],
            [
                new TxOutput(1, TokenTopicManager.Lock(seller.PublicKey, TokenTopicManager.Issue, 1000)),
                new TxOutput(source.Satoshis - 1_001, P2pkhOf(seller)),
            ], 0);
        Transaction mint = P2pkh.Sign(unsigned, [source], seller);
        var beef = new Beef(BeefVersion.V2, funding.Bumps, [.. funding.Transactions, BeefTx.FromTransaction(mint)]);
        using var content = new ByteArrayContent(beef.ToAtomicBytes(mint.Id));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("X-Topics", "[\"tm_tokens\"]");
        (await http.PostAsync("/v1/beef?wait=broadcast", content)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await PipelineTests.WaitForAsync(http, mint.Id.ToDisplayHex(), "mined");
        byte[] proven = await http.GetByteArrayAsync($"/v1/tx/{mint.Id.ToDisplayHex()}/beef");
        return (mint, Beef.FromBytes(proven).ToAtomicBytes(mint.Id));
    }

    private static async Task<string> CreateAsync(HttpClient http, PrivateKey seller, PrivateKey buyer, string assetId)
    {
        using HttpResponseMessage created = await http.PostAsJsonAsync("/v1/sessions", new
        {
            template = "swap",
            parties = new[]
            {
                new { id = "seller", identityKey = seller.PublicKey.ToHex() },
                new { id = "buyer", identityKey = buyer.PublicKey.ToHex() },
            },
            terms = new { seller = "seller", buyer = "buyer", assetId, amount = 600, price = Price },
            deadlineSeconds = 120,
        });
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionId").GetString()!;
    }

    /// <summary>The seller's part: the token coin and its satoshi coin in; 600 units to the buyer, 400 back.</summary>
    private static object SellerContribution(PrivateKey seller, PrivateKey buyer, string assetId, byte[] mintBeef) => new
    {
        party = "seller",
        inputs = new[] { new { beef = Hex.Encode(mintBeef), outputIndex = 0L }, new { beef = Hex.Encode(mintBeef), outputIndex = 1L } },
        outputs = new[]
        {
            new { lockingScript = TokenTopicManager.Lock(buyer.PublicKey, assetId, 600).ToHex(), satoshis = 1UL },
            new { lockingScript = TokenTopicManager.Lock(seller.PublicKey, assetId, 400).ToHex(), satoshis = 1UL },
        },
        change = P2pkhOf(seller).ToHex(),
    };

    /// <summary>The seller's inputs of the unsigned transaction, signed SIGHASH_ALL|FORKID (a token takes the signature alone).</summary>
    private static object SellerSignatures(PrivateKey seller, JsonElement signing)
    {
        Transaction unsigned = Transaction.FromHex(signing.GetProperty("unsignedTx").GetString()!);
        var scripts = new List<object>();
        Span<byte> digest = stackalloc byte[32];
        foreach (JsonElement input in signing.GetProperty("inputs").EnumerateArray())
        {
            if (input.GetProperty("party").GetString() != "seller")
            {
                continue;
            }

            int index = input.GetProperty("index").GetInt32();
            var locking = Script.FromHex(input.GetProperty("sourceLockingScript").GetString()!);
            SigHash.ComputeForkId(unsigned, index, locking.Span, input.GetProperty("sourceSatoshis").GetUInt64(), AllForkId, null, digest);
            var writer = new BsvWriter(110);
            Script.WritePushData(writer, [.. seller.Sign(digest), (byte)AllForkId]);
            if (TokenTopicManager.Read(locking, default) is null)
            {
                Script.WritePushData(writer, seller.PublicKey.ToBytes());
            }

            scripts.Add(new { index, unlockingScript = Hex.Encode(writer.ToArray()) });
        }

        return new { party = "seller", inputs = scripts };
    }

    private static async Task<HttpResponseMessage> PartyPostAsync(HttpClient http, string route, PrivateKey signer, object body)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(body);
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = content };
        request.Headers.Add("X-Party-Signature", SessionSigning.SignRequest(signer, json));
        return await http.SendAsync(request);
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
