using System.Text.Json;
using Atomic.Sidecar.Components.State;
using Atomic.Services.Broadcaster;
using Atomic.Services.Pipeline;
using Atomic.Sidecar;

namespace Atomic.Server.Hosting;

/// <summary>
/// Moves what an older all-in-one server kept (its services on the in-process runtime, writing the components
/// directly) to where the same services keep it through the sidecar, once, before the sidecar serves:
/// <list type="bullet">
/// <item><c>tx||{txid}</c> and <c>beef||{txid}</c> to <c>tx|{txid}</c> and <c>beef|{txid}</c> under <c>txstore</c>'s key
/// prefix (daprd refuses <c>||</c> in a key);</item>
/// <item>each <c>watch||{txid}</c> into the watch index shards <c>watch-index|{000..fff}</c>;</item>
/// <item>events still waiting for the old per-stage consumers (<c>atomic-verifier</c>, <c>atomic-overlay</c>,
/// <c>atomic-broadcaster</c>) to this app id, which now consumes every topic, and those consumers unregistered.</item>
/// </list>
/// Each key is written at its new place before the old one is deleted, so a run cut short is finished by the next.
/// </summary>
internal static class StoreMigration
{
    private const string Old = "||";
    private static readonly string[] OldConsumers = [Names.Apps.Verifier, Names.Apps.Overlay, Names.Apps.Broadcaster];

    /// <summary>Migrates and answers whether pub/sub registrations changed (the components must then be loaded again).</summary>
    public static async Task<bool> RunAsync(SidecarComponents components, string appId, CancellationToken cancellationToken)
    {
        IStateStore tx = components.StateStores[Names.TxStore];
        await MoveAsync(tx, "tx" + Old, key => components.StoredKey(Names.TxStore, Names.TxKey(key), appId), cancellationToken).ConfigureAwait(false);
        await MoveAsync(tx, "beef" + Old, key => components.StoredKey(Names.TxStore, Names.BeefKey(key), appId), cancellationToken).ConfigureAwait(false);
        await MoveWatchesAsync(tx, key => components.StoredKey(Names.TxStore, key, appId), cancellationToken).ConfigureAwait(false);

        bool consumersChanged = false;
        if (Array.IndexOf(OldConsumers, appId) < 0)
        {
            foreach (ComponentDefinitionView pubsub in PubSubStores(components))
            {
                consumersChanged |= await MoveConsumersAsync(pubsub.Store, pubsub.Name, appId, cancellationToken).ConfigureAwait(false);
            }
        }

        return consumersChanged;
    }

    private static async Task MoveAsync(IStateStore store, string prefix, Func<string, string> newKey, CancellationToken cancellationToken)
    {
        foreach ((string key, StateItem item) in await ListAsync(store, prefix, cancellationToken).ConfigureAwait(false))
        {
            await store.SaveAsync(new StateWrite(newKey(key[prefix.Length..]), item.Value), cancellationToken).ConfigureAwait(false);
            await store.DeleteAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>watch||{txid}</c> keys (the old index where the store could list) and old <c>watch-index||{c}</c> shards, into today's shards.</summary>
    private static async Task MoveWatchesAsync(IStateStore store, Func<string, string> storedKey, CancellationToken cancellationToken)
    {
        var shards = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var old = new List<string>();
        foreach ((string key, StateItem item) in await ListAsync(store, "watch-index" + Old, cancellationToken).ConfigureAwait(false))
        {
            foreach (string txid in JsonSerializer.Deserialize<List<string>>(item.Value.Span) ?? [])
            {
                Shard(shards, txid).Add(txid);
            }

            old.Add(key);
        }

        foreach ((string key, StateItem _) in await ListAsync(store, "watch" + Old, cancellationToken).ConfigureAwait(false))
        {
            string txid = key["watch||".Length..];
            if (txid.Length >= 2)
            {
                Shard(shards, txid).Add(txid);
            }

            old.Add(key);
        }

        foreach ((string shard, SortedSet<string> txids) in shards)
        {
            string key = storedKey(shard);
            StateItem? current = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (current is not null)
            {
                txids.UnionWith(JsonSerializer.Deserialize<List<string>>(current.Value.Span) ?? []);
            }

            await store.SaveAsync(new StateWrite(key, JsonSerializer.SerializeToUtf8Bytes(txids.ToList())), cancellationToken).ConfigureAwait(false);
        }

        foreach (string key in old)
        {
            await store.DeleteAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The set of today's shard of <paramref name="txid"/> (<see cref="WatchIndex.ShardOf"/>).</summary>
    private static SortedSet<string> Shard(Dictionary<string, SortedSet<string>> shards, string txid)
    {
        string key = WatchIndex.ShardOf(txid);
        if (!shards.TryGetValue(key, out SortedSet<string>? set))
        {
            shards[key] = set = new SortedSet<string>(StringComparer.Ordinal);
        }

        return set;
    }

    /// <summary>
    /// The durable pub/sub's rows (<c>pubsub||{name}||c||{topic}||{consumer}</c> registrations and
    /// <c>pubsub||{name}||m||{topic}||{consumer}||{seq}</c> deliveries) of the old consumers, moved to <paramref name="appId"/>.
    /// </summary>
    private static async Task<bool> MoveConsumersAsync(IStateStore store, string pubsub, string appId, CancellationToken cancellationToken)
    {
        bool changed = false;
        string messages = $"pubsub{Old}{pubsub}{Old}m{Old}";
        foreach ((string key, StateItem item) in await ListAsync(store, messages, cancellationToken).ConfigureAwait(false))
        {
            string[] parts = key[messages.Length..].Split(Old);
            if (parts.Length == 3 && Array.IndexOf(OldConsumers, parts[1]) >= 0)
            {
                await store.SaveAsync(new StateWrite($"{messages}{parts[0]}{Old}{appId}{Old}{parts[2]}", item.Value), cancellationToken).ConfigureAwait(false);
                await store.DeleteAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        string consumers = $"pubsub{Old}{pubsub}{Old}c{Old}";
        foreach ((string key, StateItem item) in await ListAsync(store, consumers, cancellationToken).ConfigureAwait(false))
        {
            string[] parts = key[consumers.Length..].Split(Old);
            if (parts.Length == 2 && Array.IndexOf(OldConsumers, parts[1]) >= 0)
            {
                await store.SaveAsync(new StateWrite($"{consumers}{parts[0]}{Old}{appId}", item.Value), cancellationToken).ConfigureAwait(false);
                await store.DeleteAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
                changed = true;
            }
        }

        return changed;
    }

    private static IEnumerable<ComponentDefinitionView> PubSubStores(SidecarComponents components)
    {
        foreach (Atomic.Sidecar.Components.ComponentDefinition definition in components.Definitions)
        {
            if (definition.Type == "pubsub.in-memory"
                && components.StateStores.TryGetValue(definition.Get("stateStore") ?? string.Empty, out IStateStore? store))
            {
                yield return new ComponentDefinitionView(definition.Name, store);
            }
        }
    }

    /// <summary>Listed whole first: the moves change the keys being listed.</summary>
    private static async Task<List<(string Key, StateItem Item)>> ListAsync(IStateStore store, string prefix, CancellationToken cancellationToken)
    {
        var keys = new List<(string, StateItem)>();
        await foreach ((string key, StateItem item) in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            keys.Add((key, item));
        }

        return keys;
    }

    private readonly record struct ComponentDefinitionView(string Name, IStateStore Store);
}
