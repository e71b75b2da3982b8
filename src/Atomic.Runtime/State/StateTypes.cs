namespace Atomic.Runtime.State;

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

/// <summary>One value to write. <paramref name="Ttl"/> makes the item disappear after that long.</summary>
public sealed record StateWrite(
    string Key, ReadOnlyMemory<byte> Value, string? ETag = null, StateConcurrency Concurrency = StateConcurrency.LastWrite, TimeSpan? Ttl = null);

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
