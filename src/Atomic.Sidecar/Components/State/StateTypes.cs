namespace Atomic.Sidecar.Components.State;

/// <summary>How a write treats an existing item (Dapr's <c>concurrency</c> option).</summary>
public enum StateConcurrency
{
    /// <summary>The write wins; an ETag, when given, must still match.</summary>
    LastWrite,

    /// <summary>Updating or deleting an existing item requires its current ETag.</summary>
    FirstWrite,
}

/// <summary>A stored value with its opaque ETag.</summary>
public sealed record StateItem(ReadOnlyMemory<byte> Value, string ETag);

/// <summary>
/// One value to write. <paramref name="Ttl"/> makes the item disappear after that long; <paramref name="Metadata"/>
/// carries Dapr's per-item request metadata (see <see cref="StateMetadata"/>), which stores do not persist.
/// </summary>
public sealed record StateWrite(
    string Key,
    ReadOnlyMemory<byte> Value,
    string? ETag = null,
    StateConcurrency Concurrency = StateConcurrency.LastWrite,
    TimeSpan? Ttl = null,
    IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>Per-item metadata keys with a meaning on Dapr's state API, spelled as the sidecar expects them.</summary>
public static class StateMetadata
{
    /// <summary>
    /// On an upsert inside a transaction on a store with an outbox: <c>"true"</c> marks a projection, the payload
    /// published in place of the saved value of the upsert with the same key; the projection itself is not saved.
    /// </summary>
    public const string OutboxProjection = "outbox.projection";

    /// <summary>Prefix of the metadata that overrides a published CloudEvent's attributes (<c>cloudevent.type</c>, <c>cloudevent.subject</c>, <c>cloudevent.id</c>, <c>cloudevent.source</c>).</summary>
    public const string CloudEventPrefix = "cloudevent.";

    /// <summary>The content type of the value (published as the CloudEvent's <c>datacontenttype</c>).</summary>
    public const string ContentType = "contentType";
}

/// <summary>One step of a state transaction.</summary>
public abstract record StateOperation(string Key)
{
    public sealed record Upsert(StateWrite Write) : StateOperation(Write.Key);

    public sealed record Delete(string Key, string? ETag = null, StateConcurrency Concurrency = StateConcurrency.LastWrite) : StateOperation(Key);
}

/// <summary>The ETag given does not match the stored one (Dapr answers 409): nothing was written.</summary>
public sealed class StateConcurrencyException(string store, string key, string message) : Exception($"{store}: {key}: {message}")
{
    public string Store { get; } = store;

    public string Key { get; } = key;
}
