using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using Atomic.Sessions;

namespace Atomic.Cli.Commands.Sessions;

// The session's own steps, as its parties take them: create, contribute, check the assembled transaction, sign.
internal sealed partial class SessionDemoRun
{
    private static readonly HashSet<string> SessionStatuses =
        new(StringComparer.Ordinal)
        {
            "collecting", "signing", "presigning", "broadcasting", "locked", "claiming", "refunding", "completed", "refunded", "aborted",
        };

    /// <summary>
    /// Creates the session, posts every contribution, waits for the assembled transaction, and posts every party's
    /// signatures but the withheld party's; answers the session's id and the transaction as it is once all have signed.
    /// </summary>
    private async Task<(string Id, Transaction Signed)> CollectAndSignAsync(
        SessionPlan plan, TimeSpan deadline, string? withheld, Stopwatch watch, CancellationToken ct)
    {
        string id = await CreateAsync(plan, deadline, watch, ct);
        _step = "contribute";
        string number = Number();
        foreach (PlannedContribution contribution in plan.Contributions)
        {
            await ContributeAsync(id, contribution, number, plan.Parties, ct);
            number = "  ";
        }

        _step = "assemble";
        JsonElement signing = await WaitForSessionAsync(id, ["signing"], ct);
        string what = $"GET /v1/sessions/{id}";
        Transaction unsigned;
        try
        {
            unsigned = Transaction.FromHex(DemoServer.RequireText(_step, what, signing, "unsignedTx"));
        }
        catch (FormatException e)
        {
            throw DemoServer.Invalid(_step, what, $"\"unsignedTx\" is not a transaction: {e.Message}");
        }

        List<SessionInput> inputs = ReadInputs(what, signing, unsigned);
        ulong fee = DemoServer.RequireUInt64(_step, what, signing, "fee");
        int size = unsigned.Size + inputs.Sum(i => SessionAssembler.UnlockingSizeOf(i.SourceLockingScript));
        await report.WriteAsync(
            "signing",
            $"{Number()} status signing (+{DemoReport.Ms(watch.Elapsed)}): assembled {Count(unsigned.Inputs.Count, "input")} and "
            + $"{Count(unsigned.Outputs.Count, "output")}, fee {fee} sat for at most {size} bytes signed at the server's rate; "
            + $"unsigned txid {unsigned.Id}",
            ("sessionId", id), ("status", "signing"), ("unsignedTxid", unsigned.Id.ToDisplayHex()), ("inputs", unsigned.Inputs.Count),
            ("outputs", unsigned.Outputs.Count), ("fee", fee), ("ms", watch.Elapsed));

        _step = "sign";
        number = Number();
        var scripts = new List<(int Index, Script Unlocking)>();
        foreach (PlannedContribution contribution in plan.Contributions)
        {
            var own = inputs.Where(i => i.Party == contribution.Party.Id).ToList();
            if (own.Count == 0)
            {
                continue;
            }

            CheckAssembly(unsigned, own, contribution);
            // A withheld party's signatures are made too, never sent: they give the txid the transaction would have had.
            var signatures = own.Select(i => (i.Index, Unlocking: Sign(unsigned, i, contribution))).ToList();
            scripts.AddRange(signatures);
            string party = contribution.Party.Id;
            string indexes = $"{Plural(own.Count, "input")} {string.Join(", ", own.Select(i => i.Index))}";
            if (party == withheld)
            {
                string seconds = deadline.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
                await report.WriteAsync("withheld", $"{number} {party} withholds its signature of {indexes} (--withhold): "
                    + $"the session waits for it until its deadline, {seconds} s after it was created",
                    ("sessionId", id), ("party", party), ("inputs", own.Count));
            }
            else
            {
                var one = Stopwatch.StartNew();
                await PartyPostAsync($"v1/sessions/{id}/signatures", contribution.Party, new
                {
                    party,
                    inputs = signatures.Select(s => new { index = s.Index, unlockingScript = s.Unlocking.ToHex() }),
                }, ct);
                string by = contribution.Signers.Count == 1
                    ? string.Empty
                    : $" with {string.Join(" and ", contribution.Signers.Select(s => $"{s.Id}'s"))} signatures (OP_0 <sig> <sig>)";
                await report.WriteAsync("signed",
                    $"{number} {party} checked the transaction and signed {indexes}{by} ({DemoReport.Ms(one.Elapsed)})",
                    ("sessionId", id), ("party", party), ("inputs", own.Select(Fields).ToList()),
                    ("signers", contribution.Signers.Select(s => s.Id)), ("ms", one.Elapsed));
            }

            number = "  ";
        }

        return (id, SessionSigning.WithUnlocking(unsigned, scripts));

        static IReadOnlyList<(string, object?)> Fields(SessionInput input) =>
            [("index", input.Index), ("kind", PartySigning.KindOf(input.SourceLockingScript))];
    }

    // POST /v1/sessions: the template, the parties with their identity keys, the terms and the deadline.
    private async Task<string> CreateAsync(SessionPlan plan, TimeSpan deadline, Stopwatch watch, CancellationToken ct)
    {
        _step = "create";
        const string What = "POST /v1/sessions";
        long seconds = Math.Max(1, (long)Math.Ceiling(deadline.TotalSeconds));
        ServerAnswer answer = await server.PostJsonAsync(_step, "v1/sessions", new
        {
            template = plan.Template,
            parties = plan.Parties.Select(p => new { id = p.Id, identityKey = p.Key.PublicKey.ToHex() }),
            terms = plan.Terms,
            deadlineSeconds = seconds,
        }, ct);
        JsonElement body = DemoServer.ExpectObject(_step, What, answer, HttpStatusCode.Created);
        string id = DemoServer.RequireText(_step, What, body, "sessionId");
        _sessionId = id;
        _sessionStatus = DemoServer.Text(body, "status");
        string parties = string.Join(", ", plan.Parties.Select(p => p.Id));
        await report.WriteAsync(
            "created",
            $"{Number()} {plan.Template} session {id} created: {plan.Title}; parties {parties}, "
            + $"deadline in {seconds} s ({DemoReport.Ms(watch.Elapsed)})",
            ("sessionId", id), ("template", plan.Template), ("status", _sessionStatus), ("parties", plan.Parties.Select(p => p.Id)),
            ("deadlineSeconds", seconds), ("ms", watch.Elapsed));
        if (plan.Note is string note)
        {
            await report.WriteAsync("note", $"   {note}", ("sessionId", id), ("note", note));
        }

        return id;
    }

    // POST /v1/sessions/{id}/contributions: the party's inputs with their Atomic BEEFs, its outputs and its change.
    private async Task ContributeAsync(
        string id, PlannedContribution contribution, string number, IReadOnlyList<DemoParty> parties, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        string party = contribution.Party.Id;
        await PartyPostAsync($"v1/sessions/{id}/contributions", contribution.Party, new
        {
            party,
            inputs = contribution.Inputs.Select(c => new { beef = Hex.Encode(c.AtomicBeef), outputIndex = c.OutPoint.Index }),
            outputs = contribution.Outputs.Select(o => new { lockingScript = o.LockingScript.ToHex(), satoshis = o.Satoshis }),
            change = contribution.Change.ToHex(),
        }, ct);

        ulong satoshis = contribution.Inputs.Aggregate(0UL, (sum, c) => sum + c.Output.Satoshis);
        string tokens = string.Concat(contribution.Inputs
            .Select(c => TokenTopicManager.Read(c.Output.LockingScript, c.OutPoint)).OfType<Token>()
            .Select(t => $"{t.Amount} units of asset {DemoReport.Short(t.AssetId)} and "));
        string outputs = contribution.Outputs.Count == 0
            ? "none"
            : string.Join(", ", contribution.Outputs.Select(o => Describe(o, parties)));
        await report.WriteAsync(
            "contributed",
            $"{number} {party} contributed {Count(contribution.Inputs.Count, "input")} ({tokens}{satoshis} sat); outputs: {outputs}; "
            + $"change to {party} ({DemoReport.Ms(watch.Elapsed)})",
            ("sessionId", id), ("party", party), ("inputs", contribution.Inputs.Count), ("outputs", contribution.Outputs.Count),
            ("satoshis", satoshis), ("ms", watch.Elapsed));
    }

    /// <summary>A party's request: the JSON body signed by its key (<c>X-Party-Signature</c>), answered 202.</summary>
    private async Task PartyPostAsync(string path, DemoParty party, object body, CancellationToken ct)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(body);
        var request = new HttpRequestMessage(HttpMethod.Post, server.At(path)) { Content = new ByteArrayContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("X-Party-Signature", SessionSigning.SignRequest(party.Key, json));
        DemoServer.ExpectObject(_step, $"POST /{path} as {party.Id}", await server.SendAsync(_step, request, ct), HttpStatusCode.Accepted);
    }

    /// <summary>
    /// GET /v1/sessions/{id} until its status is one of <paramref name="wanted"/>; an abort not wanted is the failure its
    /// code names.
    /// </summary>
    private async Task<JsonElement> WaitForSessionAsync(string id, string[] wanted, CancellationToken ct, bool expectAbort = false)
    {
        string what = $"GET /v1/sessions/{id}";
        while (true)
        {
            ServerAnswer answer = await server.GetAsync(_step, $"v1/sessions/{id}", ct);
            JsonElement view = DemoServer.ExpectObject(_step, what, answer, HttpStatusCode.OK);
            string status = DemoServer.RequireText(_step, what, view, "status");
            if (!SessionStatuses.Contains(status))
            {
                throw DemoServer.Invalid(_step, what, $"unknown status '{status}'");
            }

            _sessionStatus = status;
            if (wanted.Contains(status))
            {
                return view;
            }

            if (status == "aborted")
            {
                string code = DemoServer.Text(view, "code") ?? "UNKNOWN";
                throw new DemoFailure(_step, code, $"session {id} aborted: {DemoServer.Text(view, "reason") ?? "(no reason given)"}");
            }

            if (expectAbort && status is "broadcasting" or "completed")
            {
                throw new DemoFailure(_step, DemoCodes.AnswerInvalid, $"session {id} is {status} without {settings.Withhold}'s signature");
            }

            await Task.Delay(settings.PollInterval, ct);
        }
    }

    /// <summary>The session's inputs as the server lists them, each an input of the unsigned transaction.</summary>
    private List<SessionInput> ReadInputs(string what, JsonElement view, Transaction unsigned)
    {
        if (!view.TryGetProperty("inputs", out JsonElement inputs) || inputs.ValueKind != JsonValueKind.Array
            || inputs.GetArrayLength() != unsigned.Inputs.Count)
        {
            throw DemoServer.Invalid(_step, what, $"\"inputs\" does not list the {unsigned.Inputs.Count} inputs of the transaction");
        }

        var read = new List<SessionInput>(unsigned.Inputs.Count);
        foreach (JsonElement input in inputs.EnumerateArray())
        {
            ulong index = DemoServer.RequireUInt64(_step, what, input, "index");
            string party = DemoServer.RequireText(_step, what, input, "party");
            ulong satoshis = DemoServer.RequireUInt64(_step, what, input, "sourceSatoshis");
            string locking = DemoServer.RequireText(_step, what, input, "sourceLockingScript");
            if (index >= (ulong)unsigned.Inputs.Count || !Hex.TryDecode(locking, out byte[] script))
            {
                throw DemoServer.Invalid(_step, what, $"input {index} is not in the transaction, or its sourceLockingScript is not hex");
            }

            read.Add(new SessionInput((int)index, party, satoshis, new Script(script)));
        }

        return read;
    }

    /// <summary>
    /// What a party checks before it signs: its inputs are exactly its coins, at the amounts and scripts it knows, and
    /// every output it asked for is in the transaction (SIGHASH_ALL signs them all).
    /// </summary>
    private void CheckAssembly(Transaction unsigned, IReadOnlyList<SessionInput> own, PlannedContribution contribution)
    {
        string party = contribution.Party.Id;
        var coins = contribution.Inputs.ToDictionary(c => c.OutPoint);
        foreach (SessionInput input in own)
        {
            OutPoint spent = unsigned.Inputs[input.Index].PrevOut;
            if (!coins.Remove(spent, out DemoCoin? coin) || coin.Output != new TxOutput(input.SourceSatoshis, input.SourceLockingScript))
            {
                throw new DemoFailure(_step, DemoCodes.AnswerInvalid,
                    $"input {input.Index} is listed as {party}'s but spends {spent}, not a coin {party} gave: {party} does not sign");
            }
        }

        if (coins.Count > 0)
        {
            throw new DemoFailure(_step, DemoCodes.AnswerInvalid,
                $"the transaction leaves out {party}'s coin {coins.Keys.First()}: {party} does not sign");
        }

        List<TxOutput> outputs = [.. unsigned.Outputs];
        foreach (TxOutput wanted in contribution.Outputs)
        {
            if (!outputs.Remove(wanted))
            {
                throw new DemoFailure(_step, DemoCodes.AnswerInvalid,
                    $"the transaction lacks {party}'s output of {wanted.Satoshis} sat to "
                    + $"{DemoReport.Short(wanted.LockingScript.ToHex())}: {party} does not sign");
            }
        }
    }

    /// <summary>The party's unlocking script for one input, checked by our interpreter as the server will check it.</summary>
    private Script Sign(Transaction unsigned, SessionInput input, PlannedContribution contribution)
    {
        var source = new TxOutput(input.SourceSatoshis, input.SourceLockingScript);
        Script unlocking = PartySigning.Unlock(unsigned, input.Index, source, contribution.Signers);
        ScriptResult check = SessionSigning.Check(unsigned, input, unlocking);
        return check.IsSuccess
            ? unlocking
            : throw new DemoFailure(_step, ReasonCodes.ScriptFailed,
                $"{contribution.Party.Id}'s own signature of input {input.Index} does not verify: {check}");
    }

    /// <summary>An output in a few words: a token and its owner, a payment and its payee, the escrow, or the documents' hash.</summary>
    private static string Describe(TxOutput output, IReadOnlyList<DemoParty> parties)
    {
        if (TokenTopicManager.Read(output.LockingScript, default) is Token token)
        {
            string owner = parties.FirstOrDefault(p => p.Key.PublicKey.Equals(token.Owner))?.Id ?? DemoReport.Short(token.Owner.ToHex());
            return $"{token.Amount} units of asset {DemoReport.Short(token.AssetId)} to {owner}";
        }

        if (parties.FirstOrDefault(p => p.P2pkh.Equals(output.LockingScript)) is DemoParty payee)
        {
            return $"{output.Satoshis} sat to {payee.Id}";
        }

        ReadOnlySpan<byte> script = output.LockingScript.Span;
        if (script.Length > 3 && script[0] == (byte)OpCode.OP_0 && script[1] == (byte)OpCode.OP_RETURN)
        {
            return $"the documents' SHA-256 {DemoReport.Short(Hex.Encode(script[3..]))} (OP_FALSE OP_RETURN, {output.Satoshis} sat)";
        }

        if (script.Length > 2 && script[0] == (byte)OpCode.OP_IF && script[1] == (byte)OpCode.OP_SIZE)
        {
            return $"{output.Satoshis} sat locked by the bridge's hash lock";
        }

        return PartySigning.KindOf(output.LockingScript) == "multisig"
            ? $"{output.Satoshis} sat locked in the 2-of-3 escrow"
            : $"{output.Satoshis} sat to the script {DemoReport.Short(output.LockingScript.ToHex())}";
    }
}
