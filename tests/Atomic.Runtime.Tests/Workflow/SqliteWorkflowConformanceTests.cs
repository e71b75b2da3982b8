using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Tests.Workflow;

/// <summary>The workflow conformance suite on <c>state.sqlite</c>, each test on its own database file.</summary>
public sealed class SqliteWorkflowConformanceTests : EmbeddedWorkflowConformance
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"atomic-wf-sqlite-{Guid.NewGuid():n}");
    private readonly Lazy<IStateStore> _store;

    public SqliteWorkflowConformanceTests()
    {
        _store = new(() =>
        {
            Directory.CreateDirectory(_directory);
            return new SqliteStateStore("statestore", $"Data Source={Path.Combine(_directory, "state.db")}");
        });
    }

    protected override IStateStore Store => _store.Value;

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
