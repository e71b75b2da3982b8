using System.Diagnostics;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Runtime.PubSub;
using Atomic.Services.Transactions;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Verifier;

/// <summary>
/// Subscribes to <c>beef.submitted</c>, runs SPV, moves the record to verified or rejected and publishes
/// <c>beef.verified</c> or <c>beef.rejected</c>. A duplicate delivery finds the record already moved and publishes
/// the same outcome again (downstream handlers are idempotent), so a crash between the move and the publish loses
/// nothing. A chain tracker that cannot be reached is a Retry, never a rejection.
/// </summary>
public sealed class VerifierService(SpvVerifier verifier, TxRecords records, IPubSub pubsub, ILogger<VerifierService> logger)
{
    public Subscription Subscription(int maxConcurrency) =>
        new(Names.PubSub, Names.Topics.BeefSubmitted, HandleAsync, DeadLetterTopic: Names.Topics.BeefSubmitted + ".dead", Consumer: Names.Apps.Verifier, MaxConcurrency: maxConcurrency);

    internal Task<DeliveryResult> HandleAsync(CloudEvent cloudEvent, CancellationToken cancellationToken) =>
        Telemetry.TraceDeliveryAsync(cloudEvent, activity => HandleCoreAsync(cloudEvent, activity, cancellationToken));

    private async Task<DeliveryResult> HandleCoreAsync(CloudEvent cloudEvent, Activity? activity, CancellationToken cancellationToken)
    {
        BeefSubmitted? submitted;
        byte[] beef;
        try
        {
            submitted = JsonSerializer.Deserialize<BeefSubmitted>(cloudEvent.Data.Span, TxRecords.Json);
            if (submitted?.TxId is null || submitted.Beef is null)
            {
                return DeliveryResult.Drop;
            }

            beef = Convert.FromBase64String(submitted.Beef);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            logger.LogWarning("dropping unreadable beef.submitted event {Id}: {Message}", cloudEvent.Id, e.Message);
            return DeliveryResult.Drop;
        }

        activity?.SetTag("atomic.txid", submitted.TxId);
        SpvResult result;
        long started = Stopwatch.GetTimestamp();
        try
        {
            result = await verifier.VerifyAsync(beef, cancellationToken).ConfigureAwait(false);
        }
        catch (BsvFormatException e)
        {
            result = new SpvResult(false, default, e.Code, e.Message);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("chain tracker unavailable for {TxId}, retrying: {Message}", submitted.TxId, e.Message);
            activity?.SetStatus(ActivityStatusCode.Error, "chain tracker unavailable");
            return DeliveryResult.Retry;
        }

        Telemetry.SpvDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (result.IsValid)
        {
            Telemetry.SpvOutcomes.Add(1, new KeyValuePair<string, object?>("outcome", "verified"));
            activity?.SetTag("atomic.spv.outcome", "verified");

            // Kept before the record moves, so a record past verified always has its BEEF.
            await records.KeepBeefAsync(submitted.TxId, beef, cancellationToken).ConfigureAwait(false);
            TxRecord? moved = await records.MoveAsync(submitted.TxId, TxStatus.Verified, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (moved is not null)
            {
                Telemetry.RecordStage(moved, "verified");
            }
            else if (await records.GetAsync(submitted.TxId, cancellationToken).ConfigureAwait(false) is not ({ Status: TxStatus.Verified }, _))
            {
                return DeliveryResult.Success; // already past this step (or unknown): nothing to repeat
            }

            await PublishAsync(Names.Topics.BeefVerified, submitted.TxId, new BeefVerified(submitted.TxId, submitted.Beef, submitted.Topics, submitted.Baskets), cancellationToken).ConfigureAwait(false);
            return DeliveryResult.Success;
        }

        string code = result.Code ?? ReasonCodes.BeefMalformed;
        string reason = result.Reason ?? "invalid";
        Telemetry.SpvOutcomes.Add(1, new KeyValuePair<string, object?>("outcome", "rejected"), new KeyValuePair<string, object?>("code", code));
        activity?.SetTag("atomic.spv.outcome", "rejected");
        activity?.SetTag("atomic.code", code);
        TxRecord? rejected = await records.MoveAsync(submitted.TxId, TxStatus.Rejected, r => r with { Reason = reason }, code, cancellationToken).ConfigureAwait(false);
        if (rejected is null && await records.GetAsync(submitted.TxId, cancellationToken).ConfigureAwait(false) is not ({ Status: TxStatus.Rejected }, _))
        {
            return DeliveryResult.Success;
        }

        await PublishAsync(Names.Topics.BeefRejected, submitted.TxId, new TxProblem(submitted.TxId, code, reason), cancellationToken).ConfigureAwait(false);
        return DeliveryResult.Success;
    }

    private Task PublishAsync<T>(string topic, string txid, T data, CancellationToken cancellationToken) =>
        pubsub.PublishAsync(CloudEvent.Create(Names.PubSub, topic, JsonSerializer.SerializeToUtf8Bytes(data, TxRecords.Json), txid, source: Names.Apps.Verifier), cancellationToken);
}
