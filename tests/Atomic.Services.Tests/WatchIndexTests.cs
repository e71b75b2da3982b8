using System.Text.Json;
using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.State;
using Atomic.Services.Broadcaster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atomic.Services.Tests;

public sealed class WatchIndexTests
{
    /// <summary>A store that cannot list keys, as Dapr's state API cannot: the shards are the index.</summary>
    private readonly Unlistable _store = new(new InMemoryStateStore(Names.TxStore));

    private static string TxId(int i) => i.ToString("x64");

    [Fact]
    public async Task Concurrent_adds_and_removes_lose_no_entry_and_need_no_key_listing()
    {
        var index = new WatchIndex(_store, NullLogger.Instance);
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => index.AddAsync(TxId(i), default))));
        (await index.ReadAsync(default)).Should().BeEquivalentTo(Enumerable.Range(0, 64).Select(TxId));

        await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() => index.RemoveAsync(TxId(i * 2), default))));
        (await index.ReadAsync(default)).Should().BeEquivalentTo(Enumerable.Range(0, 32).Select(i => TxId(i * 2 + 1)));
    }

    [Fact]
    public async Task Adding_twice_keeps_one_entry_and_a_txid_lands_in_the_shard_of_its_first_hex_digit()
    {
        var index = new WatchIndex(_store, NullLogger.Instance);
        string txid = "ab" + new string('0', 62);
        await index.AddAsync(txid, default);
        await index.AddAsync(txid, default);
        (await index.ReadAsync(default)).Should().Equal(txid);
        (await _store.GetAsync(WatchIndex.ShardPrefix + "a")).Should().NotBeNull();
    }

    [Fact]
    public async Task A_full_shard_refuses_more_entries_so_the_index_stays_bounded()
    {
        List<string> full = [.. Enumerable.Range(0, WatchIndex.ShardCapacity).Select(i => "0" + i.ToString("x63"))];
        await _store.SaveAsync(new Runtime.State.StateWrite(WatchIndex.ShardPrefix + "0", JsonSerializer.SerializeToUtf8Bytes(full)));
        var index = new WatchIndex(_store, NullLogger.Instance);
        await index.AddAsync("0" + new string('f', 63), default);
        (await index.ReadAsync(default)).Should().HaveCount(WatchIndex.ShardCapacity);
    }

    [Fact]
    public async Task Where_the_store_lists_keys_the_watch_keys_are_the_index_and_no_shard_is_written()
    {
        var store = new InMemoryStateStore(Names.TxStore);
        var index = new WatchIndex(store, NullLogger.Instance);
        await store.SaveAsync(new Runtime.State.StateWrite(BroadcasterService.WatchPrefix + TxId(1), new byte[] { 1 }));
        await index.AddAsync(TxId(1), default);
        (await index.ReadAsync(default)).Should().Equal(TxId(1));
        (await store.GetAsync(WatchIndex.ShardOf(TxId(1)))).Should().BeNull();
    }

    private sealed class Unlistable(IStateStore inner) : IStateStore
    {
        public string Name => inner.Name;

        public Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken = default) => inner.GetAsync(key, cancellationToken);

        public Task<IReadOnlyList<(string Key, StateItem? Item)>> GetBulkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) => inner.GetBulkAsync(keys, cancellationToken);

        public Task<string> SaveAsync(StateWrite write, CancellationToken cancellationToken = default) => inner.SaveAsync(write, cancellationToken);

        public Task DeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, etag, cancellationToken);

        public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default) => inner.ExecuteTransactionAsync(operations, cancellationToken);

        public IAsyncEnumerable<(string Key, StateItem Item)> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("this store cannot list keys");
    }
}
