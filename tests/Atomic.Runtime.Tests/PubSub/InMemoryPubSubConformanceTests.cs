using Atomic.Runtime.Embedded.PubSub;
using Atomic.Runtime.PubSub;

namespace Atomic.Runtime.Tests.PubSub;

/// <summary>The pub/sub conformance suite against <c>pubsub.in-memory</c>.</summary>
public class InMemoryPubSubConformanceTests : PubSubConformance
{
    protected override IPubSub CreatePubSub() => new InMemoryPubSub("pubsub");
}
