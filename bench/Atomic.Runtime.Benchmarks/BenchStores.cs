using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.State;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Atomic.Runtime.Benchmarks;

/// <summary>Fresh state stores for one measurement each: a new SQLite file, or a new PostgreSQL table (dropped at the end).</summary>
internal sealed class BenchStores(string? postgres) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("atomic-bench-").FullName;
    private readonly List<string> _tables = [];

    public bool HasPostgres => postgres is not null;

    /// <summary>Runs one measurement on a fresh SQLite store, then on a fresh PostgreSQL table when a server is configured.</summary>
    public async Task ForEachDurableAsync(Func<string, IStateStore, Task> measure)
    {
        await measure("sqlite", Sqlite());
        if (HasPostgres)
        {
            await measure("postgresql", Postgres());
        }
    }

    public IStateStore Sqlite() =>
        new SqliteStateStore("statestore", $"Data Source={Path.Combine(_directory, $"{Guid.NewGuid():n}.db")}");

    public IStateStore Postgres()
    {
        string table = $"bench_{Guid.NewGuid():n}";
        _tables.Add(table);
        return new PostgresStateStore("statestore", postgres ?? throw new InvalidOperationException("no PostgreSQL connection string"), table);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        if (postgres is null)
        {
            return;
        }

        using var connection = new NpgsqlConnection(postgres);
        connection.Open();
        foreach (string table in _tables)
        {
            using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {table}", connection);
            drop.ExecuteNonQuery();
        }
    }
}
