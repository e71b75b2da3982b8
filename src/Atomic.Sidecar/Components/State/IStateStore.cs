namespace Atomic.Sidecar.Components.State;

/// <summary>
/// The state building block (Dapr's state API): values by key with opaque ETags, first- or last-write concurrency,
/// bulk reads and writes, all-or-nothing multi-key transactions, per-item TTL and key-prefix listing.
/// Every implementation passes the same conformance suite (tests/Atomic.Sidecar.Tests.Components).
/// </summary>
public interface IStateStore
{
    /// <summary>The component name (for example <c>statestore</c>).</summary>
    string Name { get; }

    /// <summary>The item, or null when the key is absent or its TTL has passed.</summary>
    Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>One entry per key, in order; an absent key has a null <see cref="StateItem"/>.</summary>
    Task<IReadOnlyList<(string Key, StateItem? Item)>> GetBulkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default);

    /// <summary>Writes one value and returns its new ETag; throws <see cref="StateConcurrencyException"/> on an ETag conflict.</summary>
    Task<string> SaveAsync(StateWrite write, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes several values in one store transaction: all of them, or none when one's ETag (or first-write) is
    /// refused (<see cref="StateConcurrencyException"/>). Dapr leaves a bulk save's atomicity to the component; this one
    /// commits once for the lot. Never published by an outbox: only <see cref="ExecuteTransactionAsync"/> is.
    /// </summary>
    Task SaveBulkAsync(IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        var operations = new StateOperation[writes.Count];
        for (int i = 0; i < operations.Length; i++)
        {
            operations[i] = new StateOperation.Upsert(writes[i]);
        }

        return ExecuteTransactionAsync(operations, cancellationToken);
    }

    /// <summary>Deletes a key; with an ETag only if it still matches (else <see cref="StateConcurrencyException"/>). Deleting an absent key without an ETag is not an error.</summary>
    Task DeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default);

    /// <summary>Applies every operation, or none: any ETag conflict aborts the whole transaction.</summary>
    Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default);

    /// <summary>Every live item whose key starts with <paramref name="prefix"/>, in ordinal key order.</summary>
    IAsyncEnumerable<(string Key, StateItem Item)> ListAsync(string prefix, CancellationToken cancellationToken = default);
}
