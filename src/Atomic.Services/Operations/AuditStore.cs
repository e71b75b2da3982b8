using System.Text.Json;
using Atomic.Services.Pipeline;
using Dapr;
using Dapr.Client;

namespace Atomic.Services.Operations;

/// <summary>
/// The audit log in <c>txstore</c>: entry <c>audit|{seq}</c> and the head <c>audit|head</c> (<c>{"seq":N,"hash":"…"}</c>).
/// daprd refuses keys holding <c>||</c>, so the design's <c>audit||</c> prefix is written <c>audit|</c>, as for <c>tx|</c>.
/// </summary>
public sealed class AuditStore(DaprClient dapr)
{
    public const string HeadKey = "audit|head";

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };

    public static string EntryKey(long seq) => $"audit|{seq}";

    /// <summary>The head (seq 0 and the genesis hash when the log is empty) and its ETag (null when absent).</summary>
    public async Task<(AuditHead Head, string? ETag)> GetHeadAsync(CancellationToken cancellationToken = default)
    {
        (ReadOnlyMemory<byte> value, string etag) = await dapr.GetByteStateAndETagAsync(Names.TxStore, HeadKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return value.IsEmpty ? (new AuditHead(0, AuditEntry.Genesis), null) : (JsonSerializer.Deserialize<AuditHead>(value.Span, TxRecords.Json)!, etag);
    }

    public async Task<AuditEntry?> GetAsync(long seq, CancellationToken cancellationToken = default)
    {
        ReadOnlyMemory<byte> value = await dapr.GetByteStateAsync(Names.TxStore, EntryKey(seq), cancellationToken: cancellationToken).ConfigureAwait(false);
        return value.IsEmpty ? null : AuditEntry.FromJson(value.Span);
    }

    /// <summary>The stored JSON of entries <paramref name="from"/>..<paramref name="to"/>, in seq order; a missing entry answers null.</summary>
    public async Task<IReadOnlyList<(long Seq, string? Json)>> ReadAsync(long from, long to, CancellationToken cancellationToken = default)
    {
        var keys = new List<string>((int)(to - from + 1));
        for (long seq = from; seq <= to; seq++)
        {
            keys.Add(EntryKey(seq));
        }

        var byKey = new Dictionary<string, string>(keys.Count, StringComparer.Ordinal);
        for (int i = 0; i < keys.Count; i += 1_000)
        {
            IReadOnlyList<BulkStateItem> items = await dapr.GetBulkStateAsync(Names.TxStore, keys.GetRange(i, Math.Min(1_000, keys.Count - i)), parallelism: 4,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (BulkStateItem item in items)
            {
                if (!string.IsNullOrEmpty(item.Value))
                {
                    byKey[item.Key] = item.Value;
                }
            }
        }

        var rows = new List<(long, string?)>(keys.Count);
        for (long seq = from; seq <= to; seq++)
        {
            rows.Add((seq, byKey.GetValueOrDefault(EntryKey(seq))));
        }

        return rows;
    }

    /// <summary>Saves an entry only when its key is absent; false when another writer holds that seq already.</summary>
    internal async Task<bool> TryAddAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.SaveByteStateAsync(Names.TxStore, EntryKey(entry.Seq), entry.ToJson(), FirstWrite, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DaprException e) when (TxRecords.IsConflict(e))
        {
            return false;
        }
    }

    /// <summary>
    /// Saves the entries with one call (the SDK's bulk save), each only where its key is absent: true when every one
    /// was saved; false when one was refused, and then any of them may or may not be saved (daprd's bulk save stops at a
    /// refusal, or goes on, depending on the store), which the caller finds out with <see cref="GetAsync"/>.
    /// </summary>
    internal async Task<bool> TryAddAllAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        var items = new List<SaveStateItem<StoredValue>>(entries.Count);
        foreach (AuditEntry entry in entries)
        {
            items.Add(new SaveStateItem<StoredValue>(EntryKey(entry.Seq), new StoredValue(entry.ToJson()), null!, FirstWrite));
        }

        try
        {
            await dapr.SaveBulkStateAsync(Names.TxStore, items, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DaprException e) when (TxRecords.IsConflict(e))
        {
            return false;
        }
    }

    /// <summary>Moves the head guarded by its ETag (or, with none, only when absent); false on a conflict.</summary>
    internal async Task<bool> TryMoveHeadAsync(AuditHead head, string? etag, CancellationToken cancellationToken)
    {
        byte[] value = JsonSerializer.SerializeToUtf8Bytes(head, TxRecords.Json);
        return await dapr.TrySaveBytesAsync(Names.TxStore, HeadKey, value, etag, FirstWrite, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The last appended entry's seq and hash.</summary>
public sealed record AuditHead(
    [property: System.Text.Json.Serialization.JsonPropertyName("seq")] long Seq,
    [property: System.Text.Json.Serialization.JsonPropertyName("hash")] string Hash);
