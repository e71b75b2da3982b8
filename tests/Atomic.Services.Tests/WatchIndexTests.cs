using System.Text.Json;
using Atomic.Runtime.Embedded.State;
using Atomic.Services.Broadcaster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atomic.Services.Tests;

public sealed class WatchIndexTests
{
    private readonly InMemoryStateStore _store = new(Names.TxStore);

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
}
