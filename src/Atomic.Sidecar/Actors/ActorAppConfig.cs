using System.Text.Json;

namespace Atomic.Sidecar.Actors;

/// <summary>The reentrancy of an actor type: on or off, and how many nested calls of one chain may run on an actor.</summary>
public readonly record struct ActorReentrancy(bool Enabled, int MaxStackDepth)
{
    /// <summary>daprd's default: off, 32 deep when turned on without a depth.</summary>
    public static readonly ActorReentrancy Default = new(false, 32);
}

/// <summary>
/// What the app says of its actors in <c>GET /dapr/config</c>: the types it hosts, idle timeout and scan interval,
/// drain timeout and reentrancy, each overridable per type in <c>entitiesConfig</c>. Read leniently, as daprd reads it:
/// unknown fields are ignored and a value it cannot read keeps its default.
/// </summary>
public sealed class ActorAppConfig
{
    /// <summary>daprd's default <c>actorIdleTimeout</c>.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(60);

    /// <summary>daprd's default <c>actorScanInterval</c>.</summary>
    public static readonly TimeSpan DefaultScanInterval = TimeSpan.FromSeconds(30);

    /// <summary>daprd's default <c>drainOngoingCallTimeout</c>.</summary>
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(60);

    /// <summary>No actors: the app has none, or was not reached.</summary>
    public static readonly ActorAppConfig None = new();

    private readonly HashSet<string> _entities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TimeSpan> _idleByType = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ActorReentrancy> _reentrancyByType = new(StringComparer.Ordinal);

    /// <summary>The actor types the app hosts, in the order it named them.</summary>
    public IReadOnlyList<string> Entities { get; private set; } = [];

    /// <summary>The app-wide idle timeout.</summary>
    public TimeSpan IdleTimeout { get; private set; } = DefaultIdleTimeout;

    /// <summary>How often idle actors are looked for.</summary>
    public TimeSpan ScanInterval { get; private set; } = DefaultScanInterval;

    /// <summary>How long turns in flight are waited for when actors are deactivated on shutdown.</summary>
    public TimeSpan DrainOngoingCallTimeout { get; private set; } = DefaultDrainTimeout;

    /// <summary>The app-wide reentrancy.</summary>
    public ActorReentrancy Reentrancy { get; private set; } = ActorReentrancy.Default;

    /// <summary>Whether the app hosts <paramref name="actorType"/>.</summary>
    public bool Hosts(string actorType) => _entities.Contains(actorType);

    /// <summary>The type's idle timeout (its <c>entitiesConfig</c> entry's, else the app's).</summary>
    public TimeSpan IdleTimeoutOf(string actorType) => _idleByType.TryGetValue(actorType, out TimeSpan idle) ? idle : IdleTimeout;

    /// <summary>The type's reentrancy (its <c>entitiesConfig</c> entry's, else the app's).</summary>
    public ActorReentrancy ReentrancyOf(string actorType) => _reentrancyByType.TryGetValue(actorType, out ActorReentrancy r) ? r : Reentrancy;

    /// <summary>Reads the body of <c>GET /dapr/config</c>; throws <see cref="JsonException"/> when it is not a JSON object.</summary>
    public static ActorAppConfig Parse(ReadOnlySpan<byte> json)
    {
        using JsonDocument document = JsonDocument.Parse(json.ToArray());
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("/dapr/config is not a JSON object");
        }

        var config = new ActorAppConfig();
        var entities = new List<string>();
        foreach (string entity in Strings(root, "entities"))
        {
            if (config._entities.Add(entity))
            {
                entities.Add(entity);
            }
        }

        config.Entities = entities;
        config.IdleTimeout = Positive(root, "actorIdleTimeout") ?? DefaultIdleTimeout;
        config.ScanInterval = Positive(root, "actorScanInterval") ?? DefaultScanInterval;
        config.DrainOngoingCallTimeout = Positive(root, "drainOngoingCallTimeout") ?? DefaultDrainTimeout;
        config.Reentrancy = ReadReentrancy(root) ?? ActorReentrancy.Default;
        if (root.TryGetProperty("entitiesConfig", out JsonElement perType) && perType.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement entry in perType.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                TimeSpan? idle = Positive(entry, "actorIdleTimeout");
                ActorReentrancy? reentrancy = ReadReentrancy(entry);
                foreach (string entity in Strings(entry, "entities"))
                {
                    if (idle is TimeSpan t)
                    {
                        config._idleByType[entity] = t;
                    }

                    if (reentrancy is ActorReentrancy r)
                    {
                        config._reentrancyByType[entity] = r;
                    }
                }
            }
        }

        return config;
    }

    private static ActorReentrancy? ReadReentrancy(JsonElement parent)
    {
        if (!parent.TryGetProperty("reentrancy", out JsonElement reentrancy) || reentrancy.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        bool enabled = reentrancy.TryGetProperty("enabled", out JsonElement on) && on.ValueKind == JsonValueKind.True;
        int depth = reentrancy.TryGetProperty("maxStackDepth", out JsonElement d) && d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out int n) && n > 0
            ? n
            : ActorReentrancy.Default.MaxStackDepth;
        return new ActorReentrancy(enabled, depth);
    }

    private static TimeSpan? Positive(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
            && DaprDuration.TryParseGo(value.GetString()!, out TimeSpan duration) && duration > TimeSpan.Zero
            ? duration
            : null;

    private static IEnumerable<string> Strings(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out JsonElement list) || list.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (JsonElement item in list.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } entity)
            {
                yield return entity;
            }
        }
    }
}
