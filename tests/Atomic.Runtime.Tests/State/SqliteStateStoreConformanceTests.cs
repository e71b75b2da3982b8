using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Tests.State;

/// <summary>The state conformance suite against <c>state.sqlite</c>, each test on its own database file.</summary>
public sealed class SqliteStateStoreConformanceTests : StateStoreConformance, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"atomic-sqlite-{Guid.NewGuid():n}");

    protected override IStateStore CreateStore(TimeProvider time)
    {
        Directory.CreateDirectory(_directory);
        return new SqliteStateStore("statestore", $"Data Source={Path.Combine(_directory, "state.db")};Pooling=False", timeProvider: time);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
