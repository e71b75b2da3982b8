using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Atomic.Runtime.State;
using Microsoft.Data.Sqlite;

namespace Atomic.Runtime.Embedded.State;

/// <summary>
/// <c>state.sqlite</c>, the embedded default: one table (key, value, etag, expiry) in a WAL-mode SQLite file. Every
/// write that checks an ETag runs inside <c>BEGIN IMMEDIATE</c>, so the check and the write are one atomic step;
/// a transaction's operations share one such SQL transaction and its prepared statements, and a write that checks
/// nothing (no ETag, last-write) does not read first. Expired items are invisible and removed lazily.
/// </summary>
/// <remarks>
/// Writers of one database file in this process take turns on one gate before <c>BEGIN IMMEDIATE</c>: SQLite's own
/// busy handler makes a waiting writer sleep (up to 100 ms a time), which under load costs far more than queueing.
/// Connections use <c>synchronous=NORMAL</c>, WAL's usual pairing: a committed transaction survives the process being
/// killed; only an operating-system crash or power loss can take back the last commits before a checkpoint.
/// </remarks>
public sealed partial class SqliteStateStore : IStateStore
{
    private readonly string _connectionString;
    private readonly string _table;
    private readonly int _busyTimeoutMs;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writeGate;

    /// <param name="name">The component name.</param>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string, e.g. <c>Data Source=data/state.db</c>.</param>
    /// <param name="tableName">The table, a plain identifier (default <c>state</c>).</param>
    /// <param name="busyTimeout">How long a writer waits for the file lock before failing.</param>
    /// <param name="timeProvider">The clock TTLs are measured by.</param>
    public SqliteStateStore(string name, string connectionString, string tableName = "state", TimeSpan? busyTimeout = null, TimeProvider? timeProvider = null)
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
        _writeGate = WriteGate(connectionString);
        using SqliteConnection connection = Open();
        Execute(connection, null, "PRAGMA journal_mode=WAL;");
        Execute(connection, null, $"CREATE TABLE IF NOT EXISTS {_table} (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, etag TEXT NOT NULL, expires_at INTEGER NULL) WITHOUT ROWID;");
    }

    public string Name { get; }

    public Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        using SqliteConnection connection = Open();
        return Task.FromResult(Read(connection, null, key));
    }

    public Task<IReadOnlyList<(string Key, StateItem? Item)>> GetBulkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        using SqliteConnection connection = Open();
        using SqliteTransaction snapshot = connection.BeginTransaction(deferred: true); // one consistent read
        var result = new (string, StateItem?)[keys.Count];
        for (int i = 0; i < keys.Count; i++)
        {
            result[i] = (keys[i], Read(connection, snapshot, keys[i]));
        }

        return Task.FromResult<IReadOnlyList<(string Key, StateItem? Item)>>(result);
    }

    public async Task<string> SaveAsync(StateWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using SqliteConnection connection = Open();
            using SqliteTransaction transaction = BeginImmediate(connection);
            string etag;
            using (var statements = new WriteStatements(this, connection, transaction))
            {
                etag = statements.Upsert(write);
            }

            transaction.Commit();
            return etag;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async Task DeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using SqliteConnection connection = Open();
            using SqliteTransaction transaction = BeginImmediate(connection);
            using (var statements = new WriteStatements(this, connection, transaction))
            {
                statements.Remove(key, etag, StateConcurrency.LastWrite);
            }

            transaction.Commit();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ExecuteTransaction(operations);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void ExecuteTransaction(IReadOnlyList<StateOperation> operations)
    {
        using SqliteConnection connection = Open();
        using SqliteTransaction transaction = BeginImmediate(connection);
        using var statements = new WriteStatements(this, connection, transaction);
        foreach (StateOperation operation in operations)
        {
            switch (operation)
            {
                case StateOperation.Upsert upsert:
                    statements.Upsert(upsert.Write);
                    break;
                case StateOperation.Delete delete:
                    statements.Remove(delete.Key, delete.ETag, delete.Concurrency);
                    break;
                default:
                    throw new ArgumentException($"unknown state operation {operation.GetType().Name}", nameof(operations));
            }
        }

        // A conflict above throws before this line, and disposing the transaction rolls every operation back.
        transaction.Commit();
    }

    public async IAsyncEnumerable<(string Key, StateItem Item)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string? upper = StateRules.PrefixUpperBound(prefix);
        using SqliteConnection connection = Open();
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

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, null, $"PRAGMA busy_timeout={_busyTimeoutMs}; PRAGMA synchronous=NORMAL;");
        return connection;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> WriteGates = new(StringComparer.Ordinal);

    /// <summary>One gate per database file in this process (stores sharing a file share it); a private one for memory databases.</summary>
    private static SemaphoreSlim WriteGate(string connectionString)
    {
        string source = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (string.IsNullOrEmpty(source) || source == ":memory:" || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return new SemaphoreSlim(1, 1);
        }

        return WriteGates.GetOrAdd(Path.GetFullPath(source), _ => new SemaphoreSlim(1, 1));
    }

    // BEGIN IMMEDIATE takes the write lock up front, so the ETag read and the write cannot interleave with another writer.
    private static SqliteTransaction BeginImmediate(SqliteConnection connection) => connection.BeginTransaction(deferred: false);

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private StateItem? Read(SqliteConnection connection, SqliteTransaction? transaction, string key)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT value, etag FROM {_table} WHERE key = @key AND (expires_at IS NULL OR expires_at > @now);";
        command.Parameters.AddWithValue("@key", key);
        command.Parameters.AddWithValue("@now", Now());
        using SqliteDataReader reader = command.ExecuteReader();
        return reader.Read() ? new StateItem((byte[])reader.GetValue(0), reader.GetString(1)) : null;
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
            _upsert.Parameters["@value"].Value = write.Value.ToArray();
            _upsert.Parameters["@etag"].Value = etag;
            _upsert.Parameters["@expires"].Value = write.Ttl is TimeSpan ttl ? (store._time.GetUtcNow() + ttl).ToUnixTimeMilliseconds() : DBNull.Value;
            _upsert.ExecuteNonQuery();
            return etag;
        }

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

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}
