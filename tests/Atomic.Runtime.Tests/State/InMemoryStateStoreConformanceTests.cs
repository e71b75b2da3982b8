using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Tests.State;

/// <summary>The state conformance suite against <c>state.in-memory</c>.</summary>
public class InMemoryStateStoreConformanceTests : StateStoreConformance
{
    protected override IStateStore CreateStore(TimeProvider time) => new InMemoryStateStore("statestore", time);
}
