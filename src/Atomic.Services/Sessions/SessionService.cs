using System.Diagnostics;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using Atomic.Services.Broadcaster;
using Atomic.Services.Contracts;
using Atomic.Services.Pipeline;
using Atomic.Sessions;
using Atomic.Sessions.Templates;
using Dapr.Actors;
using Dapr.Actors.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Sessions;

/// <summary>
/// The moves of a session, shared by its HTTP API (parties add contributions and signatures) and its workflow's
/// activities (assemble, finish and submit, follow the transaction, abort). Every move is an ETag-guarded change of the
/// session document, allowed only from the status it starts from, so a repeated activity or a racing request changes
/// nothing twice.
/// </summary>
public sealed partial class SessionService(
    SessionStore store, SessionTemplates templates, SpvVerifier spv, TxRecords records, EventPublisher events,
    ArcClient arc, BroadcasterOptions broadcaster, IActorProxyFactory actors, SessionBaskets baskets, IOptions<SessionsOptions> options, ILogger<SessionService> logger)
{
    /// <summary>The route submissions of finished sessions are counted under.</summary>
    public const string Route = "/v1/sessions";

    public SessionStore Store => store;

    public SessionTemplates Templates => templates;

    public SessionsOptions Options => options.Value;

    public static SessionSetup Setup(SessionDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new SessionSetup(document.Template, [.. document.Parties.Select(p => new Party(p.Id, PublicKey.FromHex(p.IdentityKey)))], document.Terms);
    }

    /// <summary>Reads a contribution as sent: its BEEFs parsed (not verified), its scripts decoded.</summary>
    public Contribution Parse(ContributionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        IReadOnlyList<InputRequest> inputs = request.Inputs ?? [];
        IReadOnlyList<OutputRequest> outputs = request.Outputs ?? [];
        if (inputs.Count > Options.MaxInputsPerParty || outputs.Count > Options.MaxOutputsPerParty)
        {
            throw new SessionException(SessionCodes.ContributionInvalid, $"a contribution has at most {Options.MaxInputsPerParty} inputs and {Options.MaxOutputsPerParty} outputs");
        }

        var read = new List<ContributedInput>(inputs.Count);
        foreach (InputRequest input in inputs)
        {
            if (input.Beef is null || !Hex.TryDecode(input.Beef, out byte[] beef))
            {
                throw new SessionException(SessionCodes.ContributionInvalid, "every input needs its source transaction's Atomic BEEF as hex (beef)");
            }

            read.Add(SessionSigning.ReadInput(beef, input.OutputIndex));
        }

        var written = new List<TxOutput>(outputs.Count);
        foreach (OutputRequest output in outputs)
        {
            written.Add(new TxOutput(output.Satoshis, Script(output.LockingScript, "an output's lockingScript")));
        }

        return new Contribution(request.Party ?? string.Empty, read, written, Script(request.Change, "change"));
    }

    private static Script Script(string? hex, string what) =>
        hex is { Length: > 0 } && Hex.TryDecode(hex, out byte[] bytes)
            ? new Script(bytes)
            : throw new SessionException(SessionCodes.ContributionInvalid, $"{what} must be a locking script in hex");

    /// <summary>SPV for every input's BEEF: the first failure's code and reason, or success.</summary>
    public async Task<SessionCheck> VerifyInputsAsync(ContributionRequest request, CancellationToken cancellationToken)
    {
        foreach (InputRequest input in request.Inputs ?? [])
        {
            SpvResult result;
            try
            {
                result = await spv.VerifyAsync(Hex.Decode(input.Beef!), cancellationToken).ConfigureAwait(false);
            }
            catch (BsvFormatException e)
            {
                return SessionCheck.Refuse(e.Code, e.Message);
            }

            if (!result.IsValid)
            {
                return SessionCheck.Refuse(result.Code ?? ReasonCodes.BeefMalformed, $"an input's BEEF fails SPV: {result.Reason}");
            }
        }

        return SessionCheck.Ok;
    }

    /// <summary>
    /// Every input shaped like a <c>tm_tokens</c> coin must be one the topic admitted and nobody has spent: a script of
    /// the right shape proves nothing (anyone can write one), and a counterfeit coin would make the topic admit none of
    /// the asset's outputs. Asked of the <c>TopicManager</c> actor's <c>ls_tokens</c> lookup.
    /// </summary>
    public async Task<SessionCheck> CheckTokenCoinsAsync(Contribution contribution, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        foreach (ContributedInput input in contribution.Inputs)
        {
            if (TokenTopicManager.Read(input.Source.LockingScript, input.OutPoint) is not Token token)
            {
                continue;
            }

            string txid = input.OutPoint.TxId.ToDisplayHex();
            LookupOutput? coin = await FindTokenCoinAsync(token, input.OutPoint, cancellationToken).ConfigureAwait(false);

            // The topic admits a verified transaction on its own delivery, independently of the broadcast: a coin whose
            // transaction the pipeline holds for tm_tokens, and has not refused, may be seen mined before it is admitted.
            var admission = Stopwatch.StartNew();
            while (coin is null && admission.Elapsed < AdmissionWait
                && (await records.GetAsync(txid, cancellationToken).ConfigureAwait(false))?.Record is { } record
                && record.Topics.Contains(TokenTopicManager.TopicName) && record.Status is not (TxStatus.Rejected or TxStatus.Failed))
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                coin = await FindTokenCoinAsync(token, input.OutPoint, cancellationToken).ConfigureAwait(false);
            }

            if (coin is null || coin.SpentBy is not null)
            {
                return SessionCheck.Refuse(SessionCodes.ContributionInvalid, coin is null
                    ? $"{txid}.{input.OutPoint.Index} is no unspent coin of tm_tokens (never admitted, or spent): its units of {token.AssetId} would not be recognised"
                    : $"{txid}.{input.OutPoint.Index} was spent by {coin.SpentBy}");
            }
        }

        return SessionCheck.Ok;
    }

    /// <summary>How long a contribution waits for <c>tm_tokens</c> to admit a coin the pipeline holds for it.</summary>
    public static readonly TimeSpan AdmissionWait = TimeSpan.FromSeconds(10);

    private async Task<LookupOutput?> FindTokenCoinAsync(Token token, OutPoint outPoint, CancellationToken cancellationToken)
    {
        string txid = outPoint.TxId.ToDisplayHex();
        ITopicManager manager = actors.CreateActorProxy<ITopicManager>(new ActorId(TokenTopicManager.TopicName), ITopicManager.TypeName);
        using JsonDocument query = JsonDocument.Parse(JsonSerializer.Serialize(new { assetId = token.AssetId, owner = token.Owner.ToHex() }));
        LookupResult found = await manager.Lookup(new LookupRequest(TokenLookupService.ServiceName, query.RootElement.Clone(), 10_000)).WaitAsync(cancellationToken).ConfigureAwait(false);
        return found.Outputs.FirstOrDefault(o => o.TxId == txid && o.OutputIndex == (int)outPoint.Index);
    }

    /// <summary>
    /// The activity's step: assembles once every contribution is in, finishes and submits once every signature is, and
    /// follows the submitted transaction to mined (completed) or to its end (aborted). Answers the status it left.
    /// </summary>
    public async Task<SessionStatus> AdvanceAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        if (await store.GetAsync(sessionId, cancellationToken).ConfigureAwait(false) is not var (document, _))
        {
            throw new InvalidOperationException($"no session {sessionId}");
        }

        ISessionTemplate template = templates.Find(document.Template) ?? throw new InvalidOperationException($"session {sessionId} has unknown template {document.Template}");
        SessionSetup setup = Setup(document);
        if (document.Status == SessionStatus.Collecting)
        {
            Contribution[] contributions = [.. document.Contributions.Select(Parse)];
            if (!template.IsComplete(setup, contributions))
            {
                return SessionStatus.Collecting;
            }

            AssembledSession assembled;
            try
            {
                ulong rate = await FeeRateAsync(cancellationToken).ConfigureAwait(false);
                assembled = SessionAssembler.Assemble(setup, contributions, rate);
            }
            catch (SessionException e)
            {
                return await AbortAsync(sessionId, e.Code, e.Message, cancellationToken).ConfigureAwait(false);
            }

            int contributed = document.Contributions.Count;
            document = await store.ChangeAsync(sessionId, d => d.Status == SessionStatus.Collecting && d.Contributions.Count == contributed
                ? d with
                {
                    Status = SessionStatus.Signing,
                    UnsignedTx = assembled.Unsigned.ToHex(),
                    Inputs = [.. assembled.Inputs.Select(i => new InputView(i.Index, i.Party, i.SourceSatoshis, i.SourceLockingScript.ToHex()))],
                    Fee = assembled.Fee,
                    FeeShares = assembled.FeeShares,
                    FeeRate = assembled.FeeRate,
                }
                : null, cancellationToken).ConfigureAwait(false) ?? document;
            logger.LogInformation("session {SessionId} assembled: {Inputs} inputs, fee {Fee}", sessionId, assembled.Inputs.Count, assembled.Fee);
        }

        if (document.Status == SessionStatus.Signing)
        {
            if (!document.AllSigned)
            {
                return SessionStatus.Signing;
            }

            Transaction signed = Signed(document);
            string txid = signed.Id.ToDisplayHex();
            if (template is BridgeTemplate)
            {
                // The funding's txid is fixed only now (a txid covers the unlocking scripts), so only now can the spends
                // of its lock be built; the funding is held, never broadcast, until they are signed.
                BridgeState bridge;
                try
                {
                    bridge = BridgeOf(document, setup, signed);
                }
                catch (SessionException e)
                {
                    return await AbortAsync(sessionId, e.Code, e.Message, cancellationToken).ConfigureAwait(false);
                }

                document = await store.ChangeAsync(sessionId, d => d.Status == SessionStatus.Signing ? d with { Status = SessionStatus.Presigning, Bridge = bridge } : null, cancellationToken).ConfigureAwait(false) ?? document;
            }
            else
            {
                // The point of no return: from here the session is broadcast, never aborted by its deadline or a party.
                document = await store.ChangeAsync(sessionId, d => d.Status == SessionStatus.Signing ? d with { Status = SessionStatus.Broadcasting, TxId = txid } : null, cancellationToken).ConfigureAwait(false) ?? document;
            }
        }

        if (document.Status == SessionStatus.Presigning)
        {
            if (!IsPresigned(document, setup))
            {
                return SessionStatus.Presigning;
            }

            // A bridge's point of no return: the refund is signed, so the funding may go.
            document = await store.ChangeAsync(sessionId, d => d.Status == SessionStatus.Presigning ? d with { Status = SessionStatus.Broadcasting, TxId = d.Bridge!.FundingTxId } : null, cancellationToken).ConfigureAwait(false) ?? document;
        }

        if (document.Status == SessionStatus.Broadcasting)
        {
            Transaction signed = Signed(document);
            byte[] beef = SessionSigning.AtomicBeef(signed, document.Contributions.Select(Parse).SelectMany(c => c.Inputs));
            SessionStatus mined = template is BridgeTemplate ? SessionStatus.Locked : SessionStatus.Completed;
            SessionStatus followed = await FollowAsync(document, signed, beef, template.Topics(setup), "transaction", d => d with { Status = mined }, cancellationToken).ConfigureAwait(false);
            if (followed != SessionStatus.Locked || await store.GetAsync(sessionId, cancellationToken).ConfigureAwait(false) is not var (locked, _))
            {
                return followed;
            }

            document = locked; // a secret revealed before the lock was mined claims at once
        }

        if (document.Status == SessionStatus.Locked)
        {
            if (document.Preimage is null)
            {
                return SessionStatus.Locked;
            }

            string claim = SignedClaim(document, setup).Id.ToDisplayHex();
            document = await store.ChangeAsync(sessionId, d => d.Status == SessionStatus.Locked ? d with { Status = SessionStatus.Claiming, Bridge = d.Bridge! with { ClaimTxId = claim } } : null, cancellationToken).ConfigureAwait(false) ?? document;
        }

        if (document.Status == SessionStatus.Claiming)
        {
            Transaction claim = SignedClaim(document, setup);
            return await FollowAsync(document, claim, SpendBeef(document, claim), [], "claim", d => d with { Status = SessionStatus.Completed }, cancellationToken).ConfigureAwait(false);
        }

        if (document.Status == SessionStatus.Refunding)
        {
            return await RefundAsync(document, setup, cancellationToken).ConfigureAwait(false);
        }

        return document.Status;
    }

    /// <summary>
    /// Submits <paramref name="tx"/> (again: a resubmission changes nothing) and reads where it is: mined, the session
    /// moves by <paramref name="mined"/>; refused or failed, it is aborted with the pipeline's code; else it stays.
    /// </summary>
    private async Task<SessionStatus> FollowAsync(
        SessionDocument document, Transaction tx, byte[] beef, IReadOnlyList<string> topics, string what, Func<SessionDocument, SessionDocument> mined, CancellationToken cancellationToken)
    {
        SessionStatus from = document.Status;
        string txid = tx.Id.ToDisplayHex();
        TxStatus status = await BeefIntake.AcceptAsync(records, txid, beef, topics, [], Route, cancellationToken).ConfigureAwait(false);
        if (status is TxStatus.Received or TxStatus.Verified or TxStatus.Broadcast)
        {
            return from;
        }

        TxRecord? record = (await records.GetAsync(txid, cancellationToken).ConfigureAwait(false))?.Record;
        SessionDocument? ended = await store.ChangeAsync(document.SessionId, d => d.Status != from ? null : status == TxStatus.Mined
            ? mined(d)
            : d with { Status = SessionStatus.Aborted, Code = record?.Code ?? SessionCodes.Invalid, Reason = $"the {what} was {GatewayStatus(status)}: {record?.Reason}" },
            cancellationToken).ConfigureAwait(false);
        return ended?.Status ?? from;
    }

    private static string GatewayStatus(TxStatus status) => JsonSerializer.Serialize(status, TxRecords.Json).Trim('"');

    /// <summary>Aborts a session still open (collecting or signing); answers the status it now has.</summary>
    public async Task<SessionStatus> AbortAsync(string sessionId, string code, string reason, CancellationToken cancellationToken = default)
    {
        SessionDocument? document = await store.ChangeAsync(sessionId, d => d.IsOpen ? d with { Status = SessionStatus.Aborted, Code = code, Reason = reason } : null, cancellationToken).ConfigureAwait(false);
        if (document?.Status == SessionStatus.Aborted && document.Code == code)
        {
            logger.LogInformation("session {SessionId} aborted: {Code} {Reason}", sessionId, code, reason);
        }

        return document?.Status ?? throw new InvalidOperationException($"no session {sessionId}");
    }

    /// <summary>
    /// Settles an ended session's basket outputs (spent by its transaction when completed or refunded, released when aborted), then
    /// publishes <c>session.completed</c> or <c>session.aborted</c>.
    /// </summary>
    public async Task PublishEndAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        if (await store.GetAsync(sessionId, cancellationToken).ConfigureAwait(false) is not var (d, _) || !d.HasEnded)
        {
            return;
        }

        // Completed, or a bridge refunded after its funding was mined: the contributed outputs are spent by the session's
        // transaction (for a bridge, its funding). Aborted before that, nothing of theirs was spent.
        if (d.Status is SessionStatus.Completed or SessionStatus.Refunded)
        {
            await baskets.SpendAsync(sessionId, d.TxId!, d.Contributions, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await baskets.ReleaseAsync(sessionId, d.Contributions, cancellationToken).ConfigureAwait(false);
        }

        string topic = d.Status == SessionStatus.Completed ? SessionTopics.Completed : SessionTopics.Aborted;
        await events.PublishAsync(topic, sessionId, new SessionEnded(sessionId, d.Template, d.Status, d.TxId, d.Code, d.Reason), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The transaction with every party's unlocking script in place.</summary>
    public static Transaction Signed(SessionDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        Transaction unsigned = Transaction.FromHex(document.UnsignedTx!);
        return SessionSigning.WithUnlocking(unsigned, document.Unlocking.Select(u => (int.Parse(u.Key, System.Globalization.CultureInfo.InvariantCulture), new Script(Hex.Decode(u.Value)))));
    }

    private async Task<ulong> FeeRateAsync(CancellationToken cancellationToken)
    {
        if (Options.FeeSatoshisPerKilobyte is ulong configured)
        {
            return configured;
        }

        if (broadcaster.Endpoints.Count == 0)
        {
            throw new InvalidOperationException("no fee rate: set Atomic:Sessions:FeeSatoshisPerKilobyte, or an ARC endpoint whose policy says it");
        }

        return await arc.MiningFeePerKilobyteAsync(broadcaster.Endpoints[0], cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The session topics (ARCHITECTURE.md).</summary>
public static class SessionTopics
{
    public const string Completed = "session.completed";
    public const string Aborted = "session.aborted";
}
