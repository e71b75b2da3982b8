using System.Text.Json;
using Atomic.Runtime.State;

namespace Atomic.Services.Transactions;

/// <summary>
/// Reads and moves transaction records. A move is applied with the record's ETag, and a move the state machine does
/// not allow from the current status is a no-op: that one rule makes duplicate deliveries and resubmissions harmless.
/// </summary>
public sealed class TxRecords(IStateStore store, TimeProvider time)
{
    private const int MaxAttempts = 16;

    public IStateStore Store => store;

    public async Task<(TxRecord Record, string ETag)?> GetAsync(string txid, CancellationToken cancellationToken = default)
    {
        StateItem? item = await store.GetAsync(Names.TxKey(txid), cancellationToken).ConfigureAwait(false);
        return item is null ? null : (TxRecord.FromJson(item.Value.Span), item.ETag);
    }

    /// <summary>A new record in <see cref="TxStatus.Received"/> (not yet saved).</summary>
    public TxRecord New(string txid, string beefBase64, IReadOnlyList<string> topics, IReadOnlyList<string> baskets)
    {
        DateTimeOffset now = time.GetUtcNow();
        return new TxRecord(txid, TxStatus.Received, beefBase64, topics, baskets, null, null, null, [new TxHistoryEntry(TxStatus.Received, now)], now);
    }

    /// <summary>
    /// Moves the record to <paramref name="to"/>, applying <paramref name="change"/>; returns the moved record, or null
    /// when there is no record or the move is not allowed from its status (already done, or overtaken).
    /// </summary>
    public async Task<TxRecord?> MoveAsync(string txid, TxStatus to, Func<TxRecord, TxRecord>? change = null, string? code = null, CancellationToken cancellationToken = default)
    {
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (await GetAsync(txid, cancellationToken).ConfigureAwait(false) is not var (record, etag))
            {
                return null;
            }

            if (!TxRecord.CanMove(record.Status, to))
            {
                return null;
            }

            DateTimeOffset now = time.GetUtcNow();
            TxRecord moved = (change?.Invoke(record) ?? record) with
            {
                Status = to,
                Code = code ?? (to is TxStatus.Rejected or TxStatus.Failed ? record.Code : null),
                History = [.. record.History, new TxHistoryEntry(to, now, code)],
                UpdatedAt = now,
            };
            try
            {
                await store.SaveAsync(new StateWrite(Names.TxKey(txid), moved.ToJson(), etag), cancellationToken).ConfigureAwait(false);
                return moved;
            }
            catch (StateConcurrencyException)
            {
                // Someone moved it first: read again and decide again.
            }
        }

        throw new InvalidOperationException($"transaction record {txid} kept changing under {MaxAttempts} attempts to move it to {to}");
    }

    internal static JsonSerializerOptions Json => TxRecord.Json;
}
