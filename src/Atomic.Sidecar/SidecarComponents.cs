using Atomic.Sidecar.Components;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar;

/// <summary>
/// The components of the resources folder (Dapr's own YAML), built once and looked up by name as daprd does: an unknown
/// name is daprd's error for it, and state keys are prefixed by the store's <c>keyPrefix</c> (the app id by default).
/// </summary>
public sealed class SidecarComponents : IAsyncDisposable
{
    private const string KeySeparator = "||";

    /// <summary>Stands for "the app's id" among the prefixes (no fixed prefix can hold the separator).</summary>
    private const string AppIdPrefix = "||appid";

    private readonly EmbeddedComponents _components;
    private readonly bool _owned;
    private readonly Dictionary<string, string?> _keyPrefixes;

    private SidecarComponents(EmbeddedComponents components, IReadOnlyList<ComponentDefinition> definitions, bool owned)
    {
        _components = components;
        _owned = owned;
        Definitions = definitions;
        _keyPrefixes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (ComponentDefinition definition in definitions)
        {
            if (definition.Type.StartsWith("state.", StringComparison.Ordinal))
            {
                _keyPrefixes[definition.Name] = KeyPrefix(definition);
            }
        }
    }

    /// <summary>Every component the folder declares, as read.</summary>
    public IReadOnlyList<ComponentDefinition> Definitions { get; }

    /// <summary>The state stores by name (outbox stores publish their transactions).</summary>
    public IReadOnlyDictionary<string, IStateStore> StateStores => _components.StateStores;

    /// <summary>The store marked <c>actorStateStore: "true"</c> (actor state, reminders, workflow history), or null.</summary>
    public Components.State.IStateStore? ActorStateStore => _components.ActorStateStore;

    /// <summary>The pub/subs by name.</summary>
    public IReadOnlyDictionary<string, IPubSub> PubSubs => _components.PubSubs;

    /// <summary>Reads and builds the resources folder; a file it cannot use stops it, naming the file and field (<see cref="ComponentException"/>).</summary>
    public static async Task<SidecarComponents> LoadAsync(SidecarOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<ComponentDefinition> definitions = ComponentLoader.LoadDirectory(options.ResourcesDirectory);
        EmbeddedComponents components = await EmbeddedComponents.BuildAsync(definitions, options.BaseDirectoryPath, options.Time, cancellationToken).ConfigureAwait(false);
        return new SidecarComponents(components, definitions, owned: true);
    }

    /// <summary>
    /// Serves components a host built and owns (the all-in-one server's, shared by its in-process services and the
    /// sidecar): disposing this leaves them open.
    /// </summary>
    public static SidecarComponents Over(EmbeddedComponents components, IReadOnlyList<ComponentDefinition> definitions)
    {
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(definitions);
        return new SidecarComponents(components, definitions, owned: false);
    }

    /// <summary>The store named <paramref name="name"/>, or daprd's ERR_STATE_STORE_NOT_FOUND (ERR_STATE_STORES_NOT_CONFIGURED with none).</summary>
    public IStateStore StateStore(string name)
    {
        if (_components.StateStores.Count == 0)
        {
            throw new DaprError(500, global::Grpc.Core.StatusCode.FailedPrecondition, ErrorCodes.StateStoresNotConfigured, "state store is not configured");
        }

        return _components.StateStores.TryGetValue(name, out IStateStore? store) ? store : throw DaprError.StoreNotFound(name);
    }

    /// <summary>The pub/sub named <paramref name="name"/>, or daprd's ERR_PUBSUB_NOT_FOUND.</summary>
    public IPubSub PubSub(string name) =>
        _components.PubSubs.TryGetValue(name, out IPubSub? pubsub) ? pubsub : throw DaprError.PubSubNotFound(name);

    /// <summary>
    /// The key <paramref name="key"/> of store <paramref name="store"/> is kept under for app <paramref name="appId"/>
    /// (daprd's key scheme: <c>{prefix}||{key}</c>).
    /// </summary>
    public string StoredKey(string store, string key, string appId)
    {
        if (key.Length == 0)
        {
            throw DaprError.Malformed("state key must not be empty");
        }

        if (key.Contains(KeySeparator, StringComparison.Ordinal))
        {
            throw DaprError.Malformed($"input key/keyPrefix '{key}' can't contain '{KeySeparator}'");
        }

        return _keyPrefixes.TryGetValue(store, out string? prefix) && prefix is not null
            ? (prefix == AppIdPrefix ? appId : prefix) + KeySeparator + key
            : key;
    }

    /// <summary>
    /// daprd's <c>keyPrefix</c> metadata: <c>appid</c> (default: the calling app's id, <see cref="AppIdPrefix"/> here),
    /// <c>name</c>, <c>none</c>, or a fixed prefix.
    /// </summary>
    private static string? KeyPrefix(ComponentDefinition definition) => (definition.Get("keyPrefix") ?? "appid") switch
    {
        "appid" => AppIdPrefix,
        "name" => definition.Name,
        "none" => null,
        string fixedPrefix when fixedPrefix.Contains(KeySeparator, StringComparison.Ordinal) =>
            throw new ComponentException(definition.File, "spec.metadata.keyPrefix", $"'{fixedPrefix}' must not contain '{KeySeparator}'"),
        string fixedPrefix => fixedPrefix,
    };

    public ValueTask DisposeAsync() => _owned ? _components.DisposeAsync() : ValueTask.CompletedTask;
}
