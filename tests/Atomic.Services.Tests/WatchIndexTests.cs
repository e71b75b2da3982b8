using Atomic.Services.Broadcaster;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atomic.Services.Tests;

/// <summary>The MINED poller's index, kept through the Dapr state API (which cannot list keys) in 16 shards.</summary>
public sealed class WatchIndexTests : IAsyncLifetime
{
    private PipelineFixture _pipeline = null!;

    private DaprClient Dapr => _pipeline.Dapr;

    public async Task InitializeAsync() => _pipeline = await PipelineFixture.StartAsync(verifier: false, overlay: false);

    public async Task DisposeAsync() => await _pipeline.DisposeAsync();

    private static string TxId(int i) => i.ToString("x64");

    [Fact]
    public async Task Concurrent_adds_and_removes_lose_no_entry()
    {
        var index = new WatchIndex(Dapr, NullLogger<WatchIndex>.Instance);
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => index.AddAsync(TxId(i), default))));
        (await index.ReadAsync(default)).Should().BeEquivalentTo(Enumerable.Range(0, 64).Select(TxId));

        await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() => index.RemoveAsync(TxId(i * 2), default))));
        (await index.ReadAsync(default)).Should().BeEquivalentTo(Enumerable.Range(0, 32).Select(i => TxId(i * 2 + 1)));
    }

    [Fact]
    public async Task Many_changes_to_one_shard_at_once_are_all_kept()
    {
        var index = new WatchIndex(Dapr, NullLogger<WatchIndex>.Instance);
        string[] txids = [.. Enumerable.Range(0, 100).Select(i => "ab" + i.ToString("x62"))];
        await Task.WhenAll(txids.Select(t => index.AddAsync(t, default)));
        (await Dapr.GetStateAsync<List<string>>(Names.TxStore, WatchIndex.ShardPrefix + "ab")).Should().BeEquivalentTo(txids);
        await Task.WhenAll(txids.Take(50).Select(t => index.RemoveAsync(t, default)));
        (await index.ReadAsync(default)).Should().BeEquivalentTo(txids.Skip(50));
    }

    [Fact]
    public async Task Two_broadcasters_sharing_the_store_lose_no_entry_of_each_other()
    {
        var first = new WatchIndex(Dapr, NullLogger<WatchIndex>.Instance);
        var second = new WatchIndex(Dapr, NullLogger<WatchIndex>.Instance);
        await Task.WhenAll(Enumerable.Range(0, 48).Select(i => Task.Run(() => (i % 2 == 0 ? first : second).AddAsync(TxId(i), default))));
        (await first.ReadAsync(default)).Should().BeEquivalentTo(Enumerable.Range(0, 48).Select(TxId));
    }

    [Fact]
    public async Task Adding_twice_keeps_one_entry_and_a_txid_lands_in_the_shard_of_its_first_two_hex_digits()
    {
        var index = new WatchIndex(Dapr, NullLogger<WatchIndex>.Instance);
        string txid = "ab" + new string('0', 62);
        await index.AddAsync(txid, default);
        await index.AddAsync(txid, default);
        (await index.ReadAsync(default)).Should().Equal(txid);
        (await Dapr.GetStateAsync<List<string>>(Names.TxStore, WatchIndex.ShardPrefix + "ab")).Should().Equal(txid);
    }

    [Fact]
    public async Task A_full_shard_refuses_more_entries_so_the_index_stays_bounded()
    {
        List<string> full = [.. Enumerable.Range(0, WatchIndex.ShardCapacity).Select(i => "00" + i.ToString("x62"))];
        await Dapr.SaveStateAsync(Names.TxStore, WatchIndex.ShardPrefix + "00", full);
        var index = new WatchIndex(Dapr, NullLogger<WatchIndex>.Instance);
        await index.AddAsync("00" + new string('f', 62), default);
        (await index.ReadAsync(default)).Should().HaveCount(WatchIndex.ShardCapacity);
    }
}
