using Atomic.Runtime.Dapr.PubSub;
using Atomic.Runtime.Dapr.State;
using Atomic.Runtime.PubSub;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Dapr;

/// <summary>Builds <see cref="BuildingBlocks"/> whose components are the sidecar's, by component name.</summary>
public static class DaprBuildingBlocks
{
    /// <param name="sidecar">The client from <see cref="DaprSidecar.CreateHttpClient"/>.</param>
    /// <param name="subscriptions">The table the app serves with <see cref="DaprAppCallbacks.MapDaprPubSub"/>.</param>
    /// <param name="stateStores">State store component names, each with its options (null for the defaults).</param>
    /// <param name="pubSubs">Pub/sub component names.</param>
    public static BuildingBlocks Create(
        HttpClient sidecar,
        DaprSubscriptionTable subscriptions,
        IReadOnlyDictionary<string, DaprStateStoreOptions?> stateStores,
        IEnumerable<string> pubSubs)
    {
        ArgumentNullException.ThrowIfNull(stateStores);
        ArgumentNullException.ThrowIfNull(pubSubs);
        return new BuildingBlocks(
            stateStores.ToDictionary(s => s.Key, s => (IStateStore)new DaprStateStore(sidecar, s.Key, s.Value), StringComparer.Ordinal),
            pubSubs.ToDictionary(p => p, p => (IPubSub)new DaprPubSub(sidecar, p, subscriptions), StringComparer.Ordinal));
    }
}
