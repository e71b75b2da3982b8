using System.Text.Json;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// The transactions the MINED poller asks about: 16 shard keys <c>watch-index|{0..f}</c> in <c>txstore</c> (by the
/// txid's first hex digit), each a JSON array of txids, since Dapr's state API cannot list keys. A shard is changed one
/// txid at a time per shard in this process and with ETag retries across processes, so concurrent broadcasters never
/// lose an entry. Bounded: a shard holds at most <see cref="ShardCapacity"/> txids; past that a transaction is still
/// watched by its callback, just not polled.
/// </summary>
public sealed class WatchIndex(DaprClient dapr, ILogger<WatchIndex> logger)
{
    /// <summary>The shards' key prefix (<c>watch-index||</c> in the design; daprd refuses <c>||</c> in keys).</summary>
    public const string ShardPrefix = "watch-index|";

    /// <summary>Txids one shard holds (64 KiB of hex each, 65,536 in all).</summary>
    public const int ShardCapacity = 4096;

    private const int MaxAttempts = 20;

    private static readonly string[] Shards = [.. "0123456789abcdef".Select(c => ShardPrefix + c)];

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };

    private readonly SemaphoreSlim[] _shardGates = [.. Shards.Select(_ => new SemaphoreSlim(1, 1))];

    public static string ShardOf(string txid) => ShardPrefix + char.ToLowerInvariant(txid.Length > 0 ? txid[0] : '0');

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

    private async Task ChangeAsync(string txid, bool add, CancellationToken cancellationToken)
    {
        string key = ShardOf(txid);
        int shard = Array.IndexOf(Shards, key);
        if (shard < 0)
        {
            return; // not a hex txid: never indexed
        }

        await _shardGates[shard].WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ChangeShardAsync(key, txid, add, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _shardGates[shard].Release();
        }
    }

    private async Task ChangeShardAsync(string key, string txid, bool add, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            (List<string>? stored, string etag) = await dapr.GetStateAndETagAsync<List<string>?>(Names.TxStore, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            List<string> txids = stored ?? [];
            bool present = txids.Contains(txid, StringComparer.Ordinal);
            if (present == add)
            {
                return;
            }

            if (add && txids.Count >= ShardCapacity)
            {
                logger.LogWarning("the watch index shard {Shard} is full ({Capacity}): {TxId} is not polled, only its ARC callback can report it mined", key, ShardCapacity, txid);
                return;
            }

            if (add)
            {
                txids.Add(txid);
            }
            else
            {
                txids.Remove(txid);
            }

            // No ETag means the shard is new: first write wins, a concurrent first writer makes this one retry.
            bool saved;
            if (string.IsNullOrEmpty(etag))
            {
                try
                {
                    await dapr.SaveStateAsync(Names.TxStore, key, txids, FirstWrite, cancellationToken: cancellationToken).ConfigureAwait(false);
                    saved = true;
                }
                catch (Dapr.DaprException e) when (TxRecords.IsConflict(e))
                {
                    saved = false;
                }
            }
            else
            {
                saved = await dapr.TrySaveStateAsync(Names.TxStore, key, txids, etag, FirstWrite, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            if (saved)
            {
                return;
            }

            if (attempt >= MaxAttempts)
            {
                throw new InvalidOperationException($"the watch index shard {key} kept changing under {MaxAttempts} attempts");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt)), cancellationToken).ConfigureAwait(false);
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
}
