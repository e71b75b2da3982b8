using Atomic.Services.Broadcaster;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atomic.Services.Tests;

/// <summary>The MINED poller's index, kept through the Dapr state API (which cannot list keys) in 4,096 shards.</summary>
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
        string[] txids = [.. Enumerable.Range(0, 100).Select(i => "abc" + i.ToString("x61"))];
        await Task.WhenAll(txids.Select(t => index.AddAsync(t, default)));
        (await Dapr.GetStateAsync<List<string>>(Names.TxStore, WatchIndex.ShardPrefix + "abc")).Should().BeEquivalentTo(txids);
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
    public async Task Adding_twice_keeps_one_entry_and_a_txid_lands_in_the_shard_of_its_first_three_hex_digits()
    {
        var index = new WatchIndex(Dapr, NullLogger<WatchIndex>.Instance);
        string txid = "AbC" + new string('0', 61);
        await index.AddAsync(txid, default);
        await index.AddAsync(txid.ToLowerInvariant(), default);
        (await index.ReadAsync(default)).Should().Equal(txid.ToLowerInvariant());
        (await Dapr.GetStateAsync<List<string>>(Names.TxStore, WatchIndex.ShardPrefix + "abc")).Should().Equal(txid.ToLowerInvariant());
    }

    [Fact]
    public async Task A_full_shard_refuses_more_entries_so_the_index_stays_bounded()
    {
        List<string> full = [.. Enumerable.Range(0, WatchIndex.ShardCapacity).Select(i => "000" + i.ToString("x61"))];
        await Dapr.SaveStateAsync(Names.TxStore, WatchIndex.ShardPrefix + "000", full);
        var index = new WatchIndex(Dapr, NullLogger<WatchIndex>.Instance);
        await index.AddAsync("000" + new string('f', 61), default);
        (await index.ReadAsync(default)).Should().HaveCount(WatchIndex.ShardCapacity);
    }

    [Fact]
    public async Task What_the_256_shards_of_earlier_versions_hold_is_moved_into_todays_shards_by_a_read()
    {
        string[] old = ["ab" + new string('1', 62), "ab" + new string('2', 62), "ff" + new string('3', 62)];
        await Dapr.SaveStateAsync(Names.TxStore, WatchIndex.ShardPrefix + "ab", new List<string> { old[0], old[1] });
        await Dapr.SaveStateAsync(Names.TxStore, WatchIndex.ShardPrefix + "ff", new List<string> { old[2] });
        var index = new WatchIndex(Dapr, NullLogger<WatchIndex>.Instance);
        string added = "ab1" + new string('9', 61); // today's shard of the first old entry, written before the move
        await index.AddAsync(added, default);

        (await index.ReadAsync(default)).Should().BeEquivalentTo([.. old, added]);

        (await Dapr.GetStateAsync<List<string>?>(Names.TxStore, WatchIndex.ShardPrefix + "ab")).Should().BeNull("a moved shard is deleted");
        (await Dapr.GetStateAsync<List<string>?>(Names.TxStore, WatchIndex.ShardPrefix + "ff")).Should().BeNull();
        (await Dapr.GetStateAsync<List<string>>(Names.TxStore, WatchIndex.ShardPrefix + "ab1")).Should().BeEquivalentTo([added, old[0]]);
        (await Dapr.GetStateAsync<List<string>>(Names.TxStore, WatchIndex.ShardPrefix + "ab2")).Should().Equal(old[1]);
        await index.RemoveAsync(old[0], default);
        (await index.ReadAsync(default)).Should().BeEquivalentTo([old[1], old[2], added], "a moved entry is removed like any other");

        // The old shards were found empty on that read: an entry an older broadcaster writes now waits for the recheck.
        string late = "cd" + new string('4', 62);
        await Dapr.SaveStateAsync(Names.TxStore, WatchIndex.ShardPrefix + "cd", new List<string> { late });
        (await index.ReadAsync(default)).Should().NotContain(late);
        (await new WatchIndex(Dapr, NullLogger<WatchIndex>.Instance).ReadAsync(default)).Should().Contain(late, "a process's first read moves it");
    }
}
