using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using Dapr;
using Dapr.Client;
using Atomic.Services.Operations;
using Grpc.Core;

namespace Atomic.Services.Pipeline;

/// <summary>
/// Reads and moves transaction records in <c>txstore</c> through the Dapr state API. A move is applied with the
/// record's ETag, and a move the state machine does not allow from the current status is a no-op: that one rule makes
/// duplicate deliveries and resubmissions harmless. Reads and moves of records made at the same time by the stages'
/// concurrent deliveries go to the sidecar together (<see cref="Coalescer{TIn, TOut}"/>): one bulk read, one bulk save.
/// </summary>
public sealed class TxRecords(DaprClient dapr, TimeProvider time, TxWatch? watch = null, RecentTransactions? recent = null, AuditLog? audit = null,
    BeefHandOff? handOff = null)
{
    private const int MaxAttempts = 16;

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };
    private static readonly StateOptions LastWrite = new() { Concurrency = ConcurrencyMode.LastWrite, Consistency = ConsistencyMode.Strong };

    private readonly Coalescer<string, (ReadOnlyMemory<byte> Value, string ETag)> _reads = new(static key => key, keys => ReadAllAsync(dapr, keys));
    private readonly Coalescer<Save, bool> _saves = new(static save => save.Key, saves => SaveAllAsync(dapr, saves));
    private readonly Coalescer<Save, bool> _keeps = new(static keep => keep.Key, keeps => KeepAllAsync(dapr, keeps));
    private readonly Coalescer<Creation, Exception?> _creations = new(static creation => creation.TxId, creations => CreateAllAsync(dapr, creations), maxBatch: 32);

    public DaprClient Dapr => dapr;

    /// <summary>Where this process's accepted and moved records are listed for the dashboard, when it keeps that list.</summary>
    internal RecentTransactions? Recent => recent;

    /// <summary>Where this process queues audit entries for the records it accepts and moves, when it keeps the audit log.</summary>
    internal AuditLog? Audit => audit;

    /// <summary>Where the intake hands the BEEFs it keeps to this process's verifier, when it runs one.</summary>
    internal BeefHandOff? HandOff => handOff;

    public async Task<(TxRecord Record, string ETag)?> GetAsync(string txid, CancellationToken cancellationToken = default)
    {
        (ReadOnlyMemory<byte> value, string etag) = await _reads.CallAsync(Names.TxKey(txid), cancellationToken).ConfigureAwait(false);
        return value.IsEmpty ? null : (TxRecord.FromJson(value.Span), etag);
    }

    /// <summary>Records read at the same time: one key alone, several in one bulk read (each answered by its key).</summary>
    internal static async Task<(ReadOnlyMemory<byte> Value, string ETag)[]> ReadAllAsync(DaprClient dapr, IReadOnlyList<string> keys)
    {
        if (keys.Count == 1)
        {
            return [await dapr.GetByteStateAndETagAsync(Names.TxStore, keys[0]).ConfigureAwait(false)];
        }

        IReadOnlyList<BulkStateItem> items = await dapr.GetBulkStateAsync(Names.TxStore, keys, parallelism: null).ConfigureAwait(false);
        var found = new Dictionary<string, BulkStateItem>(items.Count, StringComparer.Ordinal);
        foreach (BulkStateItem item in items)
        {
            found[item.Key] = item;
        }

        // Records are JSON, so the SDK's UTF-8 string of each value gives its bytes back exactly.
        var answers = new (ReadOnlyMemory<byte> Value, string ETag)[keys.Count];
        for (int i = 0; i < answers.Length; i++)
        {
            answers[i] = found.TryGetValue(keys[i], out BulkStateItem item) && !string.IsNullOrEmpty(item.Value)
                ? (Encoding.UTF8.GetBytes(item.Value), item.ETag ?? string.Empty)
                : (ReadOnlyMemory<byte>.Empty, string.Empty);
        }

        return answers;
    }

    /// <summary>
    /// Saves made at the same time, each guarded by its ETag (moves, under last-write) or saved only when absent (BEEFs:
    /// no ETag, first-write): one alone, several in one bulk save. When any loses to another writer the bulk save fails
    /// (having written some, all or none of the rest), and each is then settled on its own: saved now, or found saved
    /// already with exactly its value (the bulk save wrote it), or lost.
    /// </summary>
    internal static async Task<bool[]> SaveAllAsync(DaprClient dapr, IReadOnlyList<Save> saves, StateOptions? options = null)
    {
        options ??= LastWrite;
        if (saves.Count == 1)
        {
            return [await dapr.TrySaveBytesAsync(Names.TxStore, saves[0].Key, saves[0].Value, saves[0].ETag, options, CancellationToken.None).ConfigureAwait(false)];
        }

        var items = new List<SaveStateItem<StoredValue>>(saves.Count);
        foreach (Save save in saves)
        {
            items.Add(new SaveStateItem<StoredValue>(save.Key, new StoredValue(save.Value), save.ETag!, options));
        }

        try
        {
            await dapr.SaveBulkStateAsync(Names.TxStore, items).ConfigureAwait(false);
            bool[] saved = new bool[saves.Count];
            Array.Fill(saved, true);
            return saved;
        }
        catch (DaprException e) when (IsConflict(e))
        {
            // settled one by one below
        }

        var settled = new Task<bool>[saves.Count];
        for (int i = 0; i < settled.Length; i++)
        {
            settled[i] = SettleAsync(dapr, saves[i], options);
        }

        return await Task.WhenAll(settled).ConfigureAwait(false);
    }

    private static async Task<bool> SettleAsync(DaprClient dapr, Save save, StateOptions options)
    {
        if (await dapr.TrySaveBytesAsync(Names.TxStore, save.Key, save.Value, save.ETag, options, CancellationToken.None).ConfigureAwait(false))
        {
            return true;
        }

        (ReadOnlyMemory<byte> stored, _) = await dapr.GetByteStateAndETagAsync(Names.TxStore, save.Key).ConfigureAwait(false);
        return stored.Span.SequenceEqual(save.Value.Span);
    }

    /// <summary>
    /// Saves a new record and its <c>beef.submitted</c> event (the record's projection, <c>outbox.projection</c>) in one
    /// transaction on the outbox store: both commit, or neither. False when a record of that txid is there already (the
    /// record's first write refused). Records created at the same time go in one transaction, each still a pair of its
    /// own; when that fails (a record there already, or a store taking fewer operations at once), each goes again in a
    /// transaction of its own, so one submission's answer is never another's.
    /// </summary>
    internal async Task<bool> CreateAsync(string txid, byte[] record, byte[] submitted, CancellationToken cancellationToken)
    {
        Exception? error = await _creations.CallAsync(new Creation(txid, record, submitted, Activity.Current?.Context ?? default), cancellationToken).ConfigureAwait(false);
        if (error is DaprException e && IsConflict(e))
        {
            return false;
        }

        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        return true;
    }

    /// <summary>Creations made at the same time: null for each one saved, or what its own transaction failed with.</summary>
    private static async Task<Exception?[]> CreateAllAsync(DaprClient dapr, IReadOnlyList<Creation> creations)
    {
        if (creations.Count > 1)
        {
            var operations = new List<StateTransactionRequest>(creations.Count * 2);
            foreach (Creation creation in creations)
            {
                operations.AddRange(creation.Operations());
            }

            // The outbox gives every event the call's trace: the batch's own, linked to each submission's.
            using Activity? activity = Telemetry.StartBatch("txstore create records", ActivityKind.Client, creations, static c => c.Trace);
            activity?.SetTag("atomic.records", creations.Count);
            try
            {
                await dapr.ExecuteStateTransactionAsync(Names.TxStore, operations).ConfigureAwait(false);
                return new Exception?[creations.Count];
            }
            catch (DaprException)
            {
                // settled one by one below
            }
        }

        var each = new Task<Exception?>[creations.Count];
        for (int i = 0; i < each.Length; i++)
        {
            each[i] = CreateOneAsync(dapr, creations[i]);
        }

        return await Task.WhenAll(each).ConfigureAwait(false);
    }

    private static async Task<Exception?> CreateOneAsync(DaprClient dapr, Creation creation)
    {
        try
        {
            await dapr.ExecuteStateTransactionAsync(Names.TxStore, creation.Operations()).ConfigureAwait(false);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>A new record in <see cref="TxStatus.Received"/> (not yet saved).</summary>
    public TxRecord New(string txid, IReadOnlyList<string> topics, IReadOnlyList<string> baskets)
    {
        DateTimeOffset now = time.GetUtcNow();
        return new TxRecord(txid, TxStatus.Received, null, topics, baskets, null, null, null, [new TxHistoryEntry(TxStatus.Received, now)], now);
    }

    /// <summary>
    /// The transaction's BEEF as the pipeline keeps it (verified, upgraded once mined) and the ETag of
    /// <c>beef|{txid}</c>; a record written before BEEFs were kept apart answers its own (ETag null); null when none
    /// is kept (not verified yet, or rejected).
    /// </summary>
    public async Task<(byte[] Beef, string? ETag)?> GetBeefAsync(string txid, CancellationToken cancellationToken = default)
    {
        (ReadOnlyMemory<byte> value, string etag) = await dapr.GetByteStateAndETagAsync(Names.TxStore, Names.BeefKey(txid), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!value.IsEmpty)
        {
            return (value.ToArray(), etag);
        }

        return await GetAsync(txid, cancellationToken).ConfigureAwait(false) is ({ Beef: string legacy }, _) ? (Convert.FromBase64String(legacy), null) : null;
    }

    /// <summary>
    /// Keeps a verified BEEF at <c>beef|{txid}</c> unless one is kept already: the first verified BEEF stays, so a late
    /// duplicate delivery can never replace a BEEF upgraded since. Saves, never a transaction: every transaction on the
    /// outbox store is published. BEEFs kept at the same time go in one bulk save (their bytes as they are,
    /// <see cref="StoredValue"/>); when a key there already fails it, each is settled on its own. True when this call
    /// saved it (or, after a failed bulk save, found exactly these bytes kept).
    /// </summary>
    public Task<bool> KeepBeefAsync(string txid, ReadOnlyMemory<byte> beef, CancellationToken cancellationToken = default) =>
        _keeps.CallAsync(new Save(Names.BeefKey(txid), beef, null), cancellationToken);

    /// <summary>BEEFs kept at the same time (saves with no ETag): <see cref="SaveAllAsync"/> under first-write.</summary>
    internal static Task<bool[]> KeepAllAsync(DaprClient dapr, IReadOnlyList<Save> keeps) => SaveAllAsync(dapr, keeps, FirstWrite);

    /// <summary>
    /// Replaces the kept BEEF with <paramref name="change"/> of it, guarded by its ETag and retried on a conflict; a
    /// record's own BEEF (written before BEEFs were kept apart) moves to <c>beef|{txid}</c>. False when none is kept.
    /// </summary>
    public async Task<bool> ChangeBeefAsync(string txid, Func<byte[], byte[]> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        handOff?.Forget(txid);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (await GetBeefAsync(txid, cancellationToken).ConfigureAwait(false) is not var (beef, etag))
            {
                return false;
            }

            if (await TrySaveAsync(Names.BeefKey(txid), change(beef), etag, etag is null ? FirstWrite : LastWrite, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            // Changed (or moved out of a legacy record) meanwhile: read again.
        }

        throw new InvalidOperationException($"the BEEF of {txid} kept changing under {MaxAttempts} attempts to change it");
    }

    /// <summary>
    /// Moves the record to <paramref name="to"/>, applying <paramref name="change"/>; returns the moved record, or null
    /// when there is no record or the move is not allowed from its status (already done, or overtaken).
    /// </summary>
    public Task<TxRecord?> MoveAsync(string txid, TxStatus to, Func<TxRecord, TxRecord>? change = null, string? code = null, CancellationToken cancellationToken = default) =>
        MoveAsync(txid, null, to, change, code, cancellationToken);

    /// <summary>
    /// <see cref="MoveAsync(string, TxStatus, Func{TxRecord, TxRecord}?, string?, CancellationToken)"/> from a record the
    /// caller has just read, which saves reading it again; if it has changed since, its ETag no longer matches and the
    /// move reads it again and decides again.
    /// </summary>
    public Task<TxRecord?> MoveAsync((TxRecord Record, string ETag) read, TxStatus to, Func<TxRecord, TxRecord>? change = null, string? code = null,
        CancellationToken cancellationToken = default) =>
        MoveAsync(read.Record.TxId, read, to, change, code, cancellationToken);

    private async Task<TxRecord?> MoveAsync(string txid, (TxRecord Record, string ETag)? read, TxStatus to, Func<TxRecord, TxRecord>? change, string? code, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if ((attempt == 0 && read is { } known ? known : await GetAsync(txid, cancellationToken).ConfigureAwait(false)) is not var (record, etag))
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
            if (await _saves.CallAsync(new Save(Names.TxKey(txid), moved.ToJson(), etag), cancellationToken).ConfigureAwait(false))
            {
                watch?.Moved(txid, moved);
                recent?.Record(txid, to, now, moved.Baskets);
                audit?.Moved(txid, to, moved.Code);
                return moved;
            }

            // Someone moved it first: read again and decide again.
        }

        throw new InvalidOperationException($"transaction record {txid} kept changing under {MaxAttempts} attempts to move it to {to}");
    }

    /// <summary>Saves guarded by <paramref name="etag"/> (or, under first-write without one, only when absent); false on a conflict.</summary>
    internal Task<bool> TrySaveAsync(string key, ReadOnlyMemory<byte> value, string? etag, StateOptions options, CancellationToken cancellationToken) =>
        dapr.TrySaveBytesAsync(Names.TxStore, key, value, etag, options, cancellationToken);

    /// <summary>daprd answers an ETag mismatch, or a first write over an existing key, with gRPC <c>Aborted</c>.</summary>
    internal static bool IsConflict(DaprException e) => e.InnerException is RpcException { StatusCode: StatusCode.Aborted };

    internal static JsonSerializerOptions Json => TxRecord.Json;

    /// <summary>A save: a record move's (the record's key, its new JSON, the ETag it was read with) or a BEEF's (no ETag).</summary>
    internal sealed record Save(string Key, ReadOnlyMemory<byte> Value, string? ETag);

    /// <summary>A new record's JSON, its <c>beef.submitted</c> event's, and the submitter's span.</summary>
    private sealed record Creation(string TxId, byte[] Record, byte[] Submitted, ActivityContext Trace)
    {
        /// <summary>The record, saved only when absent, and the event the outbox publishes for it in its place.</summary>
        public StateTransactionRequest[] Operations() =>
        [
            new StateTransactionRequest(Names.TxKey(TxId), Record, StateOperationType.Upsert, options: new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }),
            new StateTransactionRequest(Names.TxKey(TxId), Submitted, StateOperationType.Upsert, metadata: new Dictionary<string, string>
            {
                ["outbox.projection"] = "true",
                ["cloudevent.type"] = Names.Topics.BeefSubmitted,
                ["cloudevent.subject"] = TxId,
            }),
        ];
    }
}
