using System.Diagnostics;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Runtime.PubSub;
using Atomic.Runtime.State;
using Atomic.Services.Transactions;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// Subscribes to <c>beef.verified</c>: converts the transaction to Extended Format and posts it to every configured ARC
/// endpoint at once, after each unconfirmed ancestor in its BEEF not yet seen broadcast here (parents first), so that
/// no transaction is refused for reaching ARC before its parent. One acceptance is enough (record → broadcast,
/// <c>tx.broadcast</c>); refusals by all of them fail it (<c>tx.failed</c>, DOUBLE_SPEND or BROADCAST_REJECTED); an
/// orphan (a parent not there yet) or an unreachable network is retried later, and fails with BROADCAST_ORPHANED or
/// BROADCAST_UNREACHABLE after the last retry. Once broadcast, the transaction is watched (<c>watch||{txid}</c>,
/// listed in the <see cref="WatchIndex"/>) until a callback or the poller reports it MINED.
/// </summary>
public sealed class BroadcasterService(ArcClient arc, BroadcasterOptions options, TxRecords records, IPubSub pubsub, TimeProvider time, ILogger<BroadcasterService> logger)
{
    public const string WatchPrefix = "watch||";

    /// <summary>Where <c>beef.verified</c> deliveries go when every retry failed: the network was unreachable.</summary>
    public const string DeadLetterTopic = Names.Topics.BeefVerified + ".dead";

    private readonly WatchIndex _watched = new(records.Store, logger);
    private long _pollCursor;

    public Subscription Subscription(int maxConcurrency) =>
        new(Names.PubSub, Names.Topics.BeefVerified, HandleAsync, DeadLetterTopic: DeadLetterTopic, Consumer: Names.Apps.Broadcaster, MaxConcurrency: maxConcurrency,
            Retry: new RetryPolicy(MaxAttempts: options.DeliveryAttempts, InitialDelay: options.DeliveryInitialDelay, MaxDelay: options.DeliveryMaxDelay));

    /// <summary>Retries exhausted: the record fails (BROADCAST_ORPHANED, BROADCAST_REJECTED or BROADCAST_UNREACHABLE).</summary>
    public Subscription DeadLetterSubscription() =>
        new(Names.PubSub, DeadLetterTopic, HandleUnreachableAsync, Consumer: Names.Apps.Broadcaster);

    internal Task<DeliveryResult> HandleAsync(CloudEvent cloudEvent, CancellationToken cancellationToken) =>
        Telemetry.TraceDeliveryAsync(cloudEvent, activity => BroadcastAsync(cloudEvent, activity, cancellationToken));

    private async Task<DeliveryResult> BroadcastAsync(CloudEvent cloudEvent, Activity? activity, CancellationToken cancellationToken)
    {
        if (Read<BeefVerified>(cloudEvent) is not { } verified)
        {
            return DeliveryResult.Drop;
        }

        activity?.SetTag("atomic.txid", verified.TxId);
        if (await records.GetAsync(verified.TxId, cancellationToken).ConfigureAwait(false) is not ({ Status: TxStatus.Verified }, _))
        {
            return DeliveryResult.Success; // already broadcast, mined or failed: a duplicate delivery
        }

        string[] efs;
        try
        {
            Beef beef = Beef.FromMemory(Convert.FromBase64String(verified.Beef));
            efs = await ExtendedFormatsAsync(beef, Hash256.FromDisplayHex(verified.TxId), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            await FailAsync(verified.TxId, ReasonCodes.BeefMalformed, $"cannot convert to Extended Format: {e.Message}", cancellationToken).ConfigureAwait(false);
            return DeliveryResult.Success;
        }

        if (options.Endpoints.Count == 0)
        {
            logger.LogWarning("no ARC endpoint configured: {TxId} stays verified", verified.TxId);
            return DeliveryResult.Retry;
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
            await MarkBroadcastAsync(verified.TxId, accepted, cancellationToken).ConfigureAwait(false);
            return DeliveryResult.Success;
        }

        if (Array.Exists(outcomes, o => o.Verdict is ArcVerdict.Pending or ArcVerdict.Unreachable))
        {
            activity?.SetStatus(ActivityStatusCode.Error, "not settled yet");
            logger.LogInformation("broadcast of {TxId} not settled yet, retrying: {Detail}", verified.TxId, ArcClient.ReasonFor(outcomes));
            return DeliveryResult.Retry;
        }

        string code = Array.Exists(outcomes, o => o.Verdict == ArcVerdict.DoubleSpend) ? ReasonCodes.DoubleSpend : ReasonCodes.BroadcastRejected;
        await FailAsync(verified.TxId, code, ArcClient.ReasonFor(outcomes), cancellationToken).ConfigureAwait(false);
        return DeliveryResult.Success;
    }

    /// <summary>
    /// The subject in Extended Format, after each unconfirmed ancestor in its BEEF that this system has not seen
    /// broadcast (parents first): ARC then never meets a child before its parent. An ancestor that cannot be put in
    /// Extended Format (its own parent given by txid only) is left to the network.
    /// </summary>
    private async Task<string[]> ExtendedFormatsAsync(Beef beef, Hash256 subject, CancellationToken cancellationToken)
    {
        string subjectEf = ExtendedTransaction.FromBeef(beef, subject).ToHex();
        if (!HasUnprovenAncestor(beef, subject))
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

    private static bool HasUnprovenAncestor(Beef beef, Hash256 subject)
    {
        foreach (BeefTx entry in beef.Transactions)
        {
            if (!entry.IsProven && !entry.IsTxIdOnly && entry.TxId != subject)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An endpoint accepted the transaction: the record moves to broadcast and is watched until mined.</summary>
    private async Task MarkBroadcastAsync(string txid, ArcOutcome accepted, CancellationToken cancellationToken)
    {
        string arcStatus = accepted.Response?.TxStatus ?? "ACCEPTED";
        await records.Store.SaveAsync(new StateWrite(WatchPrefix + txid, JsonSerializer.SerializeToUtf8Bytes(accepted.Endpoint)), cancellationToken).ConfigureAwait(false);
        await _watched.AddAsync(txid, cancellationToken).ConfigureAwait(false);
        TxRecord? moved = await records.MoveAsync(txid, TxStatus.Broadcast, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (moved is not null)
        {
            Telemetry.RecordStage(moved, "broadcast");
        }

        if (moved is not null || await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is ({ Status: TxStatus.Broadcast }, _))
        {
            await PublishAsync(Names.Topics.TxBroadcast, txid, new TxBroadcast(txid, accepted.Endpoint, arcStatus), cancellationToken).ConfigureAwait(false);
        }

        if (accepted.Response is { TxStatus: "MINED", MerklePath: { Length: > 0 } path, BlockHash: var hash, BlockHeight: var height })
        {
            await MarkMinedAsync(txid, path, hash ?? string.Empty, height ?? 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Every delivery was retried: the endpoints are asked once more what they hold. Accepted after all, the record
    /// moves on; still an orphan, it fails BROADCAST_ORPHANED; refused, BROADCAST_REJECTED; no answer, BROADCAST_UNREACHABLE.
    /// </summary>
    internal async Task<DeliveryResult> HandleUnreachableAsync(CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        // Only a record still verified was never broadcast: a duplicate or late dead letter must not fail a broadcast record.
        if (Read<BeefVerified>(cloudEvent) is not { } verified
            || await records.GetAsync(verified.TxId, cancellationToken).ConfigureAwait(false) is not ({ Status: TxStatus.Verified }, _))
        {
            return DeliveryResult.Success;
        }

        var calls = new Task<ArcOutcome>[options.Endpoints.Count];
        for (int i = 0; i < calls.Length; i++)
        {
            calls[i] = arc.StatusAsync(options.Endpoints[i], verified.TxId, cancellationToken);
        }

        ArcOutcome[] statuses = await Task.WhenAll(calls).ConfigureAwait(false);
        if (Array.Find(statuses, o => o.Verdict == ArcVerdict.Accepted) is { } accepted)
        {
            await MarkBroadcastAsync(verified.TxId, accepted, cancellationToken).ConfigureAwait(false);
        }
        else if (Array.Exists(statuses, o => o.Response?.TxStatus == "SEEN_IN_ORPHAN_MEMPOOL"))
        {
            await FailAsync(verified.TxId, ReasonCodes.BroadcastOrphaned,
                $"ARC still held the transaction as an orphan after every retry: an unconfirmed ancestor never reached the network ({ArcClient.ReasonFor(statuses)})",
                cancellationToken).ConfigureAwait(false);
        }
        else if (Array.Exists(statuses, o => o.Verdict is ArcVerdict.Rejected or ArcVerdict.DoubleSpend && o.Response?.TxStatus is { Length: > 0 }))
        {
            await FailAsync(verified.TxId, ReasonCodes.BroadcastRejected, ArcClient.ReasonFor(statuses), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await FailAsync(verified.TxId, ReasonCodes.BroadcastUnreachable,
                $"no ARC endpoint accepted the transaction after every retry ({ArcClient.ReasonFor(statuses)})", cancellationToken).ConfigureAwait(false);
        }

        return DeliveryResult.Success;
    }

    /// <summary>
    /// Records a MINED report (from a callback, the poller, or ARC's answer): the BEEF is upgraded with the merkle path,
    /// the record moves to mined, <c>tx.mined</c> is published and the watch ends. Repeats change nothing.
    /// </summary>
    public async Task MarkMinedAsync(string txid, string merklePathHex, string blockHash, long blockHeight, CancellationToken cancellationToken)
    {
        using Activity? activity = Telemetry.Source.StartActivity("tx.mined record");
        activity?.SetTag("atomic.txid", txid);
        MerklePath path;
        try
        {
            path = MerklePath.FromHex(merklePathHex);
            Hash256 id = Hash256.FromDisplayHex(txid);
            _ = path.ComputeRoot(id); // the path must prove this transaction
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or MerklePathException)
        {
            logger.LogWarning("ignoring a MINED report for {TxId} with an unusable merkle path: {Message}", txid, e.Message);
            return;
        }

        // The kept BEEF is upgraded first (proving it again changes nothing), then the record moves.
        if (await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is ({ Status: TxStatus.Broadcast }, _))
        {
            await records.ChangeBeefAsync(txid, beef => Upgrade(beef, txid, path), cancellationToken).ConfigureAwait(false);
        }

        TxRecord? moved = await records.MoveAsync(txid, TxStatus.Mined, record => record with
        {
            MerklePath = merklePathHex,
            Beef = null,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (moved is not null)
        {
            Telemetry.RecordStage(moved, "mined");
        }

        if (moved is not null || await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is ({ Status: TxStatus.Mined }, _))
        {
            await PublishAsync(Names.Topics.TxMined, txid, new TxMined(txid, blockHeight, blockHash, merklePathHex), cancellationToken).ConfigureAwait(false);
            await UnwatchAsync(txid, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Records a REJECTED report for a broadcast transaction (from a callback): the record fails with
    /// BROADCAST_REJECTED and <c>tx.failed</c> is published. False when the record is not broadcast (a stale report).
    /// </summary>
    public async Task<bool> MarkRejectedAsync(string txid, string reason, CancellationToken cancellationToken)
    {
        if (await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is not ({ Status: TxStatus.Broadcast }, _))
        {
            return false;
        }

        await FailAsync(txid, ReasonCodes.BroadcastRejected, reason, cancellationToken).ConfigureAwait(false);
        await UnwatchAsync(txid, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Asks the endpoints about every watched transaction once; MINED ones are recorded. The watched ones come from the
    /// <see cref="WatchIndex"/>, not from listing keys, so this works on Dapr's state API too.
    /// </summary>
    public async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> watched = await _watched.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (watched.Count == 0)
        {
            return;
        }

        // At most MaxPollsPerTick status calls a tick, taking turns through the watched transactions: ARC's callbacks
        // are the main way to learn of a block, and polling thousands of transactions every tick would starve the rest.
        int count = Math.Min(watched.Count, Math.Max(1, options.MaxPollsPerTick));
        int start = (int)((Interlocked.Add(ref _pollCursor, count) - count) % watched.Count);
        for (int i = 0; i < count; i++)
        {
            string txid = watched[(start + i) % watched.Count];
            foreach (ArcEndpoint endpoint in options.Endpoints)
            {
                ArcOutcome outcome = await arc.StatusAsync(endpoint, txid, cancellationToken).ConfigureAwait(false);
                if (outcome.Response is { TxStatus: "MINED", MerklePath: { Length: > 0 } path } response)
                {
                    await MarkMinedAsync(txid, path, response.BlockHash ?? string.Empty, response.BlockHeight ?? 0, cancellationToken).ConfigureAwait(false);
                    break;
                }
            }
        }
    }

    /// <summary>Polls every <see cref="BroadcasterOptions.PollInterval"/> until stopped.</summary>
    public async Task RunPollerAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await PollOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "polling ARC for mined transactions failed; trying again next tick");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task UnwatchAsync(string txid, CancellationToken cancellationToken)
    {
        await records.Store.DeleteAsync(WatchPrefix + txid, cancellationToken: cancellationToken).ConfigureAwait(false);
        await _watched.RemoveAsync(txid, cancellationToken).ConfigureAwait(false);
    }

    private static byte[] Upgrade(byte[] bytes, string txid, MerklePath path)
    {
        Beef beef = Beef.FromMemory(bytes);
        beef.Prove(Hash256.FromDisplayHex(txid), path);
        return beef.ToBytes();
    }

    private async Task FailAsync(string txid, string code, string reason, CancellationToken cancellationToken)
    {
        TxRecord? moved = await records.MoveAsync(txid, TxStatus.Failed, r => r with { Reason = reason }, code, cancellationToken).ConfigureAwait(false);
        if (moved is not null)
        {
            logger.LogWarning("transaction {TxId} failed: {Code}: {Reason}", txid, code, reason);
        }

        if (moved is not null || await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is ({ Status: TxStatus.Failed }, _))
        {
            await PublishAsync(Names.Topics.TxFailed, txid, new TxProblem(txid, code, reason), cancellationToken).ConfigureAwait(false);
        }
    }

    private static T? Read<T>(CloudEvent cloudEvent)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(cloudEvent.Data.Span, TxRecords.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private Task PublishAsync<T>(string topic, string txid, T data, CancellationToken cancellationToken) =>
        pubsub.PublishAsync(CloudEvent.Create(Names.PubSub, topic, JsonSerializer.SerializeToUtf8Bytes(data, TxRecords.Json), txid, source: Names.Apps.Broadcaster), cancellationToken);
}
