using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Tests.Workflow;

/// <summary>The workflow conformance suite on <c>state.in-memory</c>.</summary>
public sealed class InMemoryWorkflowConformanceTests : EmbeddedWorkflowConformance
{
    protected override IStateStore Store { get; } = new InMemoryStateStore("statestore");
}
