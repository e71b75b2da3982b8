using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Runtime.Dapr.Actors;

// The actor API's wire shapes, field for field as in Dapr's actors API reference (reference/api/actors_api.md).
// Durations are Go duration strings (GoDuration); data is JSON (DaprStateValue: JSON as itself, other bytes wrapped).

/// <summary>The answer of <c>GET /dapr/config</c>: the types this app hosts and the actor runtime settings daprd applies to them.</summary>
public sealed record DaprActorConfig(
    [property: JsonPropertyName("entities")] IReadOnlyList<string> Entities,
    [property: JsonPropertyName("actorIdleTimeout")] string ActorIdleTimeout,
    [property: JsonPropertyName("actorScanInterval")] string ActorScanInterval,
    [property: JsonPropertyName("drainOngoingCallTimeout")] string DrainOngoingCallTimeout,
    [property: JsonPropertyName("drainRebalancedActors")] bool DrainRebalancedActors,
    [property: JsonPropertyName("reentrancy")] DaprReentrancyConfig Reentrancy,
    [property: JsonPropertyName("entitiesConfig")] IReadOnlyList<DaprEntityConfig> EntitiesConfig);

/// <summary><c>reentrancy</c>: whether a call chain may come back to an actor, and how deep.</summary>
public sealed record DaprReentrancyConfig(
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("maxStackDepth")] int MaxStackDepth);

/// <summary>One entry of <c>entitiesConfig</c>: per-type overrides (absent fields: as the runtime).</summary>
public sealed record DaprEntityConfig(
    [property: JsonPropertyName("entities")] IReadOnlyList<string> Entities,
    [property: JsonPropertyName("actorIdleTimeout"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ActorIdleTimeout,
    [property: JsonPropertyName("drainOngoingCallTimeout"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DrainOngoingCallTimeout,
    [property: JsonPropertyName("reentrancy"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DaprReentrancyConfig? Reentrancy);

/// <summary>The body of <c>POST|PUT /v1.0/actors/{type}/{id}/reminders/{name}</c> and the answer of its GET; <c>period</c> is empty for a single firing.</summary>
internal sealed record DaprReminderRequest(
    [property: JsonPropertyName("dueTime")] string DueTime,
    [property: JsonPropertyName("period")] string? Period,
    [property: JsonPropertyName("data")] JsonElement? Data,
    [property: JsonPropertyName("ttl")] string? Ttl);

/// <summary>The body of <c>POST|PUT /v1.0/actors/{type}/{id}/timers/{name}</c>.</summary>
internal sealed record DaprTimerRequest(
    [property: JsonPropertyName("dueTime")] string DueTime,
    [property: JsonPropertyName("period")] string? Period,
    [property: JsonPropertyName("callback")] string Callback,
    [property: JsonPropertyName("data")] JsonElement? Data);

/// <summary>The body daprd sends to <c>PUT /actors/{type}/{id}/method/remind/{name}</c>.</summary>
public sealed record DaprReminderCallback(
    [property: JsonPropertyName("data")] JsonElement? Data,
    [property: JsonPropertyName("dueTime")] string? DueTime,
    [property: JsonPropertyName("period")] string? Period);

/// <summary>The body daprd sends to <c>PUT /actors/{type}/{id}/method/timer/{name}</c>.</summary>
public sealed record DaprTimerCallback(
    [property: JsonPropertyName("callback")] string? Callback,
    [property: JsonPropertyName("data")] JsonElement? Data,
    [property: JsonPropertyName("dueTime")] string? DueTime,
    [property: JsonPropertyName("period")] string? Period);

/// <summary>One operation of the actor state transaction (<c>POST /v1.0/actors/{type}/{id}/state</c>, whose body is a bare array of these).</summary>
internal sealed record DaprActorStateOperation(
    [property: JsonPropertyName("operation")] string Operation,
    [property: JsonPropertyName("request")] DaprActorStateRequest Request);

/// <summary>The <c>request</c> of an actor state operation: a delete has only the key.</summary>
internal sealed record DaprActorStateRequest(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("value")] JsonElement? Value,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, string>? Metadata);
