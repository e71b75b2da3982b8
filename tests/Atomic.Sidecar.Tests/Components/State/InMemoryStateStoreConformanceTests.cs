using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Tests.Components.State;

/// <summary>The state conformance suite against <c>state.in-memory</c>.</summary>
public class InMemoryStateStoreConformanceTests : StateStoreConformance
{
    protected override IStateStore CreateStore(TimeProvider time) => new InMemoryStateStore("statestore", time);
}
