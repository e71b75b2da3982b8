using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Components;

/// <summary>
/// The state stores and pub/subs a components folder declares, built for the embedded runtime and wired together:
/// a pub/sub keeps its events in a state store (durable when that store is), and a state store with
/// <c>outboxPublishPubsub</c>/<c>outboxPublishTopic</c> publishes its transactions through that pub/sub.
/// </summary>
public sealed class EmbeddedComponents : IAsyncDisposable
{
    private readonly List<object> _owned = [];

    private EmbeddedComponents()
    {
    }

    /// <summary>State stores by component name (outbox stores wrapped so that their transactions publish).</summary>
    public IReadOnlyDictionary<string, IStateStore> StateStores { get; private set; } = new Dictionary<string, IStateStore>();

    /// <summary>Pub/subs by component name.</summary>
    public IReadOnlyDictionary<string, IPubSub> PubSubs { get; private set; } = new Dictionary<string, IPubSub>();

    /// <summary>The store marked <c>actorStateStore: "true"</c> (actor state, reminders, workflow history), if any.</summary>
    public IStateStore? ActorStateStore { get; private set; }

    /// <summary>Loads <paramref name="componentsDirectory"/>; relative database paths resolve against <paramref name="baseDirectory"/>.</summary>
    public static Task<EmbeddedComponents> LoadAsync(string componentsDirectory, string baseDirectory, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default) =>
        BuildAsync(ComponentLoader.LoadDirectory(componentsDirectory), baseDirectory, timeProvider, cancellationToken);

    /// <summary>Builds the given components (see <see cref="LoadAsync"/>); any component it cannot build stops it, naming the file and field.</summary>
    public static async Task<EmbeddedComponents> BuildAsync(IReadOnlyList<ComponentDefinition> components, string baseDirectory, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(components);
        var result = new EmbeddedComponents();
        try
        {
            await result.BuildCoreAsync(components, baseDirectory, timeProvider, cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Pub/subs first: their last acknowledgements still need the stores.
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            if (_owned[i] is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
            else if (_owned[i] is IDisposable syncDisposable)
            {
                syncDisposable.Dispose();
            }
        }

        _owned.Clear();
    }

    private async Task BuildCoreAsync(IReadOnlyList<ComponentDefinition> components, string baseDirectory, TimeProvider? time, CancellationToken cancellationToken)
    {
        var stores = new Dictionary<string, IStateStore>(StringComparer.Ordinal);
        ComponentDefinition? actorStore = null;
        foreach (ComponentDefinition component in components)
        {
            if (component.Type.StartsWith("state.", StringComparison.Ordinal))
            {
                IStateStore store = StateStoreFactory.Create(component, baseDirectory, time);
                _owned.Add(store);
                stores[component.Name] = store;
                if (IsTrue(component, "actorStateStore"))
                {
                    if (actorStore is not null)
                    {
                        throw new ComponentException(component.File, "spec.metadata.actorStateStore", $"only one state store may be the actor state store ('{actorStore.Name}' in {actorStore.File} already is)");
                    }

                    actorStore = component;
                }
            }
            else if (component.Type.StartsWith("bindings.", StringComparison.Ordinal))
            {
                if (component.Type != "bindings.http")
                {
                    throw new ComponentException(component.File, "spec.type", $"'{component.Type}' is not a binding the embedded runtime provides (bindings.http)");
                }

                // built by the sidecar that serves it (Bindings.OutputBindings)
            }
            else if (!component.Type.StartsWith("pubsub.", StringComparison.Ordinal))
            {
                throw new ComponentException(component.File, "spec.type", $"'{component.Type}' is not a component the embedded runtime provides (state.sqlite, state.postgresql, state.in-memory, pubsub.in-memory, bindings.http)");
            }
        }

        var pubsubs = new Dictionary<string, IPubSub>(StringComparer.Ordinal);
        foreach (ComponentDefinition component in components)
        {
            if (!component.Type.StartsWith("pubsub.", StringComparison.Ordinal))
            {
                continue;
            }

            if (component.Type != "pubsub.in-memory")
            {
                throw new ComponentException(component.File, "spec.type", $"'{component.Type}' is not a pub/sub the embedded runtime provides (pubsub.in-memory)");
            }

            IStateStore? backing = BackingStore(component, stores, actorStore);
            IPubSub pubsub = backing is null
                ? new InMemoryPubSub(component.Name, time)
                : await DurablePubSub.OpenAsync(component.Name, backing, time, cancellationToken).ConfigureAwait(false);
            _owned.Add(pubsub);
            pubsubs[component.Name] = pubsub;
        }

        foreach (ComponentDefinition component in components)
        {
            if (!stores.ContainsKey(component.Name) || component.Get("outboxPublishPubsub") is not string outboxPubSub)
            {
                continue;
            }

            string topic = component.Require("outboxPublishTopic");
            if (!pubsubs.TryGetValue(outboxPubSub, out IPubSub? target))
            {
                throw new ComponentException(component.File, "spec.metadata.outboxPublishPubsub", $"no pub/sub component named '{outboxPubSub}'");
            }

            if (target is not DurablePubSub durable || !ReferenceEquals(durable.Store, stores[component.Name]))
            {
                throw new ComponentException(component.File, "spec.metadata.outboxPublishPubsub", $"pub/sub '{outboxPubSub}' must keep its events in state store '{component.Name}' (set its stateStore metadata to '{component.Name}') for the outbox to commit with the state");
            }

            stores[component.Name] = new OutboxStateStore(stores[component.Name], durable, topic, time);
        }

        StateStores = stores;
        PubSubs = pubsubs;
        ActorStateStore = actorStore is null ? null : stores[actorStore.Name];
    }

    /// <summary>The store a pub/sub keeps its events in: its <c>stateStore</c> metadata, else the actor state store, else the only store.</summary>
    private static IStateStore? BackingStore(ComponentDefinition component, Dictionary<string, IStateStore> stores, ComponentDefinition? actorStore)
    {
        if (component.Get("stateStore") is string named)
        {
            return stores.TryGetValue(named, out IStateStore? store)
                ? store
                : throw new ComponentException(component.File, "spec.metadata.stateStore", $"no state store component named '{named}'");
        }

        if (actorStore is not null)
        {
            return stores[actorStore.Name];
        }

        return stores.Count switch
        {
            0 => null, // no store at all: events live in memory only
            1 => stores.Values.First(),
            _ => throw new ComponentException(component.File, "spec.metadata.stateStore", $"several state stores are declared and none is the actor state store: name the one pub/sub '{component.Name}' keeps its events in"),
        };
    }

    private static bool IsTrue(ComponentDefinition component, string key) =>
        string.Equals(component.Get(key), "true", StringComparison.OrdinalIgnoreCase);
}
