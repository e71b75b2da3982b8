using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Cli.Commands.Keys;
using Atomic.Overlay.Tokens;

namespace Atomic.Cli.Commands;

/// <summary>
/// <c>atomic demo [--server URL] [--timeout SECONDS] [--satoshis N] [--no-mine] [--key-from NAME|-] [--json]</c>: the whole path of a
/// token transaction through the all-in-one server, each step printed as it happens. Exit 0 only once the transaction
/// is mined; 1 when a step fails (the server's <c>code: detail</c>, a rejection, a timeout); 2 for usage errors and a
/// server that cannot be reached.
/// </summary>
internal static class DemoCommand
{
    public const string DefaultServer = "http://127.0.0.1:5080";

    public const string ServerVariable = "ATOMIC_SERVER";

    public const string Basket = "demo";

    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(250);

    /// <param name="handler">Sends the demo's HTTP requests (tests pass an in-process server's); null opens real connections.</param>
    public static Command Create(CliConsole console, HttpMessageHandler? handler = null, TimeSpan? pollInterval = null)
    {
        var server = new Option<string>("--server")
        {
            Description = $"The server's origin (default {DefaultServer}, or ${ServerVariable}).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultServer,
        };
        var timeout = new Option<double>("--timeout") { Description = "Seconds the whole demo may take (default 60).", DefaultValueFactory = _ => 60 };
        timeout.Validators.Add(result =>
        {
            double seconds = result.GetValueOrDefault<double>();
            if (!(seconds > 0 && seconds <= 86_400))
            {
                result.AddError("--timeout must be a number of seconds above 0 and at most 86400");
            }
        });
        var satoshis = new Option<ulong>("--satoshis") { Description = "What the faucet pays the new key (default 100000, at least 1000).", DefaultValueFactory = _ => 100_000 };
        satoshis.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<ulong>() < 1000)
            {
                result.AddError("--satoshis must be at least 1000");
            }
        });
        var noMine = new Option<bool>("--no-mine") { Description = "Do not call /arc/v1/mine; wait for the chain to mine on its own (interval mining)." };
        Option<string?> keyFrom = KeyCommand.DemoKeyFromOption($"the demo's key ({DemoKeys.DemoPath} below it)");
        Option<string?> passphrase = KeyCommand.PassphraseOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per step instead of prose, for scripts." };
        var command = new Command("demo", "Fund a fresh key from the dev chain's faucet, issue a token, submit its BEEF and follow it until it is mined.")
        {
            server, timeout, satoshis, noMine, keyFrom, passphrase, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            Uri origin = ParseOrigin(parse.GetValue(server)!);
            ExtendedKey? root = await DemoKeys.ReadRootAsync(parse.GetValue(keyFrom), parse.GetValue(passphrase), console, ct);
            var settings = new DemoSettings(
                origin, TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(satoshis), parse.GetValue(noMine), pollInterval ?? DefaultPollInterval,
                root is null ? null : DemoKeys.DemoKey(root));
            using HttpClient http = handler is null
                ? new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = Timeout.InfiniteTimeSpan }
                : new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
            var run = new DemoRun(new DemoServer(http, origin), new DemoReport(console, parse.GetValue(json)), settings);
            return await run.RunAsync(ct);
        });
        return command;
    }

    internal static Uri ParseOrigin(string value)
    {
        string text = value.Trim();
        if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliUsageException($"--server must be an http(s) URL such as {DefaultServer}, got '{value}'");
        }

        return uri;
    }
}

/// <param name="Key">The demo's key from <c>--key-from</c>, or null for a fresh random one.</param>
internal sealed record DemoSettings(Uri Server, TimeSpan Timeout, ulong Satoshis, bool NoMine, TimeSpan PollInterval, PrivateKey? Key = null);

/// <summary>One run of the demo: the six steps, in order, against one server.</summary>
internal sealed class DemoRun(DemoServer server, DemoReport report, DemoSettings settings)
{
    private static readonly HashSet<string> Statuses = new(StringComparer.Ordinal) { "received", "verified", "rejected", "broadcast", "mined", "failed" };

    private static readonly TimeSpan RetryMine = TimeSpan.FromSeconds(2);

    private readonly Stopwatch _total = Stopwatch.StartNew();
    private string _step = "ready";
    private string? _lastStatus;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.Timeout);
        CancellationToken ct = deadline.Token;
        try
        {
            await report.WriteAsync("start", $"atomic demo against {settings.Server}", ("server", settings.Server.ToString()), ("satoshis", settings.Satoshis), ("mine", !settings.NoMine));
            await ReadyAsync(ct);
            (PrivateKey key, Beef fundingBeef, Transaction funding, uint vout) = await FundAsync(ct);
            DemoTransaction built = await BuildAsync(key, fundingBeef, funding, vout, ct);
            string submitted = await SubmitAsync(built, ct);
            MerklePath? path = await FollowAsync(built.Transaction.Id, submitted, ct);
            await LookupAsync(built, ct);
            await report.WriteAsync(
                "done",
                $"done: token {DemoReport.Short(built.AssetId)} mined{(path is null ? string.Empty : $" in block {path.BlockHeight}")} ({DemoReport.Ms(_total.Elapsed)} in all)",
                ("ok", true), ("txid", built.Transaction.Id.ToDisplayHex()), ("assetId", built.AssetId), ("blockHeight", path?.BlockHeight), ("ms", _total.Elapsed));
            return ExitCodes.Valid;
        }
        catch (DemoFailure failure)
        {
            await report.FailAsync(failure);
            return failure.ExitCode;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            string where = _lastStatus is null ? string.Empty : $"; the transaction was last '{_lastStatus}'";
            string? hint = settings.NoMine && _lastStatus == "broadcast"
                ? "with --no-mine the chain must mine on its own (DevChain:MineInterval); leave --no-mine off to have the demo mine"
                : null;
            await report.FailAsync(new DemoFailure(_step, DemoCodes.Timeout, $"the demo did not finish within {settings.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s{where}", ExitCodes.Invalid, hint));
            return ExitCodes.Invalid;
        }
    }

    // 1. The server answers GET /readyz with 200; a server still starting (503) is waited for.
    private async Task ReadyAsync(CancellationToken ct)
    {
        _step = "ready";
        var watch = Stopwatch.StartNew();
        await server.WaitUntilReadyAsync(_step, report, settings.Server, ct);
        await report.WriteAsync("ready", $"1. server ready at {settings.Server} ({DemoReport.Ms(watch.Elapsed)})", ("server", settings.Server.ToString()), ("ms", watch.Elapsed));
    }

    // 2. A fresh key (or --key-from's), and the faucet pays its P2PKH script: the answer is the funding transaction as Atomic BEEF.
    private async Task<(PrivateKey, Beef, Transaction, uint)> FundAsync(CancellationToken ct)
    {
        _step = "fund";
        PrivateKey key = settings.Key ?? PrivateKey.Random();
        Script locking = Script.PayToPublicKeyHash(key.PublicKey.ToHash160());
        string address = key.PublicKey.ToAddress(testnet: true);
        string? path = settings.Key is null ? null : DemoKeys.DemoPath.ToString();
        string which = path is null ? "new key" : $"key {path} of --key-from";
        await report.WriteAsync("key", $"2. {which}: address {address}, public key {key.PublicKey.ToHex()}",
            ("address", address), ("publicKey", key.PublicKey.ToHex()), ("path", path));

        var watch = Stopwatch.StartNew();
        const string What = "POST /arc/v1/faucet";
        ServerAnswer answer = await server.PostJsonAsync(_step, "arc/v1/faucet", new Dictionary<string, object> { ["lockingScript"] = Hex.Encode(locking.Span), ["satoshis"] = settings.Satoshis }, ct);
        JsonElement body = DemoServer.ExpectObject(_step, What, answer, HttpStatusCode.OK);
        string txidText = DemoServer.RequireText(_step, What, body, "txid");
        ulong voutNumber = DemoServer.RequireUInt64(_step, What, body, "vout");
        string beefHex = DemoServer.RequireText(_step, What, body, "beef");
        if (!Hash256.TryFromDisplayHex(txidText, out Hash256 txid) || voutNumber > uint.MaxValue)
        {
            throw DemoServer.Invalid(_step, What, $"\"txid\" '{txidText}' or \"vout\" {voutNumber} is not an outpoint");
        }

        if (!Hex.TryDecode(beefHex, out byte[] beefBytes))
        {
            throw DemoServer.Invalid(_step, What, "\"beef\" is not hex");
        }

        Beef beef;
        try
        {
            beef = Beef.FromBytes(beefBytes);
            beef.Validate();
        }
        catch (BsvFormatException e)
        {
            throw new DemoFailure(_step, e.Code, $"the faucet's BEEF: {e.Reason}");
        }

        uint vout = (uint)voutNumber;
        Transaction funding = beef.Find(txid)?.Transaction ?? throw DemoServer.Invalid(_step, What, $"the BEEF does not hold the funding transaction {txidText}");
        if (vout >= funding.Outputs.Count || !funding.Outputs[(int)vout].LockingScript.Span.SequenceEqual(locking.Span) || funding.Outputs[(int)vout].Satoshis != settings.Satoshis)
        {
            throw DemoServer.Invalid(_step, What, $"output {vout} of {txidText} does not pay {settings.Satoshis} satoshis to the new key");
        }

        bool proven = beef.Find(txid)!.IsProven;
        string block = body.TryGetProperty("blockHeight", out JsonElement height) && height.TryGetUInt32(out uint h) ? $", mined in block {h}" : string.Empty;
        await report.WriteAsync(
            "funded",
            $"   faucet paid {settings.Satoshis} sat to {address}: output {txidText}:{vout}{block}{(proven ? ", with its merkle path" : string.Empty)}; Atomic BEEF {beefBytes.Length} bytes ({DemoReport.Ms(watch.Elapsed)})",
            ("txid", txidText), ("vout", vout), ("satoshis", settings.Satoshis), ("blockHeight", height.ValueKind == JsonValueKind.Number ? height.GetUInt32() : null), ("proven", proven), ("beefBytes", beefBytes.Length), ("ms", watch.Elapsed));
        return (key, beef, funding, vout);
    }

    // 3. The token transaction: an ISSUE PushDrop output and P2PKH change, paying the dev chain's fee rule, signed, in an Atomic BEEF.
    private async Task<DemoTransaction> BuildAsync(PrivateKey key, Beef fundingBeef, Transaction funding, uint vout, CancellationToken ct)
    {
        _step = "build";
        var watch = Stopwatch.StartNew();
        (ulong feeSatoshis, ulong feeBytes) = await server.FeeRuleAsync(_step, ct);
        DemoTransaction built;
        try
        {
            built = DemoTransaction.Build(key, fundingBeef, funding, vout, feeSatoshis, feeBytes);
        }
        catch (InvalidOperationException e)
        {
            throw new DemoFailure(_step, DemoCodes.InsufficientFunds, e.Message, ExitCodes.Invalid, "ask the faucet for more with --satoshis");
        }

        Transaction tx = built.Transaction;
        ScriptResult check = Spend.Validate(tx, 0, funding.Outputs[(int)vout]);
        if (!check.IsSuccess)
        {
            throw new DemoFailure(_step, ReasonCodes.ScriptFailed, $"the demo's own signature does not verify: {check}");
        }

        string txid = tx.Id.ToDisplayHex();
        await report.WriteAsync(
            "built",
            $"3. token transaction {txid}: output 0 issues {DemoTransaction.TokenAmount} units of asset {DemoReport.Short(built.AssetId)} ({TokenTopicManager.TopicName} PushDrop locked to the key), " +
            $"output 1 change {built.Change} sat; fee {built.Fee} sat for {tx.Size} bytes at {feeSatoshis} sat per {feeBytes} bytes; Atomic BEEF {built.AtomicBeef.Length} bytes ({DemoReport.Ms(watch.Elapsed)})",
            ("txid", txid), ("assetId", built.AssetId), ("amount", DemoTransaction.TokenAmount), ("tokenVout", 0), ("changeVout", 1), ("change", built.Change),
            ("fee", built.Fee), ("size", tx.Size), ("beefBytes", built.AtomicBeef.Length), ("ms", watch.Elapsed));
        return built;
    }

    // 4. POST /v1/beef: the gateway takes the BEEF durably and answers 202 with the txid.
    private async Task<string> SubmitAsync(DemoTransaction built, CancellationToken ct)
    {
        _step = "submit";
        const string What = "POST /v1/beef";
        var watch = Stopwatch.StartNew();
        var request = new HttpRequestMessage(HttpMethod.Post, server.At("v1/beef")) { Content = new ByteArrayContent(built.AtomicBeef) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.TryAddWithoutValidation("X-Topics", $"[\"{TokenTopicManager.TopicName}\"]");
        request.Headers.TryAddWithoutValidation("X-Baskets", $"[\"{DemoCommand.Basket}\"]");
        JsonElement body = DemoServer.ExpectObject(_step, What, await server.SendAsync(_step, request, ct), HttpStatusCode.Accepted, HttpStatusCode.OK);
        string txid = DemoServer.RequireText(_step, What, body, "txid");
        string status = DemoServer.RequireText(_step, What, body, "status");
        if (!string.Equals(txid, built.Transaction.Id.ToDisplayHex(), StringComparison.OrdinalIgnoreCase))
        {
            throw DemoServer.Invalid(_step, What, $"the gateway answered txid {txid}, the BEEF's is {built.Transaction.Id}");
        }

        if (!Statuses.Contains(status))
        {
            throw DemoServer.Invalid(_step, What, $"unknown status '{status}'");
        }

        _lastStatus = status;
        await report.WriteAsync(
            "submitted",
            $"4. submitted to /v1/beef (topics [{TokenTopicManager.TopicName}], baskets [{DemoCommand.Basket}]): {status} ({DemoReport.Ms(watch.Elapsed)})",
            ("txid", txid), ("status", status), ("topics", new[] { TokenTopicManager.TopicName }), ("baskets", new[] { DemoCommand.Basket }), ("ms", watch.Elapsed));
        return status;
    }

    // 5. GET /v1/tx/{txid} until mined, printing each change of status; once broadcast, mine a block (unless --no-mine).
    private async Task<MerklePath?> FollowAsync(Hash256 txid, string submitted, CancellationToken ct)
    {
        _step = "follow";
        string id = txid.ToDisplayHex();
        string what = $"GET /v1/tx/{DemoReport.Short(id)}";
        var watch = Stopwatch.StartNew();
        string shown = submitted;
        TimeSpan? minedAt = null;
        bool first = true;
        while (true)
        {
            JsonElement body = DemoServer.ExpectObject(_step, what, await server.GetAsync(_step, $"v1/tx/{id}", ct), HttpStatusCode.OK);
            string status = DemoServer.RequireText(_step, what, body, "status");
            if (!Statuses.Contains(status))
            {
                throw DemoServer.Invalid(_step, what, $"unknown status '{status}'");
            }

            _lastStatus = status;
            if (status != shown)
            {
                shown = status;
                if (status != "mined")
                {
                    await report.WriteAsync("status", $"{(first ? "5." : "  ")} status {status} (+{DemoReport.Ms(watch.Elapsed)})", ("txid", id), ("status", status), ("ms", watch.Elapsed));
                    first = false;
                }
            }

            switch (status)
            {
                case "mined":
                    return await MinedAsync(txid, body, what, first, watch.Elapsed);
                case "rejected" or "failed":
                    (string code, string reason) = Error(body);
                    throw new DemoFailure(_step, code, $"the transaction was {status}: {reason}");
                case "broadcast" when !settings.NoMine && (minedAt is null || watch.Elapsed - minedAt.Value >= RetryMine):
                    minedAt = watch.Elapsed;
                    await MineAsync(txid, ct);
                    break;
            }

            await Task.Delay(settings.PollInterval, ct);
        }
    }

    private static (string Code, string Reason) Error(JsonElement body)
    {
        if (body.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object)
        {
            return (DemoServer.Text(error, "code") ?? "UNKNOWN", DemoServer.Text(error, "reason") ?? "(no reason given)");
        }

        return ("UNKNOWN", "(the gateway gave no error)");
    }

    private async Task<MerklePath?> MinedAsync(Hash256 txid, JsonElement body, string what, bool first, TimeSpan elapsed)
    {
        string prefix = first ? "5." : "  ";
        string? hex = DemoServer.Text(body, "merklePath");
        if (string.IsNullOrEmpty(hex))
        {
            await report.WriteAsync("mined", $"{prefix} status mined (+{DemoReport.Ms(elapsed)}); the gateway gave no merkle path", ("txid", txid.ToDisplayHex()), ("blockHeight", null), ("merkleRoot", null), ("merklePath", null), ("ms", elapsed));
            return null;
        }

        MerklePath path;
        try
        {
            path = MerklePath.FromHex(hex);
        }
        catch (FormatException e)
        {
            throw DemoServer.Invalid(_step, what, $"\"merklePath\" is not a BUMP: {e.Message}");
        }

        if (!path.Contains(txid))
        {
            throw DemoServer.Invalid(_step, what, $"the merkle path of block {path.BlockHeight} does not hold {txid}");
        }

        string root = path.ComputeRoot(txid).ToDisplayHex();
        await report.WriteAsync(
            "mined",
            $"{prefix} status mined (+{DemoReport.Ms(elapsed)}): block {path.BlockHeight}, merkle root {root}, merkle path {hex}",
            ("txid", txid.ToDisplayHex()), ("blockHeight", path.BlockHeight), ("merkleRoot", root), ("merklePath", hex), ("ms", elapsed));
        return path;
    }

    /// <summary>POST /arc/v1/mine: the dev chain mines its mempool into a block now.</summary>
    private async Task MineAsync(Hash256 txid, CancellationToken ct)
    {
        const string What = "POST /arc/v1/mine";
        ServerAnswer answer = await server.SendAsync(_step, new HttpRequestMessage(HttpMethod.Post, server.At("arc/v1/mine")), ct);
        if (!answer.IsSuccess)
        {
            DemoFailure problem = DemoServer.Problem(_step, What, answer);
            throw new DemoFailure(_step, problem.Code, problem.Detail, ExitCodes.Invalid, "use --no-mine when the chain mines on its own");
        }

        JsonElement body = DemoServer.ExpectObject(_step, What, answer, HttpStatusCode.OK);
        ulong height = DemoServer.RequireUInt64(_step, What, body, "height");
        bool ours = body.TryGetProperty("blocks", out JsonElement blocks) && blocks.ValueKind == JsonValueKind.Array
            && blocks.EnumerateArray().Any(b => b.ValueKind == JsonValueKind.Object && b.TryGetProperty("txids", out JsonElement txids) && txids.ValueKind == JsonValueKind.Array
                && txids.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && string.Equals(t.GetString(), txid.ToDisplayHex(), StringComparison.OrdinalIgnoreCase)));
        await report.WriteAsync(
            "mine",
            $"   asked the dev chain to mine: block {height}{(ours ? ", holding the transaction" : ", without the transaction (will mine again)")}",
            ("blockHeight", height), ("holdsTx", ours));
    }

    // 6. BRC-24 lookup of the new asset in ls_tokens; optional: a server without /lookup is skipped with a note.
    private async Task LookupAsync(DemoTransaction built, CancellationToken ct)
    {
        _step = "lookup";
        const string What = "POST /lookup";
        var watch = Stopwatch.StartNew();
        ServerAnswer answer;
        try
        {
            answer = await server.PostJsonAsync(_step, "lookup", new Dictionary<string, object>
            {
                ["service"] = "ls_tokens",
                ["query"] = new Dictionary<string, string> { ["assetId"] = built.AssetId },
            }, ct);
        }
        catch (DemoFailure e)
        {
            await Skipped($"{e.Code}: {e.Detail}");
            return;
        }

        if (answer.Status is HttpStatusCode.NotFound or HttpStatusCode.NotImplemented or HttpStatusCode.MethodNotAllowed)
        {
            await Skipped($"the server has no BRC-24 lookup ({answer.Code})");
            return;
        }

        if (!answer.IsSuccess || !DemoServer.TryParse(answer.Body, out JsonElement root))
        {
            DemoFailure problem = answer.IsSuccess ? DemoServer.Invalid(_step, What, "the answer is not JSON") : DemoServer.Problem(_step, What, answer);
            await Skipped($"{problem.Code}: {problem.Detail}");
            return;
        }

        List<Token?> tokens = ReadOutputList(root, out bool readable);
        if (!readable)
        {
            await Skipped("the answer is not a BRC-24 output list");
            return;
        }

        var found = tokens.OfType<Token>().Where(t => t.AssetId == built.AssetId).ToList();
        string summary = found.Count == 0
            ? $"{tokens.Count} output(s), none holding asset {DemoReport.Short(built.AssetId)} yet"
            : string.Join("; ", found.Select(t => $"asset {DemoReport.Short(t.AssetId)}, {t.Amount} units, owner {DemoReport.Short(t.Owner.ToHex())}"));
        await report.WriteAsync(
            "lookup",
            $"6. lookup ls_tokens {{\"assetId\": \"{DemoReport.Short(built.AssetId)}\"}}: {summary} ({DemoReport.Ms(watch.Elapsed)})",
            ("service", "ls_tokens"), ("outputs", tokens.Count),
            ("tokens", found.Select(t => (IReadOnlyList<(string, object?)>)[("assetId", t.AssetId), ("amount", t.Amount), ("owner", t.Owner.ToHex())]).ToList()),
            ("ms", watch.Elapsed));

        Task Skipped(string why) => report.WriteAsync("lookup", $"6. lookup skipped: {why}", ("service", "ls_tokens"), ("skipped", why));
    }

    /// <summary>
    /// The tokens of a BRC-24 output list (<c>{"type": "output-list", "outputs": [{"beef", "outputIndex"}]}</c>, or
    /// the bare array); <c>beef</c> as hex, base64 or an array of bytes. An entry that cannot be read is null.
    /// </summary>
    private static List<Token?> ReadOutputList(JsonElement root, out bool readable)
    {
        JsonElement outputs = root;
        if (root.ValueKind == JsonValueKind.Object && !root.TryGetProperty("outputs", out outputs))
        {
            readable = false;
            return [];
        }

        readable = outputs.ValueKind == JsonValueKind.Array;
        var tokens = new List<Token?>();
        if (!readable)
        {
            return tokens;
        }

        foreach (JsonElement output in outputs.EnumerateArray().Take(1000))
        {
            tokens.Add(ReadOutput(output));
        }

        return tokens;
    }

    private static Token? ReadOutput(JsonElement output)
    {
        if (output.ValueKind != JsonValueKind.Object || !output.TryGetProperty("beef", out JsonElement beefElement)
            || !output.TryGetProperty("outputIndex", out JsonElement indexElement) || !indexElement.TryGetUInt32(out uint index))
        {
            return null;
        }

        byte[]? bytes = beefElement.ValueKind switch
        {
            JsonValueKind.String when Hex.TryDecode(beefElement.GetString(), out byte[] hex) => hex,
            JsonValueKind.String => TryBase64(beefElement.GetString()!),
            JsonValueKind.Array => TryByteArray(beefElement),
            _ => null,
        };
        if (bytes is null)
        {
            return null;
        }

        try
        {
            Beef beef = Beef.FromBytes(bytes);
            Transaction? tx = beef.SubjectTxId is Hash256 subject ? beef.Find(subject)?.Transaction : null;
            return tx is null || index >= tx.Outputs.Count ? null : TokenTopicManager.Read(tx.Outputs[(int)index].LockingScript, new OutPoint(tx.Id, index));
        }
        catch (BsvFormatException)
        {
            return null;
        }
    }

    private static byte[]? TryBase64(string text)
    {
        byte[] buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out int written) ? buffer[..written] : null;
    }

    private static byte[]? TryByteArray(JsonElement array)
    {
        var bytes = new List<byte>();
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (!item.TryGetByte(out byte b))
            {
                return null;
            }

            bytes.Add(b);
        }

        return [.. bytes];
    }
}
