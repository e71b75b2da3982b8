using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Tests.Components.State;

/// <summary>The state conformance suite against <c>state.sqlite</c>, each test on its own database file.</summary>
public sealed class SqliteStateStoreConformanceTests : StateStoreConformance, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"atomic-sqlite-{Guid.NewGuid():n}");

    protected override IStateStore CreateStore(TimeProvider time)
    {
        Directory.CreateDirectory(_directory);
        return new SqliteStateStore("statestore", $"Data Source={Path.Combine(_directory, "state.db")};Pooling=False", timeProvider: time);
    }

    [Fact]
    public async Task Concurrent_writers_to_one_file_commit_together_and_a_stale_etag_fails_alone()
    {
        IStateStore records = CreateStore(TimeProvider.System);
        IStateStore other = new SqliteStateStore("txstore", $"Data Source={Path.Combine(_directory, "state.db")};Pooling=False", tableName: "tx");
        string etag = await records.SaveAsync(new StateWrite("k", new byte[] { 1 }));
        await records.SaveAsync(new StateWrite("k", new byte[] { 2 }));

        // Many writes at once, across two tables of the same file, with one stale ETag among them.
        var writes = new List<Task>();
        for (int i = 0; i < 200; i++)
        {
            writes.Add((i % 2 == 0 ? records : other).SaveAsync(new StateWrite($"w{i}", new byte[] { (byte)i })));
        }

        Task stale = records.ExecuteTransactionAsync(
        [
            new StateOperation.Upsert(new StateWrite("t1", new byte[] { 9 })),
            new StateOperation.Upsert(new StateWrite("k", new byte[] { 3 }, etag)),
        ]);
        writes.Add(records.SaveAsync(new StateWrite("after", new byte[] { 7 })));

        await Task.WhenAll(writes);
        await FluentActions.Awaiting(() => stale).Should().ThrowAsync<StateConcurrencyException>();
        for (int i = 0; i < 200; i++)
        {
            (await (i % 2 == 0 ? records : other).GetAsync($"w{i}"))!.Value.ToArray().Should().Equal((byte)i);
        }

        (await records.GetAsync("t1")).Should().BeNull("the failed transaction's other write is rolled back with it");
        (await records.GetAsync("k"))!.Value.ToArray().Should().Equal((byte)2);
        (await records.GetAsync("after")).Should().NotBeNull();
        (await other.GetAsync("w0")).Should().BeNull("the tables are apart even though the file and the writer are shared");
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
