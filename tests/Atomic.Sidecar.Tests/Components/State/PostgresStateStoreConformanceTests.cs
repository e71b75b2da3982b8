using Atomic.Sidecar.Components.State;
using Npgsql;

namespace Atomic.Sidecar.Tests.Components.State;

/// <summary>
/// The state conformance suite against <c>state.postgresql</c> on a real server: ./test.sh installs and starts one
/// and sets ATOMIC_TEST_POSTGRES. Each test gets its own table, dropped afterwards.
/// </summary>
public sealed class PostgresStateStoreConformanceTests : StateStoreConformance, IDisposable
{
    private static readonly string ConnectionString = Environment.GetEnvironmentVariable("ATOMIC_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=5432;Username=atomic;Password=atomic;Database=atomic_test";

    private readonly string _table = $"state_{Guid.NewGuid():n}";
    private PostgresStateStore? _store;

    protected override IStateStore CreateStore(TimeProvider time)
    {
        try
        {
            return _store = new PostgresStateStore("statestore", ConnectionString, _table, time);
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException($"no PostgreSQL server at {ConnectionString}: run ./test.sh, which installs and starts one", e);
        }
    }

    public void Dispose()
    {
        if (_store is null)
        {
            return;
        }

        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {_table}", connection);
        drop.ExecuteNonQuery();
    }
}
