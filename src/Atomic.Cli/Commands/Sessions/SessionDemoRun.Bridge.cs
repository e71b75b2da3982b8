using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Sessions;
using Atomic.Sessions.Templates;

namespace Atomic.Cli.Commands.Sessions;

// A bridge's steps once its funding is signed: the refund and the claim signed before the funding goes, the lock mined,
// then the secret and the claim, or the deadline and the refund.
internal sealed partial class SessionDemoRun
{
    /// <summary>The spends of a bridge's lock as the session lists them, each checked by the party it pays.</summary>
    private sealed record BridgeSpendsView(TxOutput Locked, Transaction Refund, Transaction Claim, uint LockTime);

    /// <summary>
    /// A bridge from creation to its claim (the counterparty posts the secret) or, when <paramref name="withheld"/>
    /// names a party, to its refund at the deadline: the dev chain refuses the refund until its nLockTime is final, so the
    /// demo mines empty blocks until the chain's median time past passes it.
    /// </summary>
    private async Task<int> BridgeAsync(SessionPlan plan, string? withheld, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        DemoParty initiator = plan.Parties[0], counterparty = plan.Parties[1];
        TimeSpan deadline = withheld is null ? Remaining() : BridgeScenario.RefundDeadline;
        (string id, Transaction funding) = await CollectAndSignAsync(plan, deadline, withheld: null, watch, ct);

        _step = "presign";
        BridgeSpendsView spends = await PresignAsync(id, funding, initiator, counterparty, watch, ct);

        _step = "lock";
        string fundingTxid = funding.Id.ToDisplayHex();
        JsonElement view = await WaitForSessionAsync(id, ["broadcasting", "locked"], ct);
        if (DemoServer.Text(view, "txid") is not string txid || !string.Equals(txid, fundingTxid, StringComparison.OrdinalIgnoreCase))
        {
            throw DemoServer.Invalid(_step, $"GET /v1/sessions/{id}",
                $"the session broadcasts {DemoServer.Text(view, "txid")}, not the funding {fundingTxid}");
        }

        await report.WriteAsync("broadcasting",
            $"{Number()} status {_sessionStatus} (+{DemoReport.Ms(watch.Elapsed)}): the funding {fundingTxid} goes, "
            + "every spend of its lock signed",
            ("sessionId", id), ("status", _sessionStatus), ("txid", fundingTxid), ("ms", watch.Elapsed));
        Dictionary<string, uint?> heights = await MineAsync([fundingTxid], ct);
        await WaitForSessionAsync(id, ["locked"], ct);
        await report.WriteAsync("locked",
            $"   status locked (+{DemoReport.Ms(watch.Elapsed)}): {spends.Locked.Satoshis} sat locked in block {heights[fundingTxid]}; "
            + $"the session waits for the secret until the deadline",
            ("sessionId", id), ("status", "locked"), ("txid", fundingTxid), ("blockHeight", heights[fundingTxid]), ("ms", watch.Elapsed));

        return withheld is null
            ? await ClaimAsync(id, plan.Secret!, spends, counterparty, watch, ct)
            : await RefundedAsync(id, spends, withheld, deadline, watch, ct);
    }

    /// <summary>
    /// GET the spends once presigning: the initiator checks the refund (it spends the lock of the funding it signed, after
    /// the deadline, back to it) and signs it; the counterparty checks both and signs both.
    /// </summary>
    private async Task<BridgeSpendsView> PresignAsync(
        string id, Transaction funding, DemoParty initiator, DemoParty counterparty, Stopwatch watch, CancellationToken ct)
    {
        string what = $"GET /v1/sessions/{id}";
        JsonElement view = await WaitForSessionAsync(id, ["presigning"], ct);
        if (!view.TryGetProperty("bridge", out JsonElement bridge) || bridge.ValueKind != JsonValueKind.Object)
        {
            throw DemoServer.Invalid(_step, what, "a bridge in presigning lists its spends in \"bridge\"");
        }

        BridgeSpendsView spends;
        try
        {
            spends = new BridgeSpendsView(
                new TxOutput(
                    DemoServer.RequireUInt64(_step, what, bridge, "satoshis"),
                    Script.FromHex(DemoServer.RequireText(_step, what, bridge, "lockingScript"))),
                Transaction.FromHex(DemoServer.RequireText(_step, what, bridge, "refundTx")),
                Transaction.FromHex(DemoServer.RequireText(_step, what, bridge, "claimTx")),
                (uint)DemoServer.RequireUInt64(_step, what, bridge, "lockTime"));
        }
        catch (FormatException e)
        {
            throw DemoServer.Invalid(_step, what, $"the bridge's spends cannot be read: {e.Message}");
        }

        int vout = funding.Outputs.ToList().IndexOf(spends.Locked);
        var lockPoint = new OutPoint(funding.Id, (uint)Math.Max(vout, 0));
        CheckSpend(vout >= 0, "the funding the initiator signed has no output of the listed lock");
        CheckSpend(Spends(spends.Refund, lockPoint) && spends.Refund.Inputs[0].Sequence != TxInput.FinalSequence
            && spends.Refund.LockTime == spends.LockTime && Pays(spends.Refund, initiator),
            "the refund does not spend the lock, time-locked, to the initiator alone: the initiator does not sign");
        CheckSpend(Spends(spends.Claim, lockPoint) && Pays(spends.Claim, counterparty),
            "the claim does not spend the lock to the counterparty alone: the counterparty does not sign");
        string lockTime = DateTimeOffset.FromUnixTimeSeconds(spends.LockTime).UtcDateTime
            .ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        await report.WriteAsync("presigning",
            $"{Number()} status presigning (+{DemoReport.Ms(watch.Elapsed)}): the funding {funding.Id} is signed and held; "
            + $"the refund pays {spends.Refund.Outputs[0].Satoshis} sat back to the initiator once final (nLockTime {spends.LockTime} = "
            + $"{lockTime}, the deadline), the claim {spends.Claim.Outputs[0].Satoshis} sat to the counterparty with the secret",
            ("sessionId", id), ("status", "presigning"), ("fundingTxid", funding.Id.ToDisplayHex()), ("lockTime", spends.LockTime),
            ("refundSatoshis", spends.Refund.Outputs[0].Satoshis), ("claimSatoshis", spends.Claim.Outputs[0].Satoshis),
            ("ms", watch.Elapsed));

        var one = Stopwatch.StartNew();
        await PartyPostAsync($"v1/sessions/{id}/signatures", initiator, new
        {
            party = initiator.Id,
            sessionId = id,
            refund = Hex.Encode(SpendSignature(spends.Refund, spends.Locked, initiator)),
        }, ct);
        await report.WriteAsync("signed", $"   initiator checked the refund and signed it ({DemoReport.Ms(one.Elapsed)})",
            ("sessionId", id), ("party", initiator.Id), ("spends", new[] { "refund" }), ("ms", one.Elapsed));
        one.Restart();
        await PartyPostAsync($"v1/sessions/{id}/signatures", counterparty, new
        {
            party = counterparty.Id,
            sessionId = id,
            refund = Hex.Encode(SpendSignature(spends.Refund, spends.Locked, counterparty)),
            claim = Hex.Encode(SpendSignature(spends.Claim, spends.Locked, counterparty)),
        }, ct);
        await report.WriteAsync("signed",
            $"   counterparty checked the refund and the claim and signed both ({DemoReport.Ms(one.Elapsed)})",
            ("sessionId", id), ("party", counterparty.Id), ("spends", new[] { "refund", "claim" }), ("ms", one.Elapsed));
        return spends;

        void CheckSpend(bool ok, string problem)
        {
            if (!ok)
            {
                throw new DemoFailure(_step, DemoCodes.AnswerInvalid, problem);
            }
        }

        static bool Spends(Transaction spend, OutPoint from) => spend.Inputs.Count == 1 && spend.Inputs[0].PrevOut == from;

        static bool Pays(Transaction spend, DemoParty to) => spend.Outputs.Count == 1 && spend.Outputs[0].LockingScript.Equals(to.P2pkh);
    }

    /// <summary>The counterparty posts the secret; the session claims, and the claim is mined.</summary>
    private async Task<int> ClaimAsync(
        string id, byte[] secret, BridgeSpendsView spends, DemoParty counterparty, Stopwatch watch, CancellationToken ct)
    {
        _step = "reveal";
        await report.WriteAsync("reveal",
            $"{Number()} the initiator reveals the secret on the other chain as it claims there (not played here); "
            + $"the counterparty, having seen it, posts it to /v1/sessions/{id}/events/secret-revealed",
            ("sessionId", id), ("party", counterparty.Id));
        await PartyPostAsync($"v1/sessions/{id}/events/secret-revealed", counterparty,
            new { party = counterparty.Id, sessionId = id, preimage = Hex.Encode(secret) }, ct);

        _step = "claim";
        Transaction claim = SessionSigning.WithUnlocking(spends.Claim,
            [(0, BridgeTemplate.ClaimUnlocking(SpendSignature(spends.Claim, spends.Locked, counterparty), secret))]);
        string claimTxid = claim.Id.ToDisplayHex();
        JsonElement view = await WaitForSessionAsync(id, ["claiming", "completed"], ct);
        string listed = BridgeText(view, id, "claimTxid");
        if (!string.Equals(listed, claimTxid, StringComparison.OrdinalIgnoreCase))
        {
            throw new DemoFailure(_step, DemoCodes.AnswerInvalid,
                $"session {id} claims with {listed}, not the claim the counterparty signed ({claimTxid})");
        }

        await report.WriteAsync("claiming",
            $"   status {_sessionStatus} (+{DemoReport.Ms(watch.Elapsed)}): claim {claimTxid}, the secret in its unlocking script",
            ("sessionId", id), ("status", _sessionStatus), ("txid", claimTxid), ("ms", watch.Elapsed));
        Dictionary<string, uint?> heights = await MineAsync([claimTxid], ct);
        await WaitForSessionAsync(id, ["completed"], ct);
        await report.WriteAsync("completed", $"   status completed (+{DemoReport.Ms(watch.Elapsed)})",
            ("sessionId", id), ("status", "completed"), ("ms", watch.Elapsed));
        await report.WriteAsync(
            "done",
            $"done: bridge claim {claimTxid} mined in block {heights[claimTxid]}: {claim.Outputs[0].Satoshis} sat to the counterparty "
            + $"({DemoReport.Ms(_total.Elapsed)} in all)",
            ("ok", true), ("scenario", _scenario.Name), ("sessionId", id), ("outcome", "claimed"), ("txid", claimTxid),
            ("blockHeight", heights[claimTxid]), ("ms", _total.Elapsed));
        return ExitCodes.Valid;
    }

    /// <summary>
    /// No secret: at the deadline the session offers the refund, which the dev chain refuses until its median time past
    /// passes the nLockTime; the demo mines empty blocks meanwhile, then the refund itself.
    /// </summary>
    private async Task<int> RefundedAsync(
        string id, BridgeSpendsView spends, string withheld, TimeSpan deadline, Stopwatch watch, CancellationToken ct)
    {
        _step = "refund";
        string seconds = deadline.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
        await report.WriteAsync("withheld",
            $"{Number()} {withheld} keeps the secret back (--withhold): the session waits for it until its deadline, {seconds} s after "
            + "it was created, then broadcasts the refund",
            ("sessionId", id), ("party", withheld));
        JsonElement view = await WaitForSessionAsync(id, ["refunding", "refunded"], ct);
        string refundTxid = BridgeText(view, id, "refundTxid");
        string? deadlineCode = DemoServer.Text(view, "code");
        await report.WriteAsync("refunding",
            $"   status {_sessionStatus} (+{DemoReport.Ms(watch.Elapsed)}): {deadlineCode}, the deadline passed without the secret; "
            + $"the session offers the refund {refundTxid}",
            ("sessionId", id), ("status", _sessionStatus), ("code", deadlineCode), ("txid", refundTxid), ("ms", watch.Elapsed));

        int blocks = 0;
        bool refused = false;
        while ((await TxAsync(refundTxid, "broadcast", 1, ct)).Status is not ("broadcast" or "mined"))
        {
            ServerAnswer answer = await server.GetAsync(_step, $"v1/sessions/{id}", ct);
            string? reason = DemoServer.Text(DemoServer.ExpectObject(_step, $"GET /v1/sessions/{id}", answer, HttpStatusCode.OK), "reason");
            if (reason?.Contains("bad-txns-nonfinal", StringComparison.Ordinal) == true)
            {
                if (!refused)
                {
                    refused = true;
                    string why = reason[(reason.IndexOf("waits: ", StringComparison.Ordinal) is int at and >= 0 ? at + 7 : 0)..];
                    await report.WriteAsync("refused", $"   the dev chain refuses the refund until its nLockTime is final: {why}",
                        ("sessionId", id), ("txid", refundTxid), ("reason", reason));
                }

                // Each block's time is above its parent's: a few blocks move the median of the last eleven past the lock time.
                ServerAnswer mined = await server.SendAsync(_step, new HttpRequestMessage(HttpMethod.Post, server.At("arc/v1/mine")), ct);
                DemoServer.ExpectObject(_step, "POST /arc/v1/mine", mined, HttpStatusCode.OK);
                blocks++;
            }

            await Task.Delay(settings.PollInterval, ct);
        }

        await report.WriteAsync("refund-taken", refused
            ? $"   asked the dev chain to mine {Count(blocks, "empty block")} until its median time past passed the lock time: "
                + $"the refund is taken (+{DemoReport.Ms(watch.Elapsed)})"
            : "   the dev chain took the refund at once: its median time past was past the lock time already "
                + $"(+{DemoReport.Ms(watch.Elapsed)})",
            ("sessionId", id), ("txid", refundTxid), ("refused", refused), ("blocks", blocks), ("ms", watch.Elapsed));
        Dictionary<string, uint?> heights = await MineAsync([refundTxid], ct);
        view = await WaitForSessionAsync(id, ["refunded"], ct);
        string code = DemoServer.Text(view, "code") ?? "(no code)";
        await report.WriteAsync("refunded",
            $"   status refunded (+{DemoReport.Ms(watch.Elapsed)}): {code}: {DemoServer.Text(view, "reason")}",
            ("sessionId", id), ("status", "refunded"), ("code", code), ("ms", watch.Elapsed));
        if (code != SessionCodes.Deadline)
        {
            throw new DemoFailure(_step, code, $"session {id} refunded with {code}, not {SessionCodes.Deadline}");
        }

        await report.WriteAsync(
            "done",
            $"done: bridge refund {refundTxid} mined in block {heights[refundTxid]}: {spends.Refund.Outputs[0].Satoshis} sat back to the "
            + $"initiator, the session refunded with {code} as expected, {withheld} having kept the secret back "
            + $"({DemoReport.Ms(_total.Elapsed)} in all)",
            ("ok", true), ("scenario", _scenario.Name), ("sessionId", id), ("outcome", "refunded"), ("txid", refundTxid),
            ("blockHeight", heights[refundTxid]), ("code", code), ("withheld", withheld), ("ms", _total.Elapsed));
        return ExitCodes.Valid;
    }

    /// <summary>A party's signature of a spend of the lock, checked as the server will check it: DER and SIGHASH_ALL|FORKID.</summary>
    private byte[] SpendSignature(Transaction spend, TxOutput locked, DemoParty signer)
    {
        byte[] signature = PartySigning.Signature(spend, 0, locked, signer);
        SessionCheck check = SessionSigning.CheckSignature(spend, 0, locked, signer.Key.PublicKey, signature);
        return check.IsOk
            ? signature
            : throw new DemoFailure(_step, ReasonCodes.ScriptFailed, $"{signer.Id}'s own signature of {spend.Id} does not verify: {check}");
    }

    private string BridgeText(JsonElement view, string id, string name) =>
        view.TryGetProperty("bridge", out JsonElement bridge) && bridge.ValueKind == JsonValueKind.Object
            ? DemoServer.RequireText(_step, $"GET /v1/sessions/{id}", bridge, name)
            : throw DemoServer.Invalid(_step, $"GET /v1/sessions/{id}", "a bridge lists its spends in \"bridge\"");
}
