using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Atomic.Sidecar.Components.State;
using Microsoft.Data.Sqlite;

namespace Atomic.Sidecar.Components.State;

/// <summary>
/// <c>state.sqlite</c>, the embedded default: one table (key, value, etag, expiry) in a WAL-mode SQLite file, an
/// ordinary rowid table with a unique index on the key (see <see cref="CreateOrMigrate"/>). Every
/// write that checks an ETag runs inside <c>BEGIN IMMEDIATE</c>, so the check and the write are one atomic step;
/// a transaction's operations share one such SQL transaction and its prepared statements, and a write that checks
/// nothing (no ETag, last-write) does not read first. Expired items are invisible and removed lazily.
/// </summary>
/// <remarks>
/// Writes to one database file from this process go through one queue (<see cref="FileWriter"/>): whatever writes
/// are waiting are applied in one SQL transaction, a transaction of several operations inside its own savepoint, so a
/// write whose ETag check fails is rolled back alone while the others commit together, and a caller's task completes
/// only once its write is committed (group commit). SQLite's busy handler, which makes waiting writers sleep, only
/// matters between processes.
/// Connections use <c>synchronous=NORMAL</c>, WAL's usual pairing: a committed transaction survives the process being
/// killed; only an operating-system crash or power loss can take back the last commits before a checkpoint. The WAL is
/// checkpointed beside the writer, not inside a commit, within about half a second of each (FileWriter.Checkpoints).
/// Reads go through up to <see cref="MaxIdleReaders"/> connections kept open with their statement prepared
/// (<see cref="ReadSession"/>), closed when the store is disposed.
/// </remarks>
public sealed partial class SqliteStateStore : IStateStore, IDisposable
{
    /// <summary>Read sessions kept open between reads at most; more are opened while reads run at once, and closed after.</summary>
    private const int MaxIdleReaders = 8;

    private readonly System.Collections.Concurrent.ConcurrentBag<ReadSession> _idleReaders = [];
    private volatile bool _disposed;
    private readonly string _connectionString;
    private readonly string _table;
    private readonly int _busyTimeoutMs;
    private readonly TimeProvider _time;
    private readonly FileWriter _writer;

    /// <param name="name">The component name.</param>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string, e.g. <c>Data Source=data/state.db</c>.</param>
    /// <param name="tableName">The table, a plain identifier (default <c>state</c>).</param>
    /// <param name="busyTimeout">How long a writer waits for the file lock before failing.</param>
    /// <param name="timeProvider">The clock TTLs are measured by.</param>
    public SqliteStateStore(string name, string connectionString, string tableName = "state", TimeSpan? busyTimeout = null, TimeProvider? timeProvider = null)
        : this(name, connectionString, tableName, busyTimeout, timeProvider, WalCheckpoints.Default)
    {
    }

    /// <param name="checkpoints">When the file's WAL is checkpointed; the first store of a file in this process sets it.</param>
    internal SqliteStateStore(string name, string connectionString, string tableName, TimeSpan? busyTimeout, TimeProvider? timeProvider, WalCheckpoints checkpoints)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (!Identifier().IsMatch(tableName))
        {
            throw new ArgumentException($"table name '{tableName}' must be a plain identifier (letters, digits, _)", nameof(tableName));
        }

        Name = name;
        _connectionString = connectionString;
        _table = tableName;
        _busyTimeoutMs = (int)(busyTimeout ?? TimeSpan.FromSeconds(5)).TotalMilliseconds;
        _time = timeProvider ?? TimeProvider.System;
        _writer = FileWriter.For(connectionString, checkpoints);
        using SqliteConnection connection = Open();
        Execute(connection, null, "PRAGMA journal_mode=WAL;");
        CreateOrMigrate(connection);
        _writer.Attach();
    }

    public string Name { get; }

    /// <summary>
    /// Creates the table as an ordinary (rowid) table with a unique index on its key, and moves a table an earlier
    /// version made <c>WITHOUT ROWID</c> into that form, items and ETags unchanged. A <c>WITHOUT ROWID</c> table keeps
    /// whole rows in its interior pages as well as its leaves, which SQLite's documentation advises against for rows
    /// larger than about a twentieth of a page; the pipeline's rows are kilobyte BEEFs, and on its write pattern (a BEEF
    /// and three record moves per transaction, fifty to a commit) the rowid table took 2.3–2.7 times as many writes a
    /// second on this project's 2-core machine. The move runs once, under the write lock, so another process opening
    /// the same file meanwhile waits and then finds it done.
    /// </summary>
    private void CreateOrMigrate(SqliteConnection connection)
    {
        const string Columns = "(key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, etag TEXT NOT NULL, expires_at INTEGER NULL)";
        if (TableSql(connection, null) is string ready && !WithoutRowId(ready))
        {
            return; // the usual case: nothing to write, so no write lock
        }

        using SqliteTransaction schema = BeginImmediate(connection);
        switch (TableSql(connection, schema))
        {
            case null:
                Execute(connection, schema, $"CREATE TABLE {_table} {Columns};");
                break;
            case string existing when WithoutRowId(existing):
                string moving = _table + "__rowid";
                Execute(connection, schema, $"DROP TABLE IF EXISTS {moving};");
                Execute(connection, schema, $"CREATE TABLE {moving} {Columns};");
                Execute(connection, schema, $"INSERT INTO {moving} (key, value, etag, expires_at) SELECT key, value, etag, expires_at FROM {_table};");
                Execute(connection, schema, $"DROP TABLE {_table};");
                Execute(connection, schema, $"ALTER TABLE {moving} RENAME TO {_table};");
                break;
        }

        schema.Commit();

        static bool WithoutRowId(string sql) => sql.Contains("WITHOUT ROWID", StringComparison.OrdinalIgnoreCase);
    }

    private string? TableSql(SqliteConnection connection, SqliteTransaction? transaction)
    {
        using SqliteCommand find = connection.CreateCommand();
        find.Transaction = transaction;
        find.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = @table;";
        find.Parameters.AddWithValue("@table", _table);
        return find.ExecuteScalar() as string;
    }

    public Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Task.FromResult(Read(key, static (session, key, now) => session.Read(null, key, now)));
    }

    public Task<IReadOnlyList<(string Key, StateItem? Item)>> GetBulkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return Task.FromResult<IReadOnlyList<(string Key, StateItem? Item)>>(Read(keys, static (session, keys, now) =>
        {
            var result = new (string, StateItem?)[keys.Count];
            using SqliteTransaction snapshot = session.Connection.BeginTransaction(deferred: true); // one consistent read
            for (int i = 0; i < keys.Count; i++)
            {
                result[i] = (keys[i], session.Read(snapshot, keys[i], now));
            }

            return result;
        }));
    }

    /// <summary>
    /// Runs <paramref name="read"/> (given the time expiries are measured against) on a rented read session, given back
    /// only when the read went through: a session whose read failed is closed, not kept.
    /// </summary>
    private TResult Read<TState, TResult>(TState state, Func<ReadSession, TState, long, TResult> read)
    {
        ReadSession session = RentReader();
        TResult result;
        try
        {
            result = read(session, state, Now());
        }
        catch
        {
            session.Dispose();
            throw;
        }

        ReturnReader(session);
        return result;
    }

    /// <summary>Closes the read sessions kept open; a read under way closes its own when it ends.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _writer.Detach(); // the file's last store stops its checkpoints
        }

        while (_idleReaders.TryTake(out ReadSession? session))
        {
            session.Dispose();
        }
    }

    /// <summary>An idle read session, or a new one; given back (<see cref="ReturnReader"/>) only after a read that went through.</summary>
    private ReadSession RentReader() => _idleReaders.TryTake(out ReadSession? session) ? session : new ReadSession(_connectionString, _table);

    private void ReturnReader(ReadSession session)
    {
        if (_disposed || _idleReaders.Count >= MaxIdleReaders)
        {
            session.Dispose();
            return;
        }

        _idleReaders.Add(session);
        if (_disposed && _idleReaders.TryTake(out ReadSession? late))
        {
            late.Dispose(); // disposed meanwhile
        }
    }

    public Task<string> SaveAsync(StateWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        return _writer.Enqueue(this, statements => statements.Upsert(write), savepoint: false, cancellationToken);
    }

    public Task DeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _writer.Enqueue(this, statements =>
        {
            statements.Remove(key, etag, StateConcurrency.LastWrite);
            return string.Empty;
        }, savepoint: false, cancellationToken);
    }

    public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        foreach (StateOperation operation in operations)
        {
            if (operation is not (StateOperation.Upsert or StateOperation.Delete))
            {
                throw new ArgumentException($"unknown state operation {operation?.GetType().Name}", nameof(operations));
            }
        }

        return _writer.Enqueue(this, statements =>
        {
            // A conflict throws out of here, and the writer rolls back to this request's savepoint: all or nothing.
            foreach (StateOperation operation in operations)
            {
                if (operation is StateOperation.Upsert upsert)
                {
                    statements.Upsert(upsert.Write);
                }
                else if (operation is StateOperation.Delete delete)
                {
                    statements.Remove(delete.Key, delete.ETag, delete.Concurrency);
                }
            }

            return string.Empty;
        }, savepoint: operations.Count > 1, cancellationToken);
    }

    public async IAsyncEnumerable<(string Key, StateItem Item)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string? upper = StateRules.PrefixUpperBound(prefix);
        using SqliteConnection connection = OpenForRead();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT key, value, etag FROM {_table} WHERE key >= @prefix {(upper is null ? "" : "AND key < @upper")} AND substr(key, 1, length(@prefix)) = @prefix AND (expires_at IS NULL OR expires_at > @now) ORDER BY key;";
        command.Parameters.AddWithValue("@prefix", prefix);
        if (upper is not null)
        {
            command.Parameters.AddWithValue("@upper", upper);
        }

        command.Parameters.AddWithValue("@now", Now());
        using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return (reader.GetString(0), new StateItem((byte[])reader.GetValue(1), reader.GetString(2)));
        }
    }

    /// <summary>
    /// A connection for reading: no pragmas, which cost two statements parsed and run on every read. A WAL reader
    /// never waits on the write lock, <c>synchronous</c> concerns only commits, and Microsoft.Data.Sqlite retries a busy
    /// statement for the command's timeout on its own.
    /// </summary>
    private SqliteConnection OpenForRead()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>
    /// A connection for writing: a reader's, with the writer's pragmas. They hold for the native connection's life, which
    /// the connection pool keeps across opens, so they are run once per native connection, not at every group commit.
    /// </summary>
    private SqliteConnection Open()
    {
        SqliteConnection connection = OpenForRead();
        if (!WriterPragmasSet.TryGetValue(connection.Handle!, out _))
        {
            // temp_store=MEMORY: a group commit runs each write under a savepoint, whose journal of the pages it changes
            // SQLite would spill to a temporary file past 64 KiB; a commit then writes only its WAL frames.
            // wal_autocheckpoint=0: the file's checkpoints run beside the writer, not inside a commit (FileWriter.Checkpoints).
            Execute(connection, null, $"PRAGMA busy_timeout={_busyTimeoutMs}; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=0;");
            WriterPragmasSet.AddOrUpdate(connection.Handle!, PragmasSet);
        }

        return connection;
    }

    /// <summary>The native connections the writer's pragmas were run on (weakly: a connection closed for good drops out).</summary>
    private static readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> WriterPragmasSet = new();

    private static readonly object PragmasSet = new();

    // BEGIN IMMEDIATE takes the write lock up front, so the ETag read and the write cannot interleave with another writer.
    private static SqliteTransaction BeginImmediate(SqliteConnection connection) => connection.BeginTransaction(deferred: false);

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// A connection kept open for reads with its read statement prepared once, so a read parses no SQL. Used by one
    /// read at a time. (Mapping the file into memory, <c>mmap_size</c>, made reads slower here: the file grows under
    /// a busy pipeline, and each growth remaps it.)
    /// </summary>
    private sealed class ReadSession : IDisposable
    {
        private readonly SqliteCommand _get;
        private readonly SqliteParameter _key;
        private readonly SqliteParameter _now;

        public ReadSession(string connectionString, string table)
        {
            Connection = new SqliteConnection(connectionString);
            try
            {
                Connection.Open();
                _get = Connection.CreateCommand();
                _get.CommandText = $"SELECT value, etag FROM {table} WHERE key = @key AND (expires_at IS NULL OR expires_at > @now);";
                _key = _get.Parameters.Add("@key", SqliteType.Text);
                _now = _get.Parameters.Add("@now", SqliteType.Integer);
                _get.Prepare();
            }
            catch
            {
                Connection.Dispose();
                throw;
            }
        }

        public SqliteConnection Connection { get; }

        public StateItem? Read(SqliteTransaction? transaction, string key, long now)
        {
            _get.Transaction = transaction;
            _key.Value = key;
            _now.Value = now;
            using SqliteDataReader reader = _get.ExecuteReader();
            return reader.Read() ? new StateItem((byte[])reader.GetValue(0), reader.GetString(1)) : null;
        }

        public void Dispose()
        {
            _get.Dispose();
            Connection.Dispose();
        }
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach ((string n, object v) in parameters)
        {
            command.Parameters.AddWithValue(n, v);
        }

        command.ExecuteNonQuery();
    }

    /// <summary>
    /// The write commands of one SQL transaction, each prepared on first use and re-bound for every operation after
    /// that. Only an ETag or first-write concurrency makes the current item matter, so only they read it first.
    /// </summary>
    private sealed class WriteStatements(SqliteStateStore store, SqliteConnection connection, SqliteTransaction transaction) : IDisposable
    {
        private SqliteCommand? _read;
        private SqliteCommand? _upsert;
        private SqliteCommand? _delete;

        public string Upsert(StateWrite write)
        {
            if (write.ETag is not null || write.Concurrency == StateConcurrency.FirstWrite)
            {
                StateRules.Check(store.Name, write.Key, write.ETag, write.Concurrency, CurrentETag(write.Key), isDelete: false);
            }

            string etag = Guid.NewGuid().ToString("n");
            _upsert ??= Prepare(
                $"INSERT INTO {store._table} (key, value, etag, expires_at) VALUES (@key, @value, @etag, @expires) ON CONFLICT(key) DO UPDATE SET value = excluded.value, etag = excluded.etag, expires_at = excluded.expires_at;",
                "@key", "@value", "@etag", "@expires");
            _upsert.Parameters["@key"].Value = write.Key;
            _upsert.Parameters["@value"].Value = WholeArray(write.Value);
            _upsert.Parameters["@etag"].Value = etag;
            _upsert.Parameters["@expires"].Value = write.Ttl is TimeSpan ttl ? (store._time.GetUtcNow() + ttl).ToUnixTimeMilliseconds() : DBNull.Value;
            _upsert.ExecuteNonQuery();
            return etag;
        }

        /// <summary>The value's own array when it spans all of one (as a gRPC request's bytes do), else a copy: SQLite binds arrays.</summary>
        private static byte[] WholeArray(ReadOnlyMemory<byte> value) =>
            System.Runtime.InteropServices.MemoryMarshal.TryGetArray(value, out ArraySegment<byte> segment)
                && segment is { Offset: 0, Array: { } array } && segment.Count == array.Length
                ? array
                : value.ToArray();

        public void Remove(string key, string? etag, StateConcurrency concurrency)
        {
            if (etag is not null || concurrency == StateConcurrency.FirstWrite)
            {
                StateRules.Check(store.Name, key, etag, concurrency, CurrentETag(key), isDelete: true);
            }

            _delete ??= Prepare($"DELETE FROM {store._table} WHERE key = @key;", "@key");
            _delete.Parameters["@key"].Value = key;
            _delete.ExecuteNonQuery();
        }

        public void Dispose()
        {
            _read?.Dispose();
            _upsert?.Dispose();
            _delete?.Dispose();
        }

        private string? CurrentETag(string key)
        {
            _read ??= Prepare($"SELECT etag FROM {store._table} WHERE key = @key AND (expires_at IS NULL OR expires_at > @now);", "@key", "@now");
            _read.Parameters["@key"].Value = key;
            _read.Parameters["@now"].Value = store.Now();
            return _read.ExecuteScalar() as string;
        }

        private SqliteCommand Prepare(string sql, params string[] parameters)
        {
            SqliteCommand command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            foreach (string parameter in parameters)
            {
                command.Parameters.Add(new SqliteParameter(parameter, DBNull.Value));
            }

            command.Prepare();
            return command;
        }
    }

    /// <summary>
    /// The single writer of one database file in this process: requests queue, and a drain loop (running only while
    /// there are requests) applies them in batches, one SQL transaction per batch and one savepoint per request of
    /// several writes.
    /// </summary>
    private sealed class FileWriter
    {
        private const int MaxBatch = 256;
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, FileWriter> Files = new(StringComparer.Ordinal);
        private readonly System.Collections.Concurrent.ConcurrentQueue<Request> _queue = new();
        private readonly Checkpoints? _checkpoints;
        private int _draining;
        private int _stores;

        private FileWriter(Checkpoints? checkpoints) => _checkpoints = checkpoints;

        /// <summary>The writer of the file <paramref name="connectionString"/> names (shared by stores of that file); a private one for memory databases.</summary>
        public static FileWriter For(string connectionString, WalCheckpoints checkpoints)
        {
            string source = new SqliteConnectionStringBuilder(connectionString).DataSource;
            return string.IsNullOrEmpty(source) || source == ":memory:" || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase)
                ? new FileWriter(null)
                : Files.GetOrAdd(Path.GetFullPath(source), _ => new FileWriter(new Checkpoints(connectionString, checkpoints)));
        }

        /// <summary>A store of the file opened: checkpoints run while any is open.</summary>
        public void Attach()
        {
            if (Interlocked.Increment(ref _stores) == 1)
            {
                _checkpoints?.Start();
            }
        }

        /// <summary>A store of the file disposed: the last one stops the checkpoints, waiting for one under way.</summary>
        public void Detach()
        {
            if (Interlocked.Decrement(ref _stores) == 0)
            {
                _checkpoints?.Stop();
            }
        }

        /// <param name="savepoint">
        /// Whether the request needs a savepoint of its own, because it may write more than once before it fails. A
        /// request of one write does not: its ETag check fails before it writes, and SQLite undoes a statement that
        /// fails part-way by itself.
        /// </param>
        public Task<string> Enqueue(SqliteStateStore store, Func<WriteStatements, string> apply, bool savepoint, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var request = new Request(store, apply, savepoint);
            _queue.Enqueue(request);
            if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
            {
                // At the back of the pool's global queue, not the caller's local one (where it would run next): the work
                // queued before it is where the other writes come from, so they are queued by the time it takes its
                // batch. A commit costs about as much for one write as for ten (BEGIN, statements, WAL frames, COMMIT).
                ThreadPool.UnsafeQueueUserWorkItem(static writer => writer.Drain(), this, preferLocal: false);
            }

            return request.Done.Task;
        }

        private void Drain()
        {
            var batch = new List<Request>(MaxBatch);
            while (true)
            {
                while (!_queue.IsEmpty)
                {
                    batch.Clear();
                    while (batch.Count < MaxBatch && _queue.TryDequeue(out Request? request))
                    {
                        batch.Add(request);
                    }

                    Commit(batch, _checkpoints);
                }

                Volatile.Write(ref _draining, 0);
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
                {
                    return; // nothing left, or another drain loop took over
                }
            }
        }

        private static void Commit(List<Request> batch, Checkpoints? checkpoints)
        {
            var applied = new List<(Request Request, string Result)>(batch.Count);
            var statements = new Dictionary<SqliteStateStore, WriteStatements>();
            try
            {
                using SqliteConnection connection = batch[0].Store.Open();
                using SqliteTransaction transaction = BeginImmediate(connection);
                using var savepoints = new Savepoints(connection, transaction);
                foreach (Request request in batch)
                {
                    if (request.Savepoint)
                    {
                        savepoints.Begin();
                    }

                    try
                    {
                        if (!statements.TryGetValue(request.Store, out WriteStatements? forStore))
                        {
                            forStore = new WriteStatements(request.Store, connection, transaction);
                            statements.Add(request.Store, forStore);
                        }

                        string result = request.Apply(forStore);
                        if (request.Savepoint)
                        {
                            savepoints.Release();
                        }

                        applied.Add((request, result));
                    }
                    catch (Exception e)
                    {
                        if (request.Savepoint)
                        {
                            // Only this request's changes go: the savepoint is rolled back and the batch goes on.
                            savepoints.RollBack();
                        }
                        else if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0)
                        {
                            throw; // the error took the whole SQL transaction with it (disk full, I/O): the batch fails
                        }

                        request.Done.TrySetException(e);
                    }
                }

                foreach (WriteStatements forStore in statements.Values)
                {
                    forStore.Dispose();
                }

                statements.Clear();
                transaction.Commit();
            }
            catch (Exception e)
            {
                foreach (WriteStatements forStore in statements.Values)
                {
                    forStore.Dispose();
                }

                // The file refused the batch (locked by another process past the busy timeout, disk full, ...): every
                // write of it fails, and none is committed.
                foreach (Request request in batch)
                {
                    request.Done.TrySetException(e);
                }

                return;
            }

            foreach ((Request request, string result) in applied)
            {
                request.Done.TrySetResult(result);
            }

            checkpoints?.Committed();
        }

        /// <summary>
        /// The file's WAL checkpoints, kept out of the commits. SQLite's own (<c>wal_autocheckpoint</c>, every 1,000
        /// pages) runs inside the commit that crosses the mark: it copies the WAL's pages into the database and syncs
        /// both files while every write waits, about fifteen times a second under the pipeline benchmark. Here a passive
        /// checkpoint runs on the thread pool at most every <see cref="WalCheckpoints.Interval"/> while commits come
        /// (the writer and readers go on meanwhile), and only once the WAL has grown past
        /// <see cref="WalCheckpoints.RestartAt"/> frames does the writer checkpoint, between two commits, copying what the
        /// last passive one left: a WAL starts again from its beginning only once every frame in it is in the database,
        /// which a checkpoint running beside a busy writer never sees. The syncs are SQLite's (<c>synchronous=NORMAL</c>):
        /// a commit survives the process being killed; an operating-system crash or power loss can take back what was
        /// committed since the last checkpoint.
        /// </summary>
        private sealed class Checkpoints(string connectionString, WalCheckpoints policy)
        {
            /// <summary>Never creates the file: one deleted after its last store closed stays deleted.</summary>
            private readonly string _connectionString = new SqliteConnectionStringBuilder(connectionString) { Mode = SqliteOpenMode.ReadWrite }.ToString();
            private readonly Lock _gate = new();
            private Timer? _timer;
            private bool _armed;
            private bool _stopped = true;
            private long _lastStarted = Environment.TickCount64;
            private long _lastEnded = Environment.TickCount64;
            private long _lastTried;
            private volatile bool _restartWanted;

            private long IntervalMs => (long)policy.Interval.TotalMilliseconds;

            public void Start()
            {
                lock (_gate)
                {
                    _stopped = false;
                }
            }

            /// <summary>Cancels the next passive checkpoint and waits (a few seconds at most) for one under way.</summary>
            public void Stop()
            {
                Timer? timer;
                lock (_gate)
                {
                    _stopped = true;
                    _armed = false;
                    timer = _timer;
                    _timer = null;
                }

                if (timer is not null)
                {
                    using var done = new ManualResetEvent(false);
                    if (timer.Dispose(done))
                    {
                        done.WaitOne(TimeSpan.FromSeconds(5));
                    }
                }
            }

            /// <summary>
            /// After a commit, on the writer's thread. Checkpoints there when the WAL is past its mark (retried every tenth
            /// of an interval while a checkpoint beside it holds the lock or a reader holds pages), or when none has ended
            /// for four intervals (the thread pool too busy to run them). Then makes sure a passive checkpoint follows,
            /// <see cref="WalCheckpoints.Interval"/> after the last one began at the earliest: every commit is in the
            /// database, and the WAL synced, within about that time.
            /// </summary>
            public void Committed()
            {
                long now = Environment.TickCount64;
                if ((_restartWanted && now - _lastTried >= Math.Max(1, IntervalMs / 10)) || now - Volatile.Read(ref _lastEnded) >= 4 * IntervalMs)
                {
                    // Between two commits, so nothing is appended meanwhile: the checkpoint can take in the whole WAL, and
                    // the next commit then starts it again from its beginning.
                    _lastTried = now;
                    _restartWanted = !Checkpoint(out _);
                    Volatile.Write(ref _lastEnded, Environment.TickCount64);
                }

                lock (_gate)
                {
                    if (_armed || _stopped)
                    {
                        return;
                    }

                    _armed = true;
                    long wait = Math.Max(0, _lastStarted + IntervalMs - Environment.TickCount64);
                    _timer ??= new Timer(static checkpoints => ((Checkpoints)checkpoints!).Passive(), this, Timeout.Infinite, Timeout.Infinite);
                    _timer.Change(wait, Timeout.Infinite);
                }
            }

            /// <summary>On the thread pool (the timer's callback): one passive checkpoint, and the writer asked to finish it when the WAL is long.</summary>
            private void Passive()
            {
                lock (_gate)
                {
                    if (_stopped)
                    {
                        return;
                    }

                    _armed = false; // a commit from now on arms the next one
                    _lastStarted = Environment.TickCount64;
                }

                Checkpoint(out int log);
                Volatile.Write(ref _lastEnded, Environment.TickCount64);
                if (log >= policy.RestartAt)
                {
                    _restartWanted = true;
                }
            }

            /// <summary>
            /// One passive checkpoint on a connection of its own (it never waits: another checkpoint under way, or a page a
            /// reader still needs, leaves the rest for the next one). Answers whether it took in the whole WAL, and the
            /// WAL's length in frames (0 when it did not run). A failure is left for the next one: the commits it follows
            /// are done.
            /// </summary>
            private bool Checkpoint(out int log)
            {
                log = 0;
                try
                {
                    using var connection = new SqliteConnection(_connectionString);
                    connection.Open();
                    using SqliteCommand command = connection.CreateCommand();
                    command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);"; // answers busy, the WAL's frames, the frames in the database
                    using SqliteDataReader result = command.ExecuteReader();
                    if (!result.Read())
                    {
                        return false;
                    }

                    log = result.GetInt32(1);
                    return result.GetInt32(0) == 0 && result.GetInt32(2) == log;
                }
                catch (Exception)
                {
                    return false; // on the thread pool nothing may escape, and on the writer's thread the commits are done
                }
            }
        }

        /// <summary>
        /// The savepoint of one request at a time, its three statements prepared once per batch (SQLite otherwise parses
        /// each anew, as <see cref="SqliteTransaction.Save"/> does).
        /// </summary>
        private sealed class Savepoints(SqliteConnection connection, SqliteTransaction transaction) : IDisposable
        {
            private SqliteCommand? _begin;
            private SqliteCommand? _release;
            private SqliteCommand? _rollBack;

            public void Begin() => Run(ref _begin, "SAVEPOINT w;");

            public void Release() => Run(ref _release, "RELEASE w;");

            /// <summary>Undoes the request's writes and ends its savepoint.</summary>
            public void RollBack()
            {
                Run(ref _rollBack, "ROLLBACK TO w;");
                Release();
            }

            public void Dispose()
            {
                _begin?.Dispose();
                _release?.Dispose();
                _rollBack?.Dispose();
            }

            private void Run(ref SqliteCommand? command, string sql)
            {
                if (command is null)
                {
                    command = connection.CreateCommand();
                    command.Transaction = transaction;
                    command.CommandText = sql;
                    command.Prepare();
                }

                command.ExecuteNonQuery();
            }
        }

        private sealed record Request(SqliteStateStore Store, Func<WriteStatements, string> Apply, bool Savepoint)
        {
            public TaskCompletionSource<string> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>
    /// When a file's WAL is checkpointed: a passive checkpoint beside the writer at most every <paramref name="Interval"/>
    /// while commits come, and one by the writer between two commits once the WAL is <paramref name="RestartAt"/> frames long.
    /// </summary>
    internal sealed record WalCheckpoints(int RestartAt, TimeSpan Interval)
    {
        /// <summary>
        /// 10,000 frames (about 40 MB of 4 KiB pages) and half a second. The pipeline benchmark on this project's 2-core
        /// machine went from 1,320–1,400 to 1,480–1,600 tx/s; SQLite's own checkpoints at 1,000 pages took a fifth of it,
        /// and passive ones every 100 ms, copying the pages rewritten most several times over, a tenth.
        /// </summary>
        public static readonly WalCheckpoints Default = new(10_000, TimeSpan.FromMilliseconds(500));
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}
