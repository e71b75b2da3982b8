using System.Diagnostics;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Services.Pipeline;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// Handles <c>beef.verified</c> for the broadcaster: converts the transaction to Extended Format and posts it to every
/// configured ARC endpoint at once, after each unconfirmed ancestor in its BEEF not yet seen broadcast here (parents
/// first), so that no transaction is refused for reaching ARC before its parent. One acceptance is enough (record →
/// broadcast, <c>tx.broadcast</c>); refusals by all of them fail it (<c>tx.failed</c>, DOUBLE_SPEND or
/// BROADCAST_REJECTED); an orphan (a parent not there yet) or an unreachable network is retried later, and fails with
/// BROADCAST_ORPHANED or BROADCAST_UNREACHABLE once the retries are spent (the dead letter). While every endpoint's
/// circuit breaker is open (ARC down), the transaction waits (<see cref="Delivery.Wait"/>) and spends no retry. Once broadcast, the
/// transaction is in the <see cref="WatchIndex"/> until a callback or the poller reports it MINED.
/// </summary>
public sealed class BroadcastHandler(ArcClient arc, BroadcasterOptions options, TxRecords records, EventPublisher events, WatchIndex watched, MinedRecorder recorder, ILogger<BroadcastHandler> logger)
{
    public async Task<Delivery> HandleAsync(BeefVerified? verified, Activity? activity, CancellationToken cancellationToken)
    {
        if (verified?.TxId is null || !Outpoints.IsTxId(verified.TxId))
        {
            return Delivery.Drop;
        }

        activity?.SetTag("atomic.txid", verified.TxId);
        if (await records.GetAsync(verified.TxId, cancellationToken).ConfigureAwait(false) is not ({ Status: TxStatus.Verified }, _) current)
        {
            return Delivery.Success; // already broadcast, mined or failed: a duplicate delivery
        }

        string[] efs;
        try
        {
            if (verified.Ef is string ef)
            {
                efs = [ef]; // every parent is mined: the verifier's Extended Format is all ARC needs
            }
            else if (await ReadExtendedFormatsAsync(verified, cancellationToken).ConfigureAwait(false) is { } read)
            {
                efs = read;
            }
            else
            {
                return Delivery.Success;
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            await recorder.FailAsync(verified.TxId, ReasonCodes.BeefMalformed, $"cannot convert to Extended Format: {e.Message}", cancellationToken).ConfigureAwait(false);
            return Delivery.Success;
        }

        if (options.Endpoints.Count == 0)
        {
            logger.LogWarning("no ARC endpoint configured: {TxId} stays verified", verified.TxId);
            return Delivery.Retry;
        }

        var calls = new Task<ArcOutcome>[options.Endpoints.Count];
        for (int i = 0; i < calls.Length; i++)
        {
            calls[i] = arc.SubmitAsync(options.Endpoints[i], efs, cancellationToken);
        }

        ArcOutcome[] outcomes = await Task.WhenAll(calls).ConfigureAwait(false);
        ArcOutcome? accepted = Array.Find(outcomes, o => o.Verdict == ArcVerdict.Accepted);
        if (accepted is not null)
        {
            await MarkBroadcastAsync(verified.TxId, accepted, current, cancellationToken).ConfigureAwait(false);
            return Delivery.Success;
        }

        if (Array.TrueForAll(outcomes, o => o.CircuitOpen))
        {
            // Every endpoint is known to be down: the transaction waits for the network without spending an attempt.
            activity?.SetStatus(ActivityStatusCode.Error, "every ARC circuit open");
            logger.LogDebug("broadcast of {TxId} waits: every ARC endpoint's circuit is open", verified.TxId);
            return Delivery.Wait;
        }

        if (Array.Exists(outcomes, o => o.Verdict is ArcVerdict.Pending or ArcVerdict.Unreachable))
        {
            activity?.SetStatus(ActivityStatusCode.Error, "not settled yet");
            logger.LogInformation("broadcast of {TxId} not settled yet, retrying: {Detail}", verified.TxId, ArcClient.ReasonFor(outcomes));
            return Delivery.Retry;
        }

        string code = Array.Exists(outcomes, o => o.Verdict == ArcVerdict.DoubleSpend) ? ReasonCodes.DoubleSpend : ReasonCodes.BroadcastRejected;
        await recorder.FailAsync(verified.TxId, code, ArcClient.ReasonFor(outcomes), cancellationToken).ConfigureAwait(false);
        return Delivery.Success;
    }

    /// <summary>
    /// The Extended Formats to send, from the kept BEEF; null when no BEEF is kept (the transaction has then failed
    /// BEEF_MALFORMED). A BEEF that cannot be converted throws for the caller to fail it.
    /// </summary>
    private async Task<string[]?> ReadExtendedFormatsAsync(BeefVerified verified, CancellationToken cancellationToken)
    {
        byte[]? bytes = verified.Beef is string carried
            ? Convert.FromBase64String(carried)
            : (await records.GetBeefAsync(verified.TxId, cancellationToken).ConfigureAwait(false))?.Beef;
        if (bytes is null)
        {
            await recorder.FailAsync(verified.TxId, ReasonCodes.BeefMalformed, "no BEEF is kept for the transaction", cancellationToken).ConfigureAwait(false);
            return null;
        }

        return await ExtendedFormatsAsync(Beef.FromMemory(bytes), Hash256.FromDisplayHex(verified.TxId), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The subject in Extended Format, after each unconfirmed ancestor in its BEEF that this system has not seen
    /// broadcast (parents first): ARC then never meets a child before its parent. An ancestor that cannot be put in
    /// Extended Format (its own parent given by txid only) is left to the network.
    /// </summary>
    private async Task<string[]> ExtendedFormatsAsync(Beef beef, Hash256 subject, CancellationToken cancellationToken)
    {
        string subjectEf = ExtendedTransaction.FromBeef(beef, subject).ToHex();
        if (!ExtendedFormats.HasUnprovenAncestor(beef, subject))
        {
            return [subjectEf]; // the usual case: every parent is mined
        }

        var efs = new List<string>();
        Beef ancestry = beef.AncestryOf(subject);
        foreach (BeefTx entry in ancestry.Transactions)
        {
            if (entry.IsProven || entry.IsTxIdOnly || entry.TxId == subject
                || await records.GetAsync(entry.TxId.ToDisplayHex(), cancellationToken).ConfigureAwait(false) is ({ Status: TxStatus.Broadcast or TxStatus.Mined }, _))
            {
                continue;
            }

            try
            {
                efs.Add(ExtendedTransaction.FromBeef(ancestry, entry.TxId).ToHex());
            }
            catch (BsvFormatException)
            {
                // its parent is not in the BEEF in full: ARC must know that one already
            }
        }

        efs.Add(subjectEf);
        return [.. efs];
    }

    /// <summary>An endpoint accepted the transaction: the record moves to broadcast and is watched until mined.</summary>
    private async Task MarkBroadcastAsync(string txid, ArcOutcome accepted, (TxRecord Record, string ETag) read, CancellationToken cancellationToken)
    {
        string arcStatus = accepted.Response?.TxStatus ?? "ACCEPTED";
        await watched.AddAsync(txid, cancellationToken).ConfigureAwait(false);
        TxRecord? moved = await records.MoveAsync(read, TxStatus.Broadcast, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (moved is not null)
        {
            Telemetry.RecordStage(moved, "broadcast");
        }

        if (moved is not null || await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is ({ Status: TxStatus.Broadcast }, _))
        {
            await events.PublishAsync(Names.Topics.TxBroadcast, txid, new TxBroadcast(txid, accepted.Endpoint, arcStatus), cancellationToken).ConfigureAwait(false);
        }

        if (accepted.Response is { TxStatus: "MINED", MerklePath: { Length: > 0 } path, BlockHash: var hash, BlockHeight: var height })
        {
            await recorder.MarkMinedAsync(txid, path, hash ?? string.Empty, height ?? 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Every delivery was retried: the endpoints are asked once more what they hold. Accepted after all, the record
    /// moves on; still an orphan, it fails BROADCAST_ORPHANED; refused, BROADCAST_REJECTED; no answer, BROADCAST_UNREACHABLE.
    /// </summary>
    public async Task<Delivery> HandleUnreachableAsync(BeefVerified? verified, CancellationToken cancellationToken)
    {
        // Only a record still verified was never broadcast: a duplicate or late dead letter must not fail a broadcast record.
        if (verified?.TxId is null
            || await records.GetAsync(verified.TxId, cancellationToken).ConfigureAwait(false) is not ({ Status: TxStatus.Verified }, _) current)
        {
            return Delivery.Success;
        }

        var calls = new Task<ArcOutcome>[options.Endpoints.Count];
        for (int i = 0; i < calls.Length; i++)
        {
            calls[i] = arc.StatusAsync(options.Endpoints[i], verified.TxId, cancellationToken);
        }

        ArcOutcome[] statuses = await Task.WhenAll(calls).ConfigureAwait(false);
        if (Array.Find(statuses, o => o.Verdict == ArcVerdict.Accepted) is { } accepted)
        {
            await MarkBroadcastAsync(verified.TxId, accepted, current, cancellationToken).ConfigureAwait(false);
        }
        else if (Array.Exists(statuses, o => o.Response?.TxStatus == "SEEN_IN_ORPHAN_MEMPOOL"))
        {
            await recorder.FailAsync(verified.TxId, ReasonCodes.BroadcastOrphaned,
                $"ARC still held the transaction as an orphan after every retry: an unconfirmed ancestor never reached the network ({ArcClient.ReasonFor(statuses)})",
                cancellationToken).ConfigureAwait(false);
        }
        else if (Array.Exists(statuses, o => o.Verdict is ArcVerdict.Rejected or ArcVerdict.DoubleSpend && o.Response?.TxStatus is { Length: > 0 }))
        {
            await recorder.FailAsync(verified.TxId, ReasonCodes.BroadcastRejected, ArcClient.ReasonFor(statuses), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await recorder.FailAsync(verified.TxId, ReasonCodes.BroadcastUnreachable,
                $"no ARC endpoint accepted the transaction after every retry ({ArcClient.ReasonFor(statuses)})", cancellationToken).ConfigureAwait(false);
        }

        return Delivery.Success;
    }
}
