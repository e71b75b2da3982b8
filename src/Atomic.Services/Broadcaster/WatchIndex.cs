using System.Text.Json;
using Atomic.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// The transactions the MINED poller asks about. Where the store lists keys (the embedded stores), the
/// <c>watch||{txid}</c> keys are the index and nothing more is written. Where it cannot (Dapr's state API), 16 shard
/// keys <c>watch-index||{0..f}</c> (by the txid's first hex digit) each hold a JSON array of txids, changed one at a
/// time per shard in this process and with ETag retries across processes, so concurrent broadcasters never lose an
/// entry. Bounded: a shard holds at most <see cref="ShardCapacity"/> txids; past that a transaction is still watched
/// by its callback, just not polled.
/// </summary>
public sealed class WatchIndex(IStateStore store, ILogger logger)
{
    public const string ShardPrefix = "watch-index||";

    /// <summary>Txids one shard holds (64 KiB of hex each, 65,536 in all).</summary>
    public const int ShardCapacity = 4096;

    private const int MaxAttempts = 20;

    private static readonly string[] Shards = [.. "0123456789abcdef".Select(c => ShardPrefix + c)];

    private readonly SemaphoreSlim[] _shardGates = [.. Shards.Select(_ => new SemaphoreSlim(1, 1))];
    private bool? _canList;

    /// <summary>Whether the store lists keys (asked once): then the <c>watch||</c> keys are the index.</summary>
    private async ValueTask<bool> CanListAsync(CancellationToken cancellationToken)
    {
        if (_canList is bool known)
        {
            return known;
        }

        try
        {
            await foreach ((string, StateItem) _ in store.ListAsync(BroadcasterService.WatchPrefix, cancellationToken).ConfigureAwait(false))
            {
                break;
            }

            _canList = true;
        }
        catch (NotSupportedException)
        {
            _canList = false;
        }

        return _canList.Value;
    }

    public static string ShardOf(string txid) => ShardPrefix + char.ToLowerInvariant(txid.Length > 0 ? txid[0] : '0');

    public Task AddAsync(string txid, CancellationToken cancellationToken) => ChangeAsync(txid, add: true, cancellationToken);

    public Task RemoveAsync(string txid, CancellationToken cancellationToken) => ChangeAsync(txid, add: false, cancellationToken);

    /// <summary>Every watched txid (one bulk read of the shards).</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(CancellationToken cancellationToken)
    {
        var all = new List<string>();
        if (await CanListAsync(cancellationToken).ConfigureAwait(false))
        {
            await foreach ((string key, StateItem _) in store.ListAsync(BroadcasterService.WatchPrefix, cancellationToken).ConfigureAwait(false))
            {
                all.Add(key[BroadcasterService.WatchPrefix.Length..]);
            }

            return all;
        }

        foreach ((string _, StateItem? item) in await store.GetBulkAsync(Shards, cancellationToken).ConfigureAwait(false))
        {
            all.AddRange(Parse(item));
        }

        return all;
    }

    private async Task ChangeAsync(string txid, bool add, CancellationToken cancellationToken)
    {
        string key = ShardOf(txid);
        int shard = Array.IndexOf(Shards, key);
        if (shard < 0 || await CanListAsync(cancellationToken).ConfigureAwait(false))
        {
            return; // not a hex txid (never indexed), or the watch||{txid} key is the index
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
            StateItem? item = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
            List<string> txids = Parse(item);
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

            try
            {
                // No ETag means the shard is new: first write wins, a concurrent first writer makes this one retry.
                await store.SaveAsync(new StateWrite(key, JsonSerializer.SerializeToUtf8Bytes(txids), item?.ETag, StateConcurrency.FirstWrite), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (StateConcurrencyException) when (attempt < MaxAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static List<string> Parse(StateItem? item)
    {
        if (item is null || item.Value.IsEmpty)
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<List<string>>(item.Value.Span) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
