using System.Globalization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Services.Broadcaster;
using Atomic.Services.Pipeline;
using Atomic.Sessions;
using Atomic.Sessions.Templates;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Sessions;

// The bridge's moves after its funding is signed: the spends of the lock, their signatures, the claim with the secret,
// and the refund at the deadline (BridgeTemplate holds the rules).
public sealed partial class SessionService
{
    /// <summary>
    /// The reason a node gives for a transaction whose nLockTime is not final yet (bitcoin-sv's
    /// <c>ContextualCheckTransaction</c>), which ARC relays in <c>extraInfo</c>.
    /// </summary>
    public const string NonFinalReason = "bad-txns-nonfinal";

    /// <summary>
    /// The deadline's move of a locked bridge whose secret has not come: to <c>refunding</c>, the refund's txid set.
    /// A bridge whose secret came meanwhile is left to claim. Answers the status the session now has.
    /// </summary>
    public async Task<SessionStatus> StartRefundAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        if (await store.GetAsync(sessionId, cancellationToken).ConfigureAwait(false) is not var (document, _))
        {
            throw new InvalidOperationException($"no session {sessionId}");
        }

        if (document.Status != SessionStatus.Locked || document.Preimage is not null)
        {
            return document.Status;
        }

        string refund = SignedRefund(document, Setup(document)).Id.ToDisplayHex();
        string reason = $"the deadline {document.Deadline:O} passed without the secret: the session broadcasts the refund {refund}";
        SessionDocument? changed = await store.ChangeAsync(sessionId, d => d.Status == SessionStatus.Locked && d.Preimage is null
            ? d with
            {
                Status = SessionStatus.Refunding,
                Code = SessionCodes.Deadline,
                Reason = reason,
                Bridge = d.Bridge! with { RefundTxId = refund },
            }
            : null, cancellationToken).ConfigureAwait(false);
        if (changed?.Status == SessionStatus.Refunding)
        {
            logger.LogInformation("bridge session {SessionId} refunding: {Reason}", sessionId, reason);
        }

        return changed?.Status ?? document.Status;
    }

    /// <summary>
    /// Checks a party's signatures of a bridge's spends (hex DER and the sighash byte): the refund's by either party, the
    /// claim's by the counterparty only, each by the party's identity key over its spend of the lock. Answers them as
    /// bytes, or the refusal (<see cref="SessionCodes.SignatureInvalid"/>).
    /// </summary>
    public static (SessionCheck Check, byte[]? Refund, byte[]? Claim) CheckBridgeSignatures(
        SessionDocument document, string party, string? refundHex, string? claimHex)
    {
        ArgumentNullException.ThrowIfNull(document);
        SessionSetup setup = Setup(document);
        BridgeState bridge = document.Bridge ?? throw new InvalidOperationException($"session {document.SessionId} has no bridge spends");
        (_, string counterparty) = BridgeTemplate.Roles(setup);
        PublicKey key = setup.Find(party)!.IdentityKey;
        TxOutput locked = LockedOf(bridge);
        byte[]? refund = null, claim = null;
        if (refundHex is not null)
        {
            if (!Hex.TryDecode(refundHex, out refund) || refund.Length > 80)
            {
                return (Refuse("refund must be a signature in hex (DER and the sighash byte)"), null, null);
            }

            SessionCheck check = SessionSigning.CheckSignature(Transaction.FromHex(bridge.RefundTx), 0, locked, key, refund);
            if (!check.IsOk)
            {
                return (SessionCheck.Refuse(check.Code!, $"{party}'s signature of the refund: {check.Reason}"), null, null);
            }
        }

        if (claimHex is not null)
        {
            if (party != counterparty)
            {
                return (Refuse($"only the counterparty, {counterparty}, signs the claim"), null, null);
            }

            if (!Hex.TryDecode(claimHex, out claim) || claim.Length > 80)
            {
                return (Refuse("claim must be a signature in hex (DER and the sighash byte)"), null, null);
            }

            SessionCheck check = SessionSigning.CheckSignature(Transaction.FromHex(bridge.ClaimTx), 0, locked, key, claim);
            if (!check.IsOk)
            {
                return (SessionCheck.Refuse(check.Code!, $"{party}'s signature of the claim: {check.Reason}"), null, null);
            }
        }

        return refund is null && claim is null
            ? (Refuse("a bridge in presigning takes the refund's signature (refund) and the counterparty's of the claim (claim)"),
                null, null)
            : (SessionCheck.Ok, refund, claim);

        static SessionCheck Refuse(string reason) => SessionCheck.Refuse(SessionCodes.SignatureInvalid, reason);
    }

    /// <summary>The bridge's spends of the signed funding: the lock, the unsigned refund and claim, no signature yet.</summary>
    private BridgeState BridgeOf(SessionDocument document, SessionSetup setup, Transaction funding)
    {
        Contribution[] contributions = [.. document.Contributions.Select(Parse)];
        uint lockTime = BridgeTemplate.LockTimeOf(document.Deadline);
        BridgeSpends spends = BridgeTemplate.Spends(setup, contributions, funding, document.FeeRate!.Value, lockTime);
        string hash = setup.Terms.GetProperty("hash").GetString()!.ToLowerInvariant();
        return new BridgeState(
            hash, spends.Lock.TxId.ToDisplayHex(), (int)spends.Lock.Index, spends.Locked.Satoshis, spends.Locked.LockingScript.ToHex(),
            lockTime, spends.Refund.ToHex(), spends.Claim.ToHex(), new Dictionary<string, string>(StringComparer.Ordinal));
    }

    /// <summary>Whether both parties signed the refund and the counterparty the claim (then the funding may be broadcast).</summary>
    private static bool IsPresigned(SessionDocument document, SessionSetup setup)
    {
        (string initiator, string counterparty) = BridgeTemplate.Roles(setup);
        BridgeState bridge = document.Bridge!;
        return bridge.RefundSignatures.ContainsKey(initiator) && bridge.RefundSignatures.ContainsKey(counterparty)
            && bridge.ClaimSignature is not null;
    }

    /// <summary>The refund with its unlocking script: <c>OP_0 &lt;initiator's sig&gt; &lt;counterparty's sig&gt; OP_FALSE</c>.</summary>
    public static Transaction SignedRefund(SessionDocument document, SessionSetup setup)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(setup);
        (string initiator, string counterparty) = BridgeTemplate.Roles(setup);
        BridgeState bridge = document.Bridge!;
        Script unlocking = BridgeTemplate.RefundUnlocking(
            Hex.Decode(bridge.RefundSignatures[initiator]), Hex.Decode(bridge.RefundSignatures[counterparty]));
        return SessionSigning.WithUnlocking(Transaction.FromHex(bridge.RefundTx), [(0, unlocking)]);
    }

    /// <summary>The claim with its unlocking script: <c>&lt;counterparty's sig&gt; &lt;secret&gt; OP_TRUE</c>.</summary>
    public static Transaction SignedClaim(SessionDocument document, SessionSetup setup)
    {
        ArgumentNullException.ThrowIfNull(document);
        BridgeState bridge = document.Bridge!;
        Script unlocking = BridgeTemplate.ClaimUnlocking(Hex.Decode(bridge.ClaimSignature!), Hex.Decode(document.Preimage!));
        return SessionSigning.WithUnlocking(Transaction.FromHex(bridge.ClaimTx), [(0, unlocking)]);
    }

    /// <summary>A spend of the lock as Atomic BEEF: the funding's ancestry (every contribution's), the funding, the spend.</summary>
    private byte[] SpendBeef(SessionDocument document, Transaction spend)
    {
        Transaction funding = Signed(document);
        byte[] fundingBeef = SessionSigning.AtomicBeef(funding, document.Contributions.Select(Parse).SelectMany(c => c.Inputs));
        BridgeState bridge = document.Bridge!;
        var lockInput = new ContributedInput(new OutPoint(funding.Id, (uint)bridge.Vout), LockedOf(bridge), Beef.FromBytes(fundingBeef));
        return SessionSigning.AtomicBeef(spend, [lockInput]);
    }

    private static TxOutput LockedOf(BridgeState bridge) => new(bridge.Satoshis, Bsv.Scripts.Script.FromHex(bridge.LockingScript));

    /// <summary>
    /// The refund's step: until the chain takes it, offers it to the ARC endpoints directly (a refused transaction's
    /// record in the pipeline is final, and a refund is refused, <c>bad-txns-nonfinal</c>, until the chain's median time
    /// past is beyond its nLockTime), keeping the latest refusal as the session's reason; once taken, it goes in through
    /// the gateway's path like every session transaction and is followed to mined.
    /// </summary>
    private async Task<SessionStatus> RefundAsync(SessionDocument document, SessionSetup setup, CancellationToken cancellationToken)
    {
        Transaction refund = SignedRefund(document, setup);
        string txid = refund.Id.ToDisplayHex();
        if (await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is null
            && await OfferAsync(refund, LockedOf(document.Bridge!), cancellationToken).ConfigureAwait(false) is string waiting)
        {
            string reason = $"the deadline {document.Deadline:O} passed without the secret, and the refund {txid} waits: {waiting}";
            await store.ChangeAsync(document.SessionId,
                d => d.Status == SessionStatus.Refunding && d.Reason != reason ? d with { Reason = reason } : null, cancellationToken)
                .ConfigureAwait(false);
            return SessionStatus.Refunding;
        }

        string refunded = $"the deadline {document.Deadline:O} passed without the secret: the refund {txid} is mined";
        return await FollowAsync(document, refund, SpendBeef(document, refund), [], "refund",
            d => d with { Status = SessionStatus.Refunded, Reason = refunded }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Offers <paramref name="tx"/> to every ARC endpoint, without callbacks: null when one takes it, when none is configured, or when it is
    /// refused for good (the gateway's path then records why); otherwise why it must be offered again later.
    /// </summary>
    private async Task<string?> OfferAsync(Transaction tx, TxOutput source, CancellationToken cancellationToken)
    {
        if (broadcaster.Endpoints.Count == 0)
        {
            return null;
        }

        string ef = new ExtendedTransaction(tx, [source]).ToHex();
        ArcOutcome[] outcomes = await Task.WhenAll(broadcaster.Endpoints.Select(e => arc.OfferAsync(e, ef, cancellationToken)))
            .ConfigureAwait(false);
        if (outcomes.Any(o => o.Verdict == ArcVerdict.Accepted))
        {
            return null;
        }

        ArcOutcome? early = outcomes.FirstOrDefault(o =>
            o.Verdict == ArcVerdict.Rejected && o.Detail.Contains(NonFinalReason, StringComparison.Ordinal));
        if (early is not null)
        {
            string lockTime = tx.LockTime.ToString(CultureInfo.InvariantCulture);
            return $"{early.Endpoint} refuses it until its nLockTime {lockTime} is final ({early.Detail})";
        }

        return outcomes.Any(o => o.Verdict is ArcVerdict.Pending or ArcVerdict.Unreachable)
            ? $"no ARC endpoint took it yet ({ArcClient.ReasonFor(outcomes)})"
            : null;
    }
}
