using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Tests.Components.State;

/// <summary>The state conformance suite against <c>state.sqlite</c>, each test on its own database file.</summary>
public sealed class SqliteStateStoreConformanceTests : StateStoreConformance, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"atomic-sqlite-{Guid.NewGuid():n}");
    private readonly List<SqliteStateStore> _stores = [];

    protected override IStateStore CreateStore(TimeProvider time)
    {
        Directory.CreateDirectory(_directory);
        return Kept(new SqliteStateStore("statestore", $"Data Source={Path.Combine(_directory, "state.db")};Pooling=False", timeProvider: time));
    }

    /// <summary>A store disposed with the test (the file's last one stops its checkpoints before the folder goes).</summary>
    private SqliteStateStore Kept(SqliteStateStore store)
    {
        _stores.Add(store);
        return store;
    }

    [Fact]
    public async Task Concurrent_writers_to_one_file_commit_together_and_a_stale_etag_fails_alone()
    {
        IStateStore records = CreateStore(TimeProvider.System);
        IStateStore other = Kept(new SqliteStateStore("txstore", $"Data Source={Path.Combine(_directory, "state.db")};Pooling=False", tableName: "tx"));
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

    [Fact]
    public async Task Single_writes_that_fail_their_check_in_a_group_commit_fail_alone_and_write_nothing()
    {
        // A single write goes without a savepoint of its own: its check fails before it writes anything.
        IStateStore store = CreateStore(TimeProvider.System);
        string etag = await store.SaveAsync(new StateWrite("k", new byte[] { 1 }));
        await store.SaveAsync(new StateWrite("k", new byte[] { 2 }));
        await store.SaveAsync(new StateWrite("taken", new byte[] { 1 }));

        var writes = new List<Task>();
        var failures = new List<Task>();
        for (int i = 0; i < 100; i++)
        {
            writes.Add(store.SaveAsync(new StateWrite($"w{i}", new byte[] { (byte)i })));
            if (i % 25 == 0)
            {
                failures.Add(store.SaveAsync(new StateWrite("k", new byte[] { 3 }, etag)));
                failures.Add(store.SaveAsync(new StateWrite("taken", new byte[] { 3 }, Concurrency: StateConcurrency.FirstWrite)));
                failures.Add(store.DeleteAsync("k", etag));
                failures.Add(store.ExecuteTransactionAsync([new StateOperation.Upsert(new StateWrite("k", new byte[] { 4 }, etag))]));
            }
        }

        await Task.WhenAll(writes);
        foreach (Task failure in failures)
        {
            await FluentActions.Awaiting(() => failure).Should().ThrowAsync<StateConcurrencyException>();
        }

        for (int i = 0; i < 100; i++)
        {
            (await store.GetAsync($"w{i}"))!.Value.ToArray().Should().Equal((byte)i);
        }

        (await store.GetAsync("k"))!.Value.ToArray().Should().Equal((byte)2);
        (await store.GetAsync("taken"))!.Value.ToArray().Should().Equal((byte)1);
    }

    [Fact]
    public async Task Reads_at_once_reuse_kept_sessions_see_each_commit_and_a_disposed_store_closes_them()
    {
        var store = (SqliteStateStore)CreateStore(TimeProvider.System);
        string file = Path.Combine(_directory, "state.db");
        for (int i = 0; i < 20; i++)
        {
            await store.SaveAsync(new StateWrite($"k{i}", new byte[] { 0 }));
        }

        // More reads at once than sessions are kept, while every key is written again: each read sees a committed value.
        var reads = new List<Task<byte>>();
        var writes = new List<Task>();
        for (int round = 1; round <= 5; round++)
        {
            for (int i = 0; i < 20; i++)
            {
                string key = $"k{i}";
                reads.Add(Task.Run(async () => (await store.GetAsync(key))!.Value.Span[0]));
                reads.Add(Task.Run(async () => (await store.GetBulkAsync([key, "missing"]))[0].Item!.Value.Span[0]));
                writes.Add(store.SaveAsync(new StateWrite(key, new byte[] { (byte)round })));
            }
        }

        await Task.WhenAll(writes);
        (await Task.WhenAll(reads)).Should().OnlyContain(b => b <= 5);
        for (int i = 0; i < 20; i++)
        {
            (await store.GetAsync($"k{i}"))!.Value.Span[0].Should().Be(5, "a kept session sees the last commit, not its own stale pages");
        }

        if (OperatingSystem.IsLinux())
        {
            OpenHandles(file).Should().BePositive("idle sessions stay open for the next reads");
        }

        store.Dispose();

        if (OperatingSystem.IsLinux())
        {
            OpenHandles(file).Should().Be(0, "the disposed store closed its idle sessions");
        }

        (await store.GetAsync("k0"))!.Value.Span[0].Should().Be(5, "a read after disposal opens a session of its own");
        if (OperatingSystem.IsLinux())
        {
            OpenHandles(file).Should().Be(0, "and closes it");
        }

        static int OpenHandles(string path) => new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Count(fd => fd.LinkTarget is string target && target.StartsWith(path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_table_an_earlier_version_made_without_rowid_is_moved_to_a_rowid_table_with_its_items_and_etags()
    {
        Directory.CreateDirectory(_directory);
        string file = Path.Combine(_directory, "state.db");
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                PRAGMA journal_mode=WAL;
                CREATE TABLE state (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, etag TEXT NOT NULL, expires_at INTEGER NULL) WITHOUT ROWID;
                INSERT INTO state VALUES ('a', x'0102', 'etag-a', NULL), ('b', x'03', 'etag-b', 4102444800000), ('gone', x'04', 'etag-g', 1);
                """;
            create.ExecuteNonQuery();
        }

        IStateStore store = CreateStore(TimeProvider.System);
        StateItem a = (await store.GetAsync("a"))!;
        a.Value.ToArray().Should().Equal(1, 2);
        a.ETag.Should().Be("etag-a");
        (await store.GetAsync("b"))!.ETag.Should().Be("etag-b", "the move keeps every item's ETag, so a client's next conditional write still matches");
        (await store.GetAsync("gone")).Should().BeNull("an item that had expired stays expired");
        await store.SaveAsync(new StateWrite("a", new byte[] { 9 }, "etag-a"));
        await FluentActions.Awaiting(() => store.SaveAsync(new StateWrite("b", new byte[] { 9 }, "stale"))).Should().ThrowAsync<StateConcurrencyException>();

        using var check = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False");
        check.Open();
        using var schema = check.CreateCommand();
        schema.CommandText = "SELECT group_concat(sql, ';') FROM sqlite_master WHERE tbl_name = 'state' OR name LIKE 'state%';";
        string sql = (string)schema.ExecuteScalar()!;
        sql.Should().NotContainEquivalentOf("WITHOUT ROWID").And.NotContain("__rowid");

        // Opening it again changes nothing.
        IStateStore again = CreateStore(TimeProvider.System);
        (await again.GetAsync("a"))!.Value.ToArray().Should().Equal(9);
    }

    [Fact]
    public async Task The_wal_is_checkpointed_beside_the_writes_starts_again_once_long_and_catches_up_after_the_last()
    {
        Directory.CreateDirectory(_directory);
        string file = Path.Combine(_directory, "state.db");
        // Pooled, as the components are: with no connection left open SQLite checkpoints and deletes the WAL itself.
        string connectionString = $"Data Source={file}";
        using var store = new SqliteStateStore("statestore", connectionString, "state", null, TimeProvider.System,
            new SqliteStateStore.WalCheckpoints(RestartAt: 64, Interval: TimeSpan.FromMilliseconds(10)));
        // Every write queued at once, so the writer commits batch after batch with the next always waiting, and the thread
        // pool is busy with their completions: a checkpoint beside the writer seldom runs and never finds the WAL complete.
        // Without the writer's own, the WAL would take in every one of them (27 MB here).
        const int Writes = 60_000, Size = 256;
        await Task.WhenAll(Enumerable.Range(0, Writes).Select(i =>
        {
            byte[] value = new byte[Size];
            BitConverter.TryWriteBytes(value, i);
            return store.SaveAsync(new StateWrite($"k{i}", value));
        }));

        // A WAL file never shrinks, so its length is the longest it has been (about 4 MB here).
        new FileInfo(file + "-wal").Length.Should().BeLessThan(12L << 20, "the writer checkpoints between two commits (here because the timer's checkpoints do not get to run), and the next commit starts the WAL again");

        // The commits after the last checkpoint are checkpointed too, though nothing is written after them.
        long expected = (long)Writes * Size;
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (new FileInfo(file).Length < expected && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        new FileInfo(file).Length.Should().BeGreaterThanOrEqualTo(expected, "every value is copied into the database by a checkpoint after the last commit");
        StateItem last = (await store.GetAsync($"k{Writes - 1}"))!;
        BitConverter.ToInt32(last.Value.Span).Should().Be(Writes - 1);
        Microsoft.Data.Sqlite.SqliteConnection.ClearPool(new Microsoft.Data.Sqlite.SqliteConnection(connectionString));
    }

    public void Dispose()
    {
        foreach (SqliteStateStore store in _stores)
        {
            store.Dispose();
        }

        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
