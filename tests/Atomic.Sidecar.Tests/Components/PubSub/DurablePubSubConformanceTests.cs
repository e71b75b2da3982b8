using Atomic.Sidecar.Components.State;
using Npgsql;

namespace Atomic.Sidecar.Tests.Components.PubSub;

/// <summary>The durable pub/sub over <c>state.in-memory</c> (durable for as long as the store object lives).</summary>
public sealed class InMemoryDurablePubSubConformanceTests : DurablePubSubConformance
{
    protected override IStateStore CreateStore() => new InMemoryStateStore("statestore");
}

/// <summary>The durable pub/sub over <c>state.sqlite</c>, each test on its own database file.</summary>
public sealed class SqliteDurablePubSubConformanceTests : DurablePubSubConformance
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"atomic-pubsub-{Guid.NewGuid():n}");

    protected override IStateStore CreateStore()
    {
        Directory.CreateDirectory(_directory);
        return new SqliteStateStore("statestore", $"Data Source={Path.Combine(_directory, "state.db")}");
    }

    protected override Task DisposeStoreAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return Task.CompletedTask;
    }
}

/// <summary>The durable pub/sub over <c>state.postgresql</c> on the real server ./test.sh starts; a table per test.</summary>
public sealed class PostgresDurablePubSubConformanceTests : DurablePubSubConformance
{
    private static readonly string ConnectionString = Environment.GetEnvironmentVariable("ATOMIC_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=5432;Username=atomic;Password=atomic;Database=atomic_test";

    private readonly string _table = $"pubsub_{Guid.NewGuid():n}";
    private PostgresStateStore? _store;

    protected override IStateStore CreateStore() => _store = new PostgresStateStore("statestore", ConnectionString, _table);

    protected override async Task DisposeStoreAsync()
    {
        if (_store is null)
        {
            return;
        }

        await _store.DisposeAsync();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {_table}", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
