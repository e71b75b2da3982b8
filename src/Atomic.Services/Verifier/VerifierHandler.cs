using System.Diagnostics;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Services.Pipeline;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Verifier;

/// <summary>
/// Handles <c>beef.submitted</c>: runs SPV, moves the record to verified or rejected and publishes <c>beef.verified</c>
/// or <c>beef.rejected</c>. A duplicate delivery finds the record already moved and publishes the same outcome again
/// (downstream handlers are idempotent), so a crash between the move and the publish loses nothing. A chain tracker
/// that cannot be reached is a Wait (redelivered without limit), never a rejection.
/// </summary>
public sealed class VerifierHandler(SpvVerifier spv, TxRecords records, EventPublisher events, ILogger<VerifierHandler> logger)
{
    public async Task<Delivery> HandleAsync(BeefSubmitted? submitted, Activity? activity, CancellationToken cancellationToken)
    {
        if (submitted?.TxId is null || !Outpoints.IsTxId(submitted.TxId))
        {
            return Delivery.Drop;
        }

        byte[] beef;
        bool kept = submitted.Beef is null;
        try
        {
            if (submitted.Beef is string carried)
            {
                beef = Convert.FromBase64String(carried); // an event written before BEEFs travelled by reference
            }
            else if (records.HandOff?.Take(submitted.TxId) is byte[] handed)
            {
                beef = handed; // what the intake of this process has just kept: no read of the store
            }
            else if (await records.GetBeefAsync(submitted.TxId, cancellationToken).ConfigureAwait(false) is var (stored, _))
            {
                beef = stored;
            }
            else
            {
                logger.LogWarning("dropping beef.submitted for {TxId}: no BEEF is kept for it", submitted.TxId);
                return Delivery.Drop;
            }
        }
        catch (FormatException e)
        {
            logger.LogWarning("dropping a beef.submitted event whose BEEF is not base64: {Message}", e.Message);
            return Delivery.Drop;
        }

        activity?.SetTag("atomic.txid", submitted.TxId);
        SpvResult result;
        Beef? parsed = null;
        long started = Stopwatch.GetTimestamp();
        try
        {
            parsed = spv.Parse(beef);
            result = await spv.VerifyAsync(parsed, cancellationToken).ConfigureAwait(false);
        }
        catch (BsvFormatException e)
        {
            result = new SpvResult(false, default, e.Code, e.Message);
        }
        catch (Exception e) when (e is ChainTrackerException or HttpRequestException or TimeoutException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The tracker's outage is not the BEEF's fault: it waits, however long, and spends none of its attempts.
            logger.LogWarning("chain tracker unavailable for {TxId}, waiting: {Message}", submitted.TxId, e.Message);
            activity?.SetStatus(ActivityStatusCode.Error, "chain tracker unavailable");
            return Delivery.Wait;
        }

        Telemetry.SpvDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (result.IsValid)
        {
            Telemetry.SpvOutcomes.Add(1, new KeyValuePair<string, object?>("outcome", "verified"));
            activity?.SetTag("atomic.spv.outcome", "verified");

            // Kept before the record moves, so a record past verified always has its BEEF (kept already when it came by reference).
            if (!kept)
            {
                await records.KeepBeefAsync(submitted.TxId, beef, cancellationToken).ConfigureAwait(false);
            }

            TxRecord? moved = await records.MoveAsync(submitted.TxId, TxStatus.Verified, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (moved is not null)
            {
                Telemetry.RecordStage(moved, "verified");
            }
            else if (await records.GetAsync(submitted.TxId, cancellationToken).ConfigureAwait(false) is not ({ Status: TxStatus.Verified }, _))
            {
                return Delivery.Success; // already past this step (or unknown): nothing to repeat
            }

            // With every parent mined, the transaction's Extended Format travels with the event: the broadcaster sends it as is.
            string? ef = parsed is not null && result.TxId is Hash256 subject ? ExtendedFormats.OfSubjectAlone(parsed, subject) : null;
            await events.PublishAsync(Names.Topics.BeefVerified, submitted.TxId, new BeefVerified(submitted.TxId, null, submitted.Topics, submitted.Baskets, ef), cancellationToken).ConfigureAwait(false);
            return Delivery.Success;
        }

        string code = result.Code ?? ReasonCodes.BeefMalformed;
        string reason = result.Reason ?? "invalid";
        Telemetry.SpvOutcomes.Add(1, new KeyValuePair<string, object?>("outcome", "rejected"), new KeyValuePair<string, object?>("code", code));
        activity?.SetTag("atomic.spv.outcome", "rejected");
        activity?.SetTag("atomic.code", code);
        TxRecord? rejected = await records.MoveAsync(submitted.TxId, TxStatus.Rejected, r => r with { Reason = reason }, code, cancellationToken).ConfigureAwait(false);
        if (rejected is null && await records.GetAsync(submitted.TxId, cancellationToken).ConfigureAwait(false) is not ({ Status: TxStatus.Rejected }, _))
        {
            return Delivery.Success;
        }

        await events.PublishAsync(Names.Topics.BeefRejected, submitted.TxId, new TxProblem(submitted.TxId, code, reason), cancellationToken).ConfigureAwait(false);
        return Delivery.Success;
    }
}
