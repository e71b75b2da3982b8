using Atomic.Runtime.PubSub;
using Atomic.Runtime.State;

namespace Atomic.Runtime;

/// <summary>
/// The building blocks a service is given, by component name, whichever runtime provides them (embedded or the Dapr
/// sidecar). A service asks for the names it uses; a name that is not configured is a clear start-up error.
/// </summary>
public sealed class BuildingBlocks(IReadOnlyDictionary<string, IStateStore> stateStores, IReadOnlyDictionary<string, IPubSub> pubSubs)
{
    public IReadOnlyDictionary<string, IStateStore> StateStores { get; } = stateStores;

    public IReadOnlyDictionary<string, IPubSub> PubSubs { get; } = pubSubs;

    public IStateStore StateStore(string name) =>
        StateStores.TryGetValue(name, out IStateStore? store)
            ? store
            : throw new InvalidOperationException($"no state store component named '{name}' is configured (components/ declares: {string.Join(", ", StateStores.Keys)})");

    public IPubSub PubSub(string name) =>
        PubSubs.TryGetValue(name, out IPubSub? pubsub)
            ? pubsub
            : throw new InvalidOperationException($"no pub/sub component named '{name}' is configured (components/ declares: {string.Join(", ", PubSubs.Keys)})");
}
