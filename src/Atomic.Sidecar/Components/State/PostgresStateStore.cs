using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Atomic.Sidecar.Components.State;
using Npgsql;

namespace Atomic.Sidecar.Components.State;

/// <summary>
/// <c>state.postgresql</c>: one table (key, value, etag, expiry) in PostgreSQL. Each concurrency rule is a single
/// atomic statement: an ETag-guarded UPDATE or DELETE, a plain upsert for last-write, and for first-write an insert
/// that only replaces an expired row. A transaction runs its statements in one database transaction.
/// </summary>
public sealed partial class PostgresStateStore : IStateStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _table;
    private readonly TimeProvider _time;

    public PostgresStateStore(string name, string connectionString, string tableName = "state", TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (!Identifier().IsMatch(tableName))
        {
            throw new ArgumentException($"table name '{tableName}' must be a plain identifier (letters, digits, _)", nameof(tableName));
        }

        Name = name;
        _table = tableName;
        _time = timeProvider ?? TimeProvider.System;
        // Npgsql's default pool (100) equals PostgreSQL's default max_connections: one busy store would take the whole
        // server. Unless the connection string says otherwise, callers queue for a smaller pool instead.
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase) && !connectionString.Contains("MaxPoolSize", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }

        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        using NpgsqlCommand create = _dataSource.CreateCommand(
            $"CREATE TABLE IF NOT EXISTS {_table} (key TEXT COLLATE \"C\" PRIMARY KEY, value BYTEA NOT NULL, etag TEXT NOT NULL, expires_at BIGINT NULL)");
        create.ExecuteNonQuery();
    }

    /// <summary>The connection pool size when the connection string does not set one.</summary>
    public const int DefaultMaxPoolSize = 20;

    public string Name { get; }

    public async Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(connection, key, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<(string Key, StateItem? Item)>> GetBulkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlCommand command = new($"SELECT key, value, etag FROM {_table} WHERE key = ANY(@keys) AND {Live}", connection);
        command.Parameters.AddWithValue("keys", keys.ToArray());
        command.Parameters.AddWithValue("now", Now());
        var found = new Dictionary<string, StateItem>(StringComparer.Ordinal);
        await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found[reader.GetString(0)] = new StateItem((byte[])reader.GetValue(1), reader.GetString(2));
            }
        }

        return keys.Select(k => (k, found.TryGetValue(k, out StateItem? item) ? item : null)).ToArray();
    }

    public async Task<string> SaveAsync(StateWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await UpsertAsync(connection, null, write, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await RemoveAsync(connection, null, key, etag, StateConcurrency.LastWrite, cancellationToken).ConfigureAwait(false);
    }

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (StateOperation operation in operations)
        {
            switch (operation)
            {
                case StateOperation.Upsert upsert:
                    await UpsertAsync(connection, transaction, upsert.Write, cancellationToken).ConfigureAwait(false);
                    break;
                case StateOperation.Delete delete:
                    await RemoveAsync(connection, transaction, delete.Key, delete.ETag, delete.Concurrency, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new ArgumentException($"unknown state operation {operation.GetType().Name}", nameof(operations));
            }
        }

        // A conflict above throws first, and disposing the uncommitted transaction rolls every statement back.
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<(string Key, StateItem Item)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string? upper = StateRules.PrefixUpperBound(prefix);
        await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlCommand command = new(
            $"SELECT key, value, etag FROM {_table} WHERE key >= @prefix {(upper is null ? "" : "AND key < @upper")} AND left(key, length(@prefix)) = @prefix AND {Live} ORDER BY key COLLATE \"C\"", connection);
        command.Parameters.AddWithValue("prefix", prefix);
        if (upper is not null)
        {
            command.Parameters.AddWithValue("upper", upper);
        }

        command.Parameters.AddWithValue("now", Now());
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return (reader.GetString(0), new StateItem((byte[])reader.GetValue(1), reader.GetString(2)));
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private const string Live = "(expires_at IS NULL OR expires_at > @now)";

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private async Task<StateItem?> ReadAsync(NpgsqlConnection connection, string key, CancellationToken ct)
    {
        await using NpgsqlCommand command = new($"SELECT value, etag FROM {_table} WHERE key = @key AND {Live}", connection);
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("now", Now());
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? new StateItem((byte[])reader.GetValue(0), reader.GetString(1)) : null;
    }

    private async Task<string> UpsertAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, StateWrite write, CancellationToken ct)
    {
        string etag = Guid.NewGuid().ToString("n");
        string sql = write.ETag is not null
            ? $"UPDATE {_table} SET value = @value, etag = @etag, expires_at = @expires WHERE key = @key AND etag = @expected AND {Live}"
            : write.Concurrency == StateConcurrency.FirstWrite
                ? $"INSERT INTO {_table} AS t (key, value, etag, expires_at) VALUES (@key, @value, @etag, @expires) ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag, expires_at = excluded.expires_at WHERE t.expires_at IS NOT NULL AND t.expires_at <= @now"
                : $"INSERT INTO {_table} (key, value, etag, expires_at) VALUES (@key, @value, @etag, @expires) ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag, expires_at = excluded.expires_at";
        await using NpgsqlCommand command = new(sql, connection, transaction);
        command.Parameters.AddWithValue("key", write.Key);
        command.Parameters.AddWithValue("value", write.Value.ToArray());
        command.Parameters.AddWithValue("etag", etag);
        command.Parameters.AddWithValue("expires", write.Ttl is TimeSpan ttl ? (_time.GetUtcNow() + ttl).ToUnixTimeMilliseconds() : DBNull.Value);
        command.Parameters.AddWithValue("now", Now());
        command.Parameters.AddWithValue("expected", (object?)write.ETag ?? DBNull.Value);
        if (await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
        {
            throw new StateConcurrencyException(Name, write.Key, write.ETag is not null
                ? $"ETag {write.ETag} does not match the stored item (or there is none)"
                : "first-write concurrency: updating an existing item needs its ETag");
        }

        return etag;
    }

    private async Task RemoveAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string key, string? etag, StateConcurrency concurrency, CancellationToken ct)
    {
        if (etag is null && concurrency == StateConcurrency.FirstWrite)
        {
            await using NpgsqlCommand exists = new($"SELECT 1 FROM {_table} WHERE key = @key AND {Live}", connection, transaction);
            exists.Parameters.AddWithValue("key", key);
            exists.Parameters.AddWithValue("now", Now());
            if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null)
            {
                throw new StateConcurrencyException(Name, key, "first-write concurrency: deleting an existing item needs its ETag");
            }

            return;
        }

        string sql = etag is null
            ? $"DELETE FROM {_table} WHERE key = @key"
            : $"DELETE FROM {_table} WHERE key = @key AND etag = @expected AND {Live}";
        await using NpgsqlCommand command = new(sql, connection, transaction);
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("now", Now());
        command.Parameters.AddWithValue("expected", (object?)etag ?? DBNull.Value);
        int deleted = await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        if (etag is not null && deleted != 1)
        {
            throw new StateConcurrencyException(Name, key, $"ETag {etag} does not match the stored item (or there is none)");
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}
