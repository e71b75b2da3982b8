using System.Text.Json;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// The transactions the MINED poller asks about: 256 shard keys <c>watch-index|{00..ff}</c> in <c>txstore</c> (by the
/// txid's first two hex digits), each a JSON array of txids, since Dapr's state API cannot list keys. Changes to one
/// shard made at the same time in this process are written together: one read and one ETag-guarded write per shard
/// for all of them, retried on a conflict with another process, and each caller's task completes only once its change
/// is written. So concurrent broadcasters never lose an entry, and a busy broadcaster writes each shard once per round
/// rather than once per transaction. Bounded: a shard holds at most <see cref="ShardCapacity"/> txids; past that a
/// transaction is still watched by its callback, just not polled.
/// </summary>
public sealed class WatchIndex(DaprClient dapr, ILogger<WatchIndex> logger)
{
    /// <summary>The shards' key prefix (<c>watch-index||</c> in the design; daprd refuses <c>||</c> in keys).</summary>
    public const string ShardPrefix = "watch-index|";

    /// <summary>Txids one shard holds (about 270 KB of JSON; a million in all).</summary>
    public const int ShardCapacity = 4096;

    private const int MaxAttempts = 20;

    private static readonly string[] Shards = [.. Enumerable.Range(0, 256).Select(i => ShardPrefix + i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))];

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };

    private readonly ShardQueue[] _queues = [.. Shards.Select(_ => new ShardQueue())];

    /// <summary>The shard key of a txid (its first two hex digits, lower case).</summary>
    public static string ShardOf(string txid) => ShardPrefix + (txid.Length >= 2 ? txid[..2].ToLowerInvariant() : "00");

    public Task AddAsync(string txid, CancellationToken cancellationToken) => ChangeAsync(txid, add: true, cancellationToken);

    public Task RemoveAsync(string txid, CancellationToken cancellationToken) => ChangeAsync(txid, add: false, cancellationToken);

    /// <summary>Every watched txid (one bulk read of the shards).</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(CancellationToken cancellationToken)
    {
        var all = new List<string>();
        foreach (BulkStateItem item in await dapr.GetBulkStateAsync(Names.TxStore, Shards, parallelism: null, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            all.AddRange(Parse(item.Value));
        }

        return all;
    }

    private Task ChangeAsync(string txid, bool add, CancellationToken cancellationToken)
    {
        if (!Outpoints.IsTxId(txid))
        {
            return Task.CompletedTask; // not a txid: never indexed
        }

        int shard = Convert.ToInt32(txid[..2], 16);
        var change = new Change(txid.ToLowerInvariant(), add);
        ShardQueue queue = _queues[shard];
        bool start;
        lock (queue)
        {
            queue.Pending.Add(change);
            start = !queue.Flushing;
            queue.Flushing = true;
        }

        if (start)
        {
            _ = Task.Run(() => FlushAsync(Shards[shard], queue), CancellationToken.None);
        }

        return change.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Writes whatever changes wait for one shard, round after round, until none wait.</summary>
    private async Task FlushAsync(string key, ShardQueue queue)
    {
        while (true)
        {
            List<Change> round;
            lock (queue)
            {
                if (queue.Pending.Count == 0)
                {
                    queue.Flushing = false;
                    return;
                }

                round = queue.Pending;
                queue.Pending = [];
            }

            try
            {
                await WriteAsync(key, round).ConfigureAwait(false);
                foreach (Change change in round)
                {
                    change.Done.TrySetResult();
                }
            }
            catch (Exception e)
            {
                foreach (Change change in round)
                {
                    change.Done.TrySetException(e);
                }
            }
        }
    }

    private async Task WriteAsync(string key, List<Change> round)
    {
        for (int attempt = 1; ; attempt++)
        {
            (List<string>? stored, string etag) = await dapr.GetStateAndETagAsync<List<string>?>(Names.TxStore, key).ConfigureAwait(false);
            List<string> txids = stored ?? [];
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
                    logger.LogWarning("the watch index shard {Shard} is full ({Capacity}): {TxId} is not polled, only its ARC callback can report it mined", key, ShardCapacity, change.TxId);
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

            if (!changed || await dapr.TrySaveAsync(Names.TxStore, key, txids, etag, FirstWrite, CancellationToken.None).ConfigureAwait(false))
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

    private sealed record Change(string TxId, bool Add)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class ShardQueue
    {
        public List<Change> Pending { get; set; } = [];

        public bool Flushing { get; set; }
    }
}
