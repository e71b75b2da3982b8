using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Cli.Commands.Keys;
using Atomic.Overlay.Tokens;
using Atomic.Sessions;

namespace Atomic.Cli.Commands.Sessions;

/// <summary>
/// One run of the session demo against one server: the parties' keys and coins, then each session of the scenario from
/// creation to mined (or to its abort, when a party withholds its signature). Every party request is signed by that
/// party's key (<c>X-Party-Signature</c>), and every party checks the assembled transaction before it signs. The
/// session's own steps are in <c>SessionDemoRun.Session.cs</c>, the gateway's and the dev chain's in <c>SessionDemoRun.Chain.cs</c>.
/// </summary>
internal sealed partial class SessionDemoRun(DemoServer server, DemoReport report, SessionDemoSettings settings)
{
    /// <summary>What the faucet pays each funded party.</summary>
    public const ulong FaucetSatoshis = 100_000;

    /// <summary>The deadline of a session whose party withholds its signature: short, for the abort is the point.</summary>
    public static readonly TimeSpan WithheldDeadline = TimeSpan.FromSeconds(10);

    private readonly Stopwatch _total = Stopwatch.StartNew();
    private readonly SessionScenario _scenario = settings.Scenario;
    private string _step = "ready";
    private int _number;
    private string? _sessionId;
    private string? _sessionStatus;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.Timeout);
        CancellationToken ct = deadline.Token;
        try
        {
            string withheldWhat = _scenario is BridgeScenario ? "the secret" : "its signature";
            string withholding = settings.Withhold is null ? string.Empty : $", {settings.Withhold} withholding {withheldWhat}";
            await report.WriteAsync("start", $"atomic session demo {_scenario.Name} against {settings.Server}{withholding}",
                ("server", settings.Server.ToString()), ("scenario", _scenario.Name), ("withhold", settings.Withhold));
            await ReadyAsync(ct);
            Dictionary<string, DemoParty> parties = await FundAsync(ct);
            await MintAsync(parties, ct);

            var finished = new List<FinishedSession>();
            for (SessionPlan? plan = _scenario.Open(parties); plan is not null; plan = _scenario.Next(parties, finished[^1]))
            {
                if (plan.Secret is not null)
                {
                    return await BridgeAsync(plan, settings.Withhold, ct);
                }

                if (settings.Withhold is string party)
                {
                    return await WithheldAsync(plan, party, ct);
                }

                finished.Add(await CompleteAsync(plan, ct));
            }

            FinishedSession last = finished[^1];
            string mined = string.Join(", then ", finished.Select(f => $"{f.Template} {f.Transaction.Id} mined in block {f.BlockHeight}"));
            await report.WriteAsync(
                "done",
                $"done: {mined} ({DemoReport.Ms(_total.Elapsed)} in all)",
                ("ok", true), ("scenario", _scenario.Name), ("sessionId", last.SessionId), ("txid", last.Transaction.Id.ToDisplayHex()),
                ("blockHeight", last.BlockHeight), ("sessions", finished.Select(Fields).ToList()), ("ms", _total.Elapsed));
            return ExitCodes.Valid;
        }
        catch (DemoFailure failure)
        {
            await report.FailAsync(failure);
            return failure.ExitCode;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            string where = _sessionId is null ? string.Empty : $"; session {_sessionId} was last '{_sessionStatus}'";
            string seconds = settings.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);
            await report.FailAsync(new DemoFailure(_step, DemoCodes.Timeout, $"the session demo did not finish in {seconds} s{where}"));
            return ExitCodes.Invalid;
        }

        static IReadOnlyList<(string, object?)> Fields(FinishedSession f) =>
            [("sessionId", f.SessionId), ("template", f.Template), ("txid", f.Transaction.Id.ToDisplayHex()),
                ("blockHeight", f.BlockHeight)];
    }

    /// <summary>The number of the next top-level step, as printed (<c>4.</c>).</summary>
    private string Number() => $"{++_number}.";

    private TimeSpan Remaining() => settings.Timeout - _total.Elapsed;

    private static string Plural(int count, string noun) => count == 1 ? noun : noun + "s";

    private static string Count(int count, string noun) => $"{count} {Plural(count, noun)}";

    // A fresh key per party (or --key-from's, in the scenario's order); the faucet pays each funded party's P2PKH and
    // answers its transaction as proven Atomic BEEF.
    private async Task<Dictionary<string, DemoParty>> FundAsync(CancellationToken ct)
    {
        _step = "fund";
        IReadOnlyList<PrivateKey>? given = settings.Keys;
        var parties = _scenario.Parties
            .Select((id, i) => new DemoParty(id, given?[i] ?? PrivateKey.Random()))
            .ToDictionary(p => p.Id, StringComparer.Ordinal);
        string keys = string.Join(", ", parties.Values.Select(p => $"{p.Id} {DemoReport.Short(p.Key.PublicKey.ToHex())}"));
        string which = given is null ? "each with a fresh key" : $"keys {DemoKeys.PartyPath(0)}, …/1, … of --key-from";
        await report.WriteAsync("parties", $"{Number()} parties, {which}: {keys}",
            ("parties", parties.Values.Select((p, i) => (IReadOnlyList<(string, object?)>)
                [("id", p.Id), ("publicKey", p.Key.PublicKey.ToHex()), ("address", p.Key.PublicKey.ToAddress(testnet: true)),
                    ("path", given is null ? null : DemoKeys.PartyPath(i).ToString())]).ToList()));

        const string What = "POST /arc/v1/faucet";
        foreach (string id in _scenario.Funded)
        {
            DemoParty party = parties[id];
            var watch = Stopwatch.StartNew();
            var request = new Dictionary<string, object> { ["lockingScript"] = party.P2pkh.ToHex(), ["satoshis"] = FaucetSatoshis };
            ServerAnswer answer = await server.PostJsonAsync(_step, "arc/v1/faucet", request, ct);
            JsonElement body = DemoServer.ExpectObject(_step, What, answer, HttpStatusCode.OK);
            string txidText = DemoServer.RequireText(_step, What, body, "txid");
            ulong vout = DemoServer.RequireUInt64(_step, What, body, "vout");
            if (!Hash256.TryFromDisplayHex(txidText, out Hash256 txid) || vout > uint.MaxValue)
            {
                throw DemoServer.Invalid(_step, What, $"\"txid\" '{txidText}' or \"vout\" {vout} is not an outpoint");
            }

            if (!Hex.TryDecode(DemoServer.RequireText(_step, What, body, "beef"), out byte[] beefBytes))
            {
                throw DemoServer.Invalid(_step, What, "\"beef\" is not hex");
            }

            Beef beef = ReadBeef(What, beefBytes);
            Transaction funding = beef.Find(txid)?.Transaction
                ?? throw DemoServer.Invalid(_step, What, $"the BEEF does not hold the funding transaction {txidText}");
            if (vout >= (ulong)funding.Outputs.Count || funding.Outputs[(int)vout] != new TxOutput(FaucetSatoshis, party.P2pkh))
            {
                throw DemoServer.Invalid(_step, What, $"output {vout} of {txidText} does not pay {FaucetSatoshis} sat to {id}");
            }

            party.Coins.Add(new DemoCoin(new OutPoint(txid, (uint)vout), funding.Outputs[(int)vout], beef.ToAtomicBytes(txid)));
            uint? height = body.TryGetProperty("blockHeight", out JsonElement h) && h.TryGetUInt32(out uint n) ? n : null;
            string block = height is null ? string.Empty : $", mined in block {height}";
            await report.WriteAsync(
                "funded",
                $"   faucet paid {FaucetSatoshis} sat to {id}: output {txidText}:{vout}{block} ({DemoReport.Ms(watch.Elapsed)})",
                ("party", id), ("txid", txidText), ("vout", vout), ("satoshis", FaucetSatoshis), ("blockHeight", height),
                ("ms", watch.Elapsed));
        }

        return parties;
    }

    // Each minter issues an asset of its own (the demo's token transaction), admitted to tm_tokens and mined; its token
    // coin and its change coin, with the proven BEEF, are what it brings to the session.
    private async Task MintAsync(Dictionary<string, DemoParty> parties, CancellationToken ct)
    {
        if (_scenario.Minters.Count == 0)
        {
            return;
        }

        _step = "mint";
        var watch = Stopwatch.StartNew();
        (ulong feeSatoshis, ulong feeBytes) = await server.FeeRuleAsync(_step, ct);
        var mints = new List<(DemoParty Party, DemoTransaction Mint)>();
        foreach (string id in _scenario.Minters)
        {
            DemoParty party = parties[id];
            DemoCoin coin = party.Coins.Single();
            Beef funding = ReadBeef("the funding BEEF", coin.AtomicBeef);
            Transaction source = funding.Find(coin.OutPoint.TxId)!.Transaction!;
            DemoTransaction mint = DemoTransaction.Build(party.Key, funding, source, coin.OutPoint.Index, feeSatoshis, feeBytes);
            string txid = mint.Transaction.Id.ToDisplayHex();
            string status = await SubmitMintAsync(mint, ct);
            await report.WriteAsync(
                "minted",
                $"{(mints.Count == 0 ? Number() : "  ")} {id} mints {DemoTransaction.TokenAmount} units of asset "
                + $"{DemoReport.Short(mint.AssetId)}: transaction {txid} (fee {mint.Fee} sat), "
                + $"submitted to {TokenTopicManager.TopicName}: {status} ({DemoReport.Ms(watch.Elapsed)})",
                ("party", id), ("txid", txid), ("assetId", mint.AssetId), ("amount", DemoTransaction.TokenAmount), ("fee", mint.Fee),
                ("status", status), ("ms", watch.Elapsed));
            mints.Add((party, mint));
        }

        Dictionary<string, uint?> heights = await MineAsync([.. mints.Select(m => m.Mint.Transaction.Id.ToDisplayHex())], ct);
        foreach ((DemoParty party, DemoTransaction mint) in mints)
        {
            string txid = mint.Transaction.Id.ToDisplayHex();
            (Transaction tx, byte[] proven) = await ProvenAsync(txid, ct);
            party.Coins.Clear();
            party.Coins.Add(new DemoCoin(new OutPoint(tx.Id, 0), tx.Outputs[0], proven));
            party.Coins.Add(new DemoCoin(new OutPoint(tx.Id, 1), tx.Outputs[1], proven));
            party.AssetId = mint.AssetId;
            await report.WriteAsync(
                "mint-mined",
                $"   asset {DemoReport.Short(mint.AssetId)} of {party.Id} mined in block {heights[txid]}; "
                + $"its proven Atomic BEEF {proven.Length} bytes ({DemoReport.Ms(watch.Elapsed)})",
                ("party", party.Id), ("txid", txid), ("assetId", mint.AssetId), ("blockHeight", heights[txid]),
                ("beefBytes", proven.Length), ("ms", watch.Elapsed));
        }
    }

    /// <summary>A session from creation to mined: every party contributes and signs, and the transaction is broadcast and mined.</summary>
    private async Task<FinishedSession> CompleteAsync(SessionPlan plan, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        (string id, Transaction signed) = await CollectAndSignAsync(plan, Remaining(), withheld: null, watch, ct);
        string expected = signed.Id.ToDisplayHex();

        _step = "broadcast";
        JsonElement view = await WaitForSessionAsync(id, ["broadcasting", "completed"], ct);
        string txid = DemoServer.RequireText(_step, $"GET /v1/sessions/{id}", view, "txid");
        if (!string.Equals(txid, expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new DemoFailure(_step, DemoCodes.AnswerInvalid,
                $"session {id} broadcasts {txid}, not the transaction its parties signed ({expected})");
        }

        await report.WriteAsync("broadcasting",
            $"{Number()} status {_sessionStatus} (+{DemoReport.Ms(watch.Elapsed)}): transaction {txid}, every signature in",
            ("sessionId", id), ("status", _sessionStatus), ("txid", txid), ("ms", watch.Elapsed));
        await WaitBroadcastAsync(txid, ct);
        await report.WriteAsync("broadcast", $"   transaction broadcast (+{DemoReport.Ms(watch.Elapsed)})",
            ("txid", txid), ("ms", watch.Elapsed));
        Dictionary<string, uint?> heights = await MineAsync([txid], ct);
        await report.WriteAsync("mined", $"   transaction mined (+{DemoReport.Ms(watch.Elapsed)}): block {heights[txid]}",
            ("txid", txid), ("blockHeight", heights[txid]), ("ms", watch.Elapsed));

        _step = "complete";
        await WaitForSessionAsync(id, ["completed"], ct);
        await report.WriteAsync("completed", $"   status completed (+{DemoReport.Ms(watch.Elapsed)})",
            ("sessionId", id), ("status", "completed"), ("ms", watch.Elapsed));
        (Transaction tx, byte[] proven) = await ProvenAsync(txid, ct);
        _sessionId = null;
        return new FinishedSession(id, plan.Template, tx, heights[txid], proven);
    }

    /// <summary>
    /// A session one party never signs: it must abort at its (short) deadline with <see cref="SessionCodes.Deadline"/>,
    /// and the transaction the parties would have made must be nowhere.
    /// </summary>
    private async Task<int> WithheldAsync(SessionPlan plan, string party, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        (string id, Transaction signed) = await CollectAndSignAsync(plan, WithheldDeadline, party, watch, ct);

        _step = "abort";
        JsonElement view = await WaitForSessionAsync(id, ["aborted"], ct, expectAbort: true);
        string code = DemoServer.RequireText(_step, $"GET /v1/sessions/{id}", view, "code");
        string reason = DemoServer.Text(view, "reason") ?? "(no reason given)";
        await report.WriteAsync("aborted", $"{Number()} status aborted (+{DemoReport.Ms(watch.Elapsed)}): {code}: {reason}",
            ("sessionId", id), ("status", "aborted"), ("code", code), ("reason", reason), ("ms", watch.Elapsed));
        if (code != SessionCodes.Deadline)
        {
            throw new DemoFailure(_step, code,
                $"session {id} aborted with {code}, not {SessionCodes.Deadline} as a withheld signature should: {reason}");
        }

        if (DemoServer.Text(view, "txid") is string broadcast)
        {
            throw new DemoFailure(_step, DemoCodes.AnswerInvalid, $"session {id} aborted, yet it names a transaction, {broadcast}");
        }

        // Had everyone signed, the transaction would be this one (RFC 6979 signatures are deterministic): it must be unknown.
        string txid = signed.Id.ToDisplayHex();
        ServerAnswer tx = await server.GetAsync(_step, $"v1/tx/{txid}", ct);
        if (tx.Status != HttpStatusCode.NotFound)
        {
            throw new DemoFailure(_step, DemoCodes.AnswerInvalid, $"session {id} aborted, yet GET /v1/tx/{txid} answers {tx.Code}");
        }

        await report.WriteAsync("not-broadcast",
            $"   nothing broadcast: the session has no txid, and the gateway knows no transaction {txid} (404)",
            ("sessionId", id), ("txid", txid), ("found", false));
        await report.WriteAsync(
            "done",
            $"done: session {id} aborted with {code} as expected, {party} never having signed ({DemoReport.Ms(_total.Elapsed)} in all)",
            ("ok", true), ("scenario", _scenario.Name), ("sessionId", id), ("aborted", true), ("code", code), ("withheld", party),
            ("ms", _total.Elapsed));
        return ExitCodes.Valid;
    }
}
