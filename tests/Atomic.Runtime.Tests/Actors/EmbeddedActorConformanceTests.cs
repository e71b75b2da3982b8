using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.State;
using Npgsql;

namespace Atomic.Runtime.Tests.Actors;

/// <summary>The actor conformance suite on <c>state.in-memory</c>: "reopening" it is the same object, as memory does not survive a process.</summary>
public sealed class InMemoryActorConformanceTests : ActorConformance
{
    private InMemoryStateStore? _store;

    protected override IStateStore OpenStore(TimeProvider time) => _store ??= new InMemoryStateStore("statestore", time);
}

/// <summary>The actor conformance suite on <c>state.sqlite</c>: each open is a new store over the test's own database file.</summary>
public sealed class SqliteActorConformanceTests : ActorConformance
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"atomic-actors-{Guid.NewGuid():n}");

    protected override IStateStore OpenStore(TimeProvider time)
    {
        Directory.CreateDirectory(_directory);
        return new SqliteStateStore("statestore", $"Data Source={Path.Combine(_directory, "state.db")};Pooling=False", timeProvider: time);
    }

    protected override Task CloseStoresAsync()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// The actor conformance suite on <c>state.postgresql</c> on a real server (./test.sh starts one and sets
/// ATOMIC_TEST_POSTGRES): each open is a new store over the test's own table, dropped afterwards.
/// </summary>
public sealed class PostgresActorConformanceTests : ActorConformance
{
    private static readonly string ConnectionString = Environment.GetEnvironmentVariable("ATOMIC_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=5432;Username=atomic;Password=atomic;Database=atomic_test";

    private readonly string _table = $"actors_{Guid.NewGuid():n}";
    private readonly List<PostgresStateStore> _stores = [];

    protected override IStateStore OpenStore(TimeProvider time)
    {
        try
        {
            var store = new PostgresStateStore("statestore", ConnectionString, _table, time);
            _stores.Add(store);
            return store;
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException($"no PostgreSQL server at {ConnectionString}: run ./test.sh, which installs and starts one", e);
        }
    }

    protected override async Task CloseStoresAsync()
    {
        foreach (PostgresStateStore store in _stores)
        {
            await store.DisposeAsync();
        }

        if (_stores.Count > 0)
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {_table}", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
