using System.Diagnostics;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Services.Pipeline;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// Records what ARC reports of a broadcast transaction, from its callbacks, the poller or its answer to the broadcast:
/// MINED upgrades the kept BEEF with the merkle path and moves the record to mined; REJECTED fails it. Repeats change
/// nothing.
/// </summary>
public sealed class MinedRecorder(TxRecords records, EventPublisher events, WatchIndex watched, ILogger<MinedRecorder> logger)
{
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
            await events.PublishAsync(Names.Topics.TxMined, txid, new TxMined(txid, blockHeight, blockHash, merklePathHex), cancellationToken).ConfigureAwait(false);
            await watched.RemoveAsync(txid, cancellationToken).ConfigureAwait(false);
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
        await watched.RemoveAsync(txid, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The record fails with <paramref name="code"/> and <c>tx.failed</c> is published (again, for a record failed already).</summary>
    public async Task FailAsync(string txid, string code, string reason, CancellationToken cancellationToken)
    {
        TxRecord? moved = await records.MoveAsync(txid, TxStatus.Failed, r => r with { Reason = reason }, code, cancellationToken).ConfigureAwait(false);
        if (moved is not null)
        {
            logger.LogWarning("transaction {TxId} failed: {Code}: {Reason}", txid, code, reason);
        }

        if (moved is not null || await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is ({ Status: TxStatus.Failed }, _))
        {
            await events.PublishAsync(Names.Topics.TxFailed, txid, new TxProblem(txid, code, reason), cancellationToken).ConfigureAwait(false);
        }
    }

    private static byte[] Upgrade(byte[] bytes, string txid, MerklePath path)
    {
        Beef beef = Beef.FromMemory(bytes);
        Hash256 subject = Hash256.FromDisplayHex(txid);
        beef.Prove(subject, path);

        // Proven, the transaction needs none of its ancestors, and an Atomic BEEF may hold nothing it does not need.
        return beef.IsAtomic ? beef.ToAtomicBytes(subject) : beef.ToBytes();
    }
}
