using System.Text.Json;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// The transactions the MINED poller asks about: 4,096 shard keys <c>watch-index|{000..fff}</c> in <c>txstore</c> (by
/// the txid's first three hex digits), each a JSON array of txids, since Dapr's state API cannot list keys. Changes made
/// at the same time in this process are written together, a round at a time: one bulk read of the shards they touch and
/// one bulk save, each shard guarded by its ETag, with each shard written on its own after a conflict with another
/// process; each caller's task completes only once its change is written. So concurrent broadcasters never lose an
/// entry, and a busy broadcaster makes two calls per round rather than two per transaction. A change rewrites its whole
/// shard, so the shards are many and small: with 40,000 transactions waiting for a block a change rewrites about 650
/// bytes (with the 256 shards of earlier versions it was 10 KB, and the pipeline benchmark 6% slower). Bounded: a
/// shard holds at most <see cref="ShardCapacity"/> txids; past that a transaction is still watched by its callback,
/// just not polled.
/// </summary>
/// <remarks>
/// Earlier versions kept 256 shards, <c>watch-index|{00..ff}</c>. A process's first <see cref="ReadAsync"/> also reads
/// those, adds what they hold to today's shards and then deletes each, guarded by its ETag; so does every read after
/// one that found some, and one read every <see cref="LegacyRecheck"/> after that. An entry a broadcaster of an earlier
/// version adds during a rolling upgrade is thus moved within that time, and a poll otherwise reads only today's keys
/// (one bulk read of 4,096: on a store that bills each key read, a longer poll interval keeps that down).
/// </remarks>
public sealed class WatchIndex
{
    /// <summary>The shards' key prefix (<c>watch-index||</c> in the design; daprd refuses <c>||</c> in keys).</summary>
    public const string ShardPrefix = "watch-index|";

    /// <summary>Txids one shard holds (about 34 KB of JSON; two million in all).</summary>
    public const int ShardCapacity = 512;

    private const int MaxAttempts = 20;

    private static readonly string[] Shards = [.. Enumerable.Range(0, 4096).Select(i => ShardPrefix + i.ToString("x3", System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The shards of earlier versions (<c>watch-index|{00..ff}</c>), moved into <see cref="Shards"/> by <see cref="ReadAsync"/>.</summary>
    private static readonly string[] LegacyShards = [.. Enumerable.Range(0, 256).Select(i => ShardPrefix + i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>How often the shards of earlier versions are looked at again once a read found them empty.</summary>
    public static readonly TimeSpan LegacyRecheck = TimeSpan.FromMinutes(10);

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };

    private readonly DaprClient _dapr;
    private readonly ILogger<WatchIndex> _logger;
    private readonly Coalescer<Change, bool> _changes;

    /// <summary>When a read last found the shards of earlier versions empty (<see cref="Environment.TickCount64"/>), or null.</summary>
    private long? _legacyEmptyAt;

    public WatchIndex(DaprClient dapr, ILogger<WatchIndex> logger)
    {
        _dapr = dapr;
        _logger = logger;
        // One round at a time: two rounds touching the same shard would only make each other retry.
        _changes = new Coalescer<Change, bool>(static change => change.TxId, ApplyAsync, maxBatch: 1024, maxInFlight: 1);
    }

    /// <summary>The shard key of a txid (its first three hex digits, lower case).</summary>
    public static string ShardOf(string txid) => ShardPrefix + (txid.Length >= 3 ? txid[..3].ToLowerInvariant() : "000");

    public Task AddAsync(string txid, CancellationToken cancellationToken) => ChangeAsync(txid, add: true, cancellationToken);

    public Task RemoveAsync(string txid, CancellationToken cancellationToken) => ChangeAsync(txid, add: false, cancellationToken);

    /// <summary>Every watched txid (one bulk read of the shards, after moving any an earlier version left in its shards).</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(CancellationToken cancellationToken)
    {
        if (_legacyEmptyAt is not long emptyAt || Environment.TickCount64 - emptyAt >= (long)LegacyRecheck.TotalMilliseconds)
        {
            _legacyEmptyAt = await MoveLegacyShardsAsync(cancellationToken).ConfigureAwait(false) ? Environment.TickCount64 : null;
        }

        var all = new List<string>();
        foreach (BulkStateItem item in await _dapr.GetBulkStateAsync(Names.TxStore, Shards, parallelism: null, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            all.AddRange(Parse(item.Value));
        }

        return all;
    }

    /// <summary>
    /// Adds what the shards of earlier versions hold to today's shards, then deletes each if it has not changed since it
    /// was read; true when they were all empty.
    /// </summary>
    private async Task<bool> MoveLegacyShardsAsync(CancellationToken cancellationToken)
    {
        bool empty = true;
        foreach (BulkStateItem item in await _dapr.GetBulkStateAsync(Names.TxStore, LegacyShards, parallelism: null, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (string.IsNullOrEmpty(item.Value))
            {
                continue;
            }

            empty = false;
            List<string> txids = Parse(item.Value);
            await Task.WhenAll(txids.Select(txid => ChangeAsync(txid, add: true, cancellationToken))).ConfigureAwait(false);
            if (!await _dapr.TryDeleteStateAsync(Names.TxStore, item.Key, item.ETag, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                _logger.LogInformation("the old watch index shard {Shard} changed while it was moved; the next read moves the rest", item.Key);
            }
        }

        return empty;
    }

    private Task ChangeAsync(string txid, bool add, CancellationToken cancellationToken)
    {
        if (!Outpoints.IsTxId(txid))
        {
            return Task.CompletedTask; // not a txid: never indexed
        }

        return _changes.CallAsync(new Change(txid.ToLowerInvariant(), add), cancellationToken);
    }

    /// <summary>
    /// One round of changes: the shards they touch read in one bulk read and written in one bulk save, each guarded by
    /// its ETag (first write for a shard not there yet). If another process changed a shard meanwhile, the bulk save
    /// fails (having written some shards or none), and each shard of the round is written on its own, read again
    /// first: a change already there is not made twice.
    /// </summary>
    private async Task<bool[]> ApplyAsync(IReadOnlyList<Change> changes)
    {
        var byShard = new Dictionary<string, List<Change>>(StringComparer.Ordinal);
        foreach (Change change in changes)
        {
            string key = ShardOf(change.TxId);
            if (!byShard.TryGetValue(key, out List<Change>? round))
            {
                byShard[key] = round = [];
            }

            round.Add(change);
        }

        bool written = false;
        if (byShard.Count > 1)
        {
            var items = new List<SaveStateItem<List<string>>>(byShard.Count);
            foreach (BulkStateItem item in await _dapr.GetBulkStateAsync(Names.TxStore, [.. byShard.Keys], parallelism: null).ConfigureAwait(false))
            {
                if (byShard.TryGetValue(item.Key, out List<Change>? round) && Apply(item.Key, Parse(item.Value), round) is { } txids)
                {
                    items.Add(new SaveStateItem<List<string>>(item.Key, txids, string.IsNullOrEmpty(item.ETag) ? null! : item.ETag, FirstWrite));
                }
            }

            try
            {
                if (items.Count > 0)
                {
                    await _dapr.SaveBulkStateAsync(Names.TxStore, items).ConfigureAwait(false);
                }

                written = true;
            }
            catch (Dapr.DaprException e) when (TxRecords.IsConflict(e))
            {
                // another process changed a shard: each is written on its own below
            }
        }

        if (!written)
        {
            foreach ((string key, List<Change> round) in byShard)
            {
                await WriteAsync(key, round).ConfigureAwait(false);
            }
        }

        bool[] done = new bool[changes.Count];
        Array.Fill(done, true);
        return done;
    }

    /// <summary>The shard's txids with <paramref name="round"/> applied, or null when that changes nothing.</summary>
    private List<string>? Apply(string key, List<string> txids, List<Change> round)
    {
        bool changed = false;
        foreach (Change change in round)
        {
            bool present = txids.Contains(change.TxId, StringComparer.Ordinal);
            if (present == change.Add)
            {
                continue;
            }

            if (change.Add && txids.Count >= ShardCapacity)
            {
                _logger.LogWarning("the watch index shard {Shard} is full ({Capacity}): {TxId} is not polled, only its ARC callback can report it mined", key, ShardCapacity, change.TxId);
                continue;
            }

            if (change.Add)
            {
                txids.Add(change.TxId);
            }
            else
            {
                txids.Remove(change.TxId);
            }

            changed = true;
        }

        return changed ? txids : null;
    }

    private async Task WriteAsync(string key, List<Change> round)
    {
        for (int attempt = 1; ; attempt++)
        {
            (List<string>? stored, string etag) = await _dapr.GetStateAndETagAsync<List<string>?>(Names.TxStore, key).ConfigureAwait(false);
            if (Apply(key, stored ?? [], round) is not { } txids
                || await _dapr.TrySaveAsync(Names.TxStore, key, txids, etag, FirstWrite, CancellationToken.None).ConfigureAwait(false))
            {
                return;
            }

            if (attempt >= MaxAttempts)
            {
                throw new InvalidOperationException($"the watch index shard {key} kept changing under {MaxAttempts} attempts");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt))).ConfigureAwait(false);
        }
    }

    /// <summary>A shard's txids as the bulk read answers them (raw JSON); an unreadable shard counts as empty (it is rewritten whole on its next change).</summary>
    private static List<string> Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<List<string>>(json) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private sealed record Change(string TxId, bool Add);
}
