using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;

namespace Atomic.Cli.Commands.Sessions;

// The gateway and the dev chain: readiness, the fee rule, submissions, statuses, mining and proven BEEFs.
internal sealed partial class SessionDemoRun
{
    private static readonly HashSet<string> TxStatuses =
        new(StringComparer.Ordinal) { "received", "verified", "rejected", "broadcast", "mined", "failed" };

    /// <summary>How long one <c>?wait=</c> request asks the gateway to wait (it allows at most 60 s).</summary>
    private const int WaitSeconds = 10;

    /// <summary>How long to wait for mined before mining again, when the last block did not hold the transaction.</summary>
    private const int RetryMineSeconds = 2;

    // The server answers GET /readyz with 200; a server still starting (503) is waited for.
    private async Task ReadyAsync(CancellationToken ct)
    {
        _step = "ready";
        var watch = Stopwatch.StartNew();
        await server.WaitUntilReadyAsync(_step, report, settings.Server, ct);
        await report.WriteAsync("ready", $"{Number()} server ready at {settings.Server} ({DemoReport.Ms(watch.Elapsed)})",
            ("server", settings.Server.ToString()), ("ms", watch.Elapsed));
    }

    /// <summary>POST /v1/beef?wait=broadcast with <c>X-Topics: ["tm_tokens"]</c>; answers the status reached.</summary>
    private async Task<string> SubmitMintAsync(DemoTransaction mint, CancellationToken ct)
    {
        const string What = "POST /v1/beef";
        var request = new HttpRequestMessage(HttpMethod.Post, server.At($"v1/beef?wait=broadcast&timeout={WaitSeconds}"))
        {
            Content = new ByteArrayContent(mint.AtomicBeef),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.TryAddWithoutValidation("X-Topics", $"[\"{TokenTopicManager.TopicName}\"]");
        ServerAnswer answer = await server.SendAsync(_step, request, ct);
        JsonElement body = DemoServer.ExpectObject(_step, What, answer, HttpStatusCode.OK, HttpStatusCode.Accepted);
        return CheckStatus(What, mint.Transaction.Id.ToDisplayHex(), body);
    }

    /// <summary>
    /// GET /v1/tx/{txid}?wait=broadcast until the gateway has broadcast it; a 404 is waited out, for a session hands its
    /// transaction to the gateway just after it says broadcasting.
    /// </summary>
    private async Task WaitBroadcastAsync(string txid, CancellationToken ct)
    {
        while ((await TxAsync(txid, "broadcast", WaitSeconds, ct)).Status is not ("broadcast" or "mined"))
        {
            await Task.Delay(settings.PollInterval, ct);
        }
    }

    /// <summary>
    /// POST /arc/v1/mine, then GET /v1/tx/{txid}?wait=mined for each transaction, mining again when a block did not hold
    /// one; answers the block each was mined in.
    /// </summary>
    private async Task<Dictionary<string, uint?>> MineAsync(IReadOnlyList<string> txids, CancellationToken ct)
    {
        string step = _step;
        _step = "mine";
        var heights = new Dictionary<string, uint?>(StringComparer.OrdinalIgnoreCase);
        while (heights.Count < txids.Count)
        {
            string[] pending = [.. txids.Where(t => !heights.ContainsKey(t))];
            foreach (string txid in pending)
            {
                await WaitBroadcastAsync(txid, ct); // a block mined before the chain has the transaction would not hold it
            }

            bool held = await MineBlockAsync(pending, ct);
            foreach (string txid in pending)
            {
                (string? status, uint? height) = await TxAsync(txid, "mined", held ? WaitSeconds : RetryMineSeconds, ct);
                if (status == "mined")
                {
                    heights[txid] = height;
                }
            }
        }

        _step = step;
        return heights;
    }

    /// <summary>
    /// POST /arc/v1/mine: the dev chain mines its mempool into a block now. Answers whether the block holds all of
    /// <paramref name="txids"/>.
    /// </summary>
    private async Task<bool> MineBlockAsync(IReadOnlyList<string> txids, CancellationToken ct)
    {
        const string What = "POST /arc/v1/mine";
        ServerAnswer answer = await server.SendAsync(_step, new HttpRequestMessage(HttpMethod.Post, server.At("arc/v1/mine")), ct);
        JsonElement body = DemoServer.ExpectObject(_step, What, answer, HttpStatusCode.OK);
        ulong height = DemoServer.RequireUInt64(_step, What, body, "height");
        var held = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (body.TryGetProperty("blocks", out JsonElement blocks) && blocks.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement block in blocks.EnumerateArray())
            {
                if (block.ValueKind == JsonValueKind.Object && block.TryGetProperty("txids", out JsonElement ids)
                    && ids.ValueKind == JsonValueKind.Array)
                {
                    held.UnionWith(ids.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!));
                }
            }
        }

        int ours = txids.Count(held.Contains);
        string holding = txids.Count == 1
            ? ours == 1 ? ", holding the transaction" : ", without the transaction (will mine again)"
            : $", holding {ours} of the {txids.Count} transactions{(ours < txids.Count ? " (will mine again)" : string.Empty)}";
        await report.WriteAsync("mine", $"   asked the dev chain to mine: block {height}{holding}",
            ("blockHeight", height), ("holds", ours), ("of", txids.Count));
        return ours == txids.Count;
    }

    /// <summary>
    /// GET /v1/tx/{txid}?wait={status}: the status it has when it reaches that one or the wait ends (null when the
    /// gateway has no record of it yet), and once mined the block its merkle path is for; a rejected or failed
    /// transaction is the failure its error names.
    /// </summary>
    private async Task<(string? Status, uint? BlockHeight)> TxAsync(string txid, string wait, int seconds, CancellationToken ct)
    {
        string what = $"GET /v1/tx/{DemoReport.Short(txid)}";
        ServerAnswer answer = await server.GetAsync(_step, $"v1/tx/{txid}?wait={wait}&timeout={seconds}", ct);
        if (answer.Status == HttpStatusCode.NotFound)
        {
            return (null, null);
        }

        JsonElement body = DemoServer.ExpectObject(_step, what, answer, HttpStatusCode.OK);
        string status = CheckStatus(what, txid, body);
        return (status, status == "mined" && DemoServer.Text(body, "merklePath") is string hex ? BlockOf(what, txid, hex) : null);
    }

    /// <summary>The status in a gateway answer (<c>{"txid", "status", "error"}</c>); rejected and failed end the demo.</summary>
    private string CheckStatus(string what, string txid, JsonElement body)
    {
        string status = DemoServer.RequireText(_step, what, body, "status");
        if (!TxStatuses.Contains(status))
        {
            throw DemoServer.Invalid(_step, what, $"unknown status '{status}'");
        }

        if (status is "rejected" or "failed")
        {
            bool given = body.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object;
            string code = given ? DemoServer.Text(error, "code") ?? "UNKNOWN" : "UNKNOWN";
            string reason = given ? DemoServer.Text(error, "reason") ?? "(no reason given)" : "(the gateway gave no error)";
            throw new DemoFailure(_step, code, $"transaction {txid} was {status}: {reason}");
        }

        return status;
    }

    private uint BlockOf(string what, string txid, string merklePathHex)
    {
        try
        {
            MerklePath path = MerklePath.FromHex(merklePathHex);
            return path.Contains(Hash256.FromDisplayHex(txid))
                ? path.BlockHeight
                : throw DemoServer.Invalid(_step, what, $"the merkle path of block {path.BlockHeight} does not hold {txid}");
        }
        catch (FormatException e)
        {
            throw DemoServer.Invalid(_step, what, $"\"merklePath\" is not a BUMP: {e.Message}");
        }
    }

    /// <summary>GET /v1/tx/{txid}/beef once mined: the transaction and its proven Atomic BEEF, which a party keeps and spends.</summary>
    private async Task<(Transaction Tx, byte[] AtomicBeef)> ProvenAsync(string txid, CancellationToken ct)
    {
        string what = $"GET /v1/tx/{DemoReport.Short(txid)}/beef";
        ServerAnswer answer = await server.GetAsync(_step, $"v1/tx/{txid}/beef", ct);
        if (!answer.IsSuccess)
        {
            throw DemoServer.Problem(_step, what, answer);
        }

        // Trimmed to the transaction's ancestry before it is checked: once proven, the transaction needs none, yet the
        // gateway keeps the ancestors it was submitted with (under the Atomic prefix, which then fails BEEF_NOT_ATOMIC).
        Hash256 id = Hash256.FromDisplayHex(txid);
        byte[] atomic;
        try
        {
            atomic = Beef.FromBytes(answer.Body).ToAtomicBytes(id);
        }
        catch (BsvFormatException e)
        {
            throw new DemoFailure(_step, e.Code, $"{what}: {e.Reason}");
        }

        BeefTx? found = ReadBeef(what, atomic).Find(id);
        return found?.Transaction is Transaction tx && found.IsProven
            ? (tx, atomic)
            : throw DemoServer.Invalid(_step, what, $"the BEEF does not hold {txid} with its merkle path");
    }

    private Beef ReadBeef(string what, byte[] bytes)
    {
        try
        {
            Beef beef = Beef.FromBytes(bytes);
            beef.Validate();
            return beef;
        }
        catch (BsvFormatException e)
        {
            throw new DemoFailure(_step, e.Code, $"{what}: {e.Reason}");
        }
    }
}
