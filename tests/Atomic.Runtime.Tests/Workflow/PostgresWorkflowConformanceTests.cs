using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.State;
using Npgsql;

namespace Atomic.Runtime.Tests.Workflow;

/// <summary>
/// The workflow conformance suite on <c>state.postgresql</c> on a real server (./test.sh starts one and sets
/// ATOMIC_TEST_POSTGRES). Each test gets its own table, dropped afterwards.
/// </summary>
public sealed class PostgresWorkflowConformanceTests : EmbeddedWorkflowConformance
{
    private static readonly string ConnectionString = Environment.GetEnvironmentVariable("ATOMIC_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=5432;Username=atomic;Password=atomic;Database=atomic_test";

    private readonly string _table = $"wf_{Guid.NewGuid():n}";
    private readonly Lazy<PostgresStateStore> _store;

    public PostgresWorkflowConformanceTests()
    {
        _store = new(() =>
        {
            try
            {
                return new PostgresStateStore("statestore", ConnectionString, _table);
            }
            catch (NpgsqlException e)
            {
                throw new InvalidOperationException($"no PostgreSQL server at {ConnectionString}: run ./test.sh, which installs and starts one", e);
            }
        });
    }

    protected override IStateStore Store => _store.Value;

    protected override async Task DisposeStoreAsync()
    {
        if (!_store.IsValueCreated)
        {
            return;
        }

        await _store.Value.DisposeAsync();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {_table}", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
