using System.Collections.Concurrent;
using System.Diagnostics;
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
using Atomic.Overlay.Tokens;
using Atomic.Sessions;

namespace Atomic.Pipeline.Benchmarks;

/// <summary>
/// Multi-party sessions completed per second (issue #15): <c>swap</c> sessions, <c>concurrent</c> at a time, each
/// played over HTTP by both parties as a client would (create, two contributions, two signatures, then waiting for
/// <c>completed</c>), while a miner mines a block every 250 ms. The parties' coins (a minted, mined tm_tokens asset
/// for each seller and a faucet payment for each buyer) are made before the clock starts.
/// </summary>
internal static class SessionLoad
{
    private const uint AllForkId = SigHashType.All | SigHashType.ForkId;

    private sealed record Party(string Id, PrivateKey Key, Script P2pkh);

    private sealed record Prepared(Party Seller, Party Buyer, string AssetId, byte[] MintBeef, byte[] BuyerBeef, uint BuyerVout, ulong BuyerSatoshis);

    public static async Task<string> RunAsync(HttpClient http, int concurrent, int count)
    {
        Prepared[] swaps = await PrepareAsync(http, count);
        using var mining = new CancellationTokenSource();
        Task miner = Task.Run(async () =>
        {
            while (!mining.IsCancellationRequested)
            {
                await Task.Delay(250, CancellationToken.None);
                using HttpResponseMessage _ = await http.PostAsync("/arc/v1/mine", null);
            }
        });

        var toBroadcast = new double[count];
        var toCompleted = new double[count];
        var failures = new ConcurrentQueue<string>();
        int next = -1;
        long begin = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrent).Select(_ => Task.Run(async () =>
        {
            for (int i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                try
                {
                    (toBroadcast[i], toCompleted[i]) = await PlayAsync(http, swaps[i]);
                }
                catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TimeoutException)
                {
                    failures.Enqueue(e.Message);
                }
            }
        })));
        TimeSpan elapsed = Stopwatch.GetElapsedTime(begin);
        await mining.CancelAsync();
        await miner;

        double[] broadcast = [.. toBroadcast.Where(l => l > 0).Order()];
        double[] completed = [.. toCompleted.Where(l => l > 0).Order()];
        static double At(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
        return $"swap sessions: {completed.Length} of {count} completed, {concurrent} at a time, in {elapsed.TotalSeconds:F1} s: "
            + $"{completed.Length / elapsed.TotalSeconds:F1} sessions/s; create → broadcasting p50 {At(broadcast, 0.5):F0} ms, p99 {At(broadcast, 0.99):F0} ms; "
            + $"create → completed (mined; a block every 250 ms) p50 {At(completed, 0.5):F0} ms, p99 {At(completed, 0.99):F0} ms"
            + (failures.IsEmpty ? string.Empty : $"; {failures.Count} failed, first: {failures.First()}");
    }

    /// <summary>One swap from creation to completed: the times to broadcasting and to completed, in ms.</summary>
    private static async Task<(double Broadcast, double Completed)> PlayAsync(HttpClient http, Prepared swap)
    {
        long start = Stopwatch.GetTimestamp();
        using HttpResponseMessage created = await http.PostAsJsonAsync("/v1/sessions", new
        {
            template = "swap",
            parties = new[] { new { id = "seller", identityKey = swap.Seller.Key.PublicKey.ToHex() }, new { id = "buyer", identityKey = swap.Buyer.Key.PublicKey.ToHex() } },
            terms = new { seller = "seller", buyer = "buyer", assetId = swap.AssetId, amount = 600, price = 10_000 },
            deadlineSeconds = 600,
        });
        string id = (await Ok(created)).GetProperty("sessionId").GetString()!;
        await PostAsync(http, $"/v1/sessions/{id}/contributions", swap.Seller, new
        {
            party = "seller",
            inputs = new[] { new { beef = Hex.Encode(swap.MintBeef), outputIndex = 0L }, new { beef = Hex.Encode(swap.MintBeef), outputIndex = 1L } },
            outputs = new[]
            {
                new { lockingScript = TokenTopicManager.Lock(swap.Buyer.Key.PublicKey, swap.AssetId, 600).ToHex(), satoshis = 1UL },
                new { lockingScript = TokenTopicManager.Lock(swap.Seller.Key.PublicKey, swap.AssetId, 400).ToHex(), satoshis = 1UL },
            },
            change = swap.Seller.P2pkh.ToHex(),
        });
        await PostAsync(http, $"/v1/sessions/{id}/contributions", swap.Buyer, new
        {
            party = "buyer",
            inputs = new[] { new { beef = Hex.Encode(swap.BuyerBeef), outputIndex = (long)swap.BuyerVout } },
            outputs = new[] { new { lockingScript = swap.Seller.P2pkh.ToHex(), satoshis = 10_000UL } },
            change = swap.Buyer.P2pkh.ToHex(),
        });
        JsonElement signing = await WaitAsync(http, id, "signing");
        await PostAsync(http, $"/v1/sessions/{id}/signatures", swap.Seller, Signatures(swap.Seller, signing));
        await PostAsync(http, $"/v1/sessions/{id}/signatures", swap.Buyer, Signatures(swap.Buyer, signing));
        await WaitAsync(http, id, "broadcasting", "completed");
        double broadcast = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        await WaitAsync(http, id, "completed");
        return (broadcast, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    private static object Signatures(Party party, JsonElement signing)
    {
        var unsigned = Transaction.FromHex(signing.GetProperty("unsignedTx").GetString()!);
        var scripts = new List<object>();
        Span<byte> digest = stackalloc byte[32];
        foreach (JsonElement input in signing.GetProperty("inputs").EnumerateArray())
        {
            if (input.GetProperty("party").GetString() != party.Id)
            {
                continue;
            }

            int index = input.GetProperty("index").GetInt32();
            var locking = Script.FromHex(input.GetProperty("sourceLockingScript").GetString()!);
            SigHash.ComputeForkId(unsigned, index, locking.Span, input.GetProperty("sourceSatoshis").GetUInt64(), AllForkId, null, digest);
            var writer = new BsvWriter(110);
            Script.WritePushData(writer, [.. party.Key.Sign(digest), (byte)AllForkId]);
            if (TokenTopicManager.Read(locking, default) is null)
            {
                Script.WritePushData(writer, party.Key.PublicKey.ToBytes());
            }

            scripts.Add(new { index, unlockingScript = Hex.Encode(writer.ToArray()) });
        }

        return new { party = party.Id, inputs = scripts };
    }

    private static async Task PostAsync(HttpClient http, string route, Party signer, object body)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = new ByteArrayContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Party-Signature", SessionSigning.SignRequest(signer.Key, json));
        using HttpResponseMessage response = await http.SendAsync(request);
        await Ok(response);
    }

    private static async Task<JsonElement> WaitAsync(HttpClient http, string id, params string[] statuses)
    {
        long until = Stopwatch.GetTimestamp() + (60 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            JsonElement view = await http.GetFromJsonAsync<JsonElement>($"/v1/sessions/{id}");
            string? status = view.GetProperty("status").GetString();
            if (statuses.Contains(status))
            {
                return view;
            }

            if (status == "aborted")
            {
                throw new InvalidOperationException($"session {id} aborted: {view}");
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"session {id} did not reach {string.Join("/", statuses)} within 60 s");
    }

    private static async Task<JsonElement> Ok(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.Clone() : throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {body}");
    }

    /// <summary>Each seller mints 1,000 units of its own asset (admitted to tm_tokens, mined); each buyer is paid by the faucet.</summary>
    private static async Task<Prepared[]> PrepareAsync(HttpClient http, int count)
    {
        var swaps = new Prepared[count];
        var mints = new Hash256[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var seller = NewParty("seller");
            var buyer = NewParty("buyer");
            (Beef sellerFunding, Transaction sellerParent, uint sellerVout) = await FundAsync(http, seller);
            TxOutput source = sellerParent.Outputs[(int)sellerVout];
            var unsigned = new Transaction(1, [new TxInput(new OutPoint(sellerParent.Id, sellerVout), Script.Empty)],
                [new TxOutput(1, TokenTopicManager.Lock(seller.Key.PublicKey, TokenTopicManager.Issue, 1000)), new TxOutput(source.Satoshis - 1_001, seller.P2pkh)], 0);
            Transaction mint = P2pkh.Sign(unsigned, [source], seller.Key);
            var beef = new Beef(BeefVersion.V2, sellerFunding.Bumps, [.. sellerFunding.Transactions, BeefTx.FromTransaction(mint)]);
            using var content = new ByteArrayContent(beef.ToAtomicBytes(mint.Id));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.Add("X-Topics", "[\"tm_tokens\"]");
            using HttpResponseMessage submitted = await http.PostAsync("/v1/beef?wait=broadcast&timeout=60", content);
            await Ok(submitted);
            (Beef buyerFunding, Transaction buyerParent, uint buyerVout) = await FundAsync(http, buyer);
            mints[i] = mint.Id;
            swaps[i] = new Prepared(seller, buyer, TokenTopicManager.AssetIdOf(new OutPoint(mint.Id, 0)), [], buyerFunding.ToAtomicBytes(buyerParent.Id), buyerVout, buyerParent.Outputs[(int)buyerVout].Satoshis);
        });
        using (HttpResponseMessage _ = await http.PostAsync("/arc/v1/mine", null))
        {
        }

        for (int i = 0; i < count; i++)
        {
            string mint = mints[i].ToDisplayHex();
            JsonElement view = await http.GetFromJsonAsync<JsonElement>($"/v1/tx/{mint}?wait=mined&timeout=60");
            if (view.GetProperty("status").GetString() != "mined")
            {
                throw new InvalidOperationException($"the mint {mint} is {view} after a minute");
            }

            byte[] proven = await http.GetByteArrayAsync($"/v1/tx/{mint}/beef");
            swaps[i] = swaps[i] with { MintBeef = Beef.FromBytes(proven).ToAtomicBytes(mints[i]) };
        }

        return swaps;
    }

    private static Party NewParty(string id)
    {
        var key = PrivateKey.Random();
        return new Party(id, key, Script.PayToPublicKeyHash(key.PublicKey.ToHash160()));
    }

    private static async Task<(Beef Funding, Transaction Parent, uint Vout)> FundAsync(HttpClient http, Party party)
    {
        using HttpResponseMessage funded = await http.PostAsJsonAsync("/arc/v1/faucet", new { lockingScript = party.P2pkh.ToHex(), satoshis = 100_000 });
        JsonElement faucet = await Ok(funded);
        Beef funding = Beef.FromHex(faucet.GetProperty("beef").GetString()!);
        Transaction parent = funding.Find(Hash256.FromDisplayHex(faucet.GetProperty("txid").GetString()!))!.Transaction!;
        return (funding, parent, faucet.GetProperty("vout").GetUInt32());
    }
}
