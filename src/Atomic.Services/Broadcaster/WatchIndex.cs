using System.Text.Json;
using Atomic.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// The transactions the MINED poller asks about, kept without listing keys (Dapr's state API cannot list): 16 shard
/// keys <c>watch-index||{0..f}</c> (by the txid's first hex digit), each a JSON array of txids, changed with ETag
/// retries so concurrent broadcasters never lose an entry. Bounded: a shard holds at most <see cref="ShardCapacity"/>
/// txids; past that a transaction is still watched by its callback, just not polled.
/// </summary>
public sealed class WatchIndex(IStateStore store, ILogger logger)
{
    public const string ShardPrefix = "watch-index||";

    /// <summary>Txids one shard holds (64 KiB of hex each, 65,536 in all).</summary>
    public const int ShardCapacity = 4096;

    private const int MaxAttempts = 20;

    private static readonly string[] Shards = [.. "0123456789abcdef".Select(c => ShardPrefix + c)];

    public static string ShardOf(string txid) => ShardPrefix + char.ToLowerInvariant(txid.Length > 0 ? txid[0] : '0');

    public Task AddAsync(string txid, CancellationToken cancellationToken) => ChangeAsync(txid, add: true, cancellationToken);

    public Task RemoveAsync(string txid, CancellationToken cancellationToken) => ChangeAsync(txid, add: false, cancellationToken);

    /// <summary>Every watched txid (one bulk read of the shards).</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(CancellationToken cancellationToken)
    {
        var all = new List<string>();
        foreach ((string _, StateItem? item) in await store.GetBulkAsync(Shards, cancellationToken).ConfigureAwait(false))
        {
            all.AddRange(Parse(item));
        }

        return all;
    }

    private async Task ChangeAsync(string txid, bool add, CancellationToken cancellationToken)
    {
        string key = ShardOf(txid);
        if (Array.IndexOf(Shards, key) < 0)
        {
            return; // not a hex txid: never indexed
        }

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
