using Atomic.Runtime.Actors;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Embedded.Actors;

/// <summary>The actor state port over a state store, in Dapr's key layout (<see cref="ActorStateKeys.State"/>); a turn's changes are one state transaction.</summary>
internal sealed class StateStoreActorStateStore(IStateStore store, string appId) : IActorStateStore
{
    public async Task<ReadOnlyMemory<byte>?> GetAsync(string actorType, string actorId, string key, CancellationToken cancellationToken = default)
    {
        StateItem? item = await store.GetAsync(ActorStateKeys.State(appId, actorType, actorId, key), cancellationToken).ConfigureAwait(false);
        // Typed: a bare null would convert to an empty ReadOnlyMemory (through byte[]) and read as a present, empty value.
        return item is null ? (ReadOnlyMemory<byte>?)null : item.Value;
    }

    public Task SaveAsync(string actorType, string actorId, IReadOnlyList<ActorStateOperation> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var transaction = new StateOperation[operations.Count];
        for (int i = 0; i < transaction.Length; i++)
        {
            ActorStateOperation operation = operations[i];
            string key = ActorStateKeys.State(appId, actorType, actorId, operation.Key);
            transaction[i] = operation.Kind == ActorStateOperationKind.Upsert
                ? new StateOperation.Upsert(new StateWrite(key, operation.Value))
                : new StateOperation.Delete(key);
        }

        // No ETags: only the one activation of this actor writes these keys.
        return store.ExecuteTransactionAsync(transaction, cancellationToken);
    }
}
