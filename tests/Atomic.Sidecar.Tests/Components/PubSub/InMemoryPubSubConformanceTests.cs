using Atomic.Sidecar.Components.PubSub;

namespace Atomic.Sidecar.Tests.Components.PubSub;

/// <summary>The pub/sub conformance suite against <c>pubsub.in-memory</c>.</summary>
public class InMemoryPubSubConformanceTests : PubSubConformance
{
    protected override IPubSub CreatePubSub() => new InMemoryPubSub("pubsub");
}
