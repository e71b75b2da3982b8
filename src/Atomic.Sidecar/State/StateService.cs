using Atomic.Sidecar.Components.State;
using Atomic.Sidecar.Resiliency;
using Polly.Timeout;

namespace Atomic.Sidecar.State;

/// <summary>
/// The state API's operations, shared by the HTTP and gRPC APIs: keys are prefixed as daprd prefixes them, each call
/// into the store runs under its outbound Resiliency policy, and a store's refusals become daprd's errors (an ETag
/// conflict is 409 over HTTP and ABORTED over gRPC; a timeout or an open circuit breaker is 500 with the operation's code).
/// </summary>
public sealed class StateService(SidecarComponents components, SidecarOptions options, SidecarResiliency resiliency)
{
    public async Task<StateItem?> GetAsync(string store, string key, CancellationToken cancellationToken)
    {
        IStateStore target = components.StateStore(store);
        string stored = components.StoredKey(store, key, options.AppId);
        return await RunAsync(store, ct => target.GetAsync(stored, ct), ErrorCodes.StateGet, $"fail to get {key} from state store {store}", cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<(string Key, StateItem? Item)>> GetBulkAsync(string store, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        IStateStore target = components.StateStore(store);
        var stored = new string[keys.Count];
        for (int i = 0; i < stored.Length; i++)
        {
            stored[i] = components.StoredKey(store, keys[i], options.AppId);
        }

        IReadOnlyList<(string Key, StateItem? Item)> found = await RunAsync(
            store, ct => target.GetBulkAsync(stored, ct), ErrorCodes.StateBulkGet, $"failed getting bulk state from state store {store}", cancellationToken).ConfigureAwait(false);
        var result = new (string, StateItem?)[found.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = (keys[i], found[i].Item);
        }

        return result;
    }

    /// <summary>Saves each item on its own, in order, as daprd's bulk save does; the first refusal stops it.</summary>
    public async Task SaveAsync(string store, IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken)
    {
        IStateStore target = components.StateStore(store);
        StateWrite[] stored = new StateWrite[writes.Count];
        for (int i = 0; i < stored.Length; i++)
        {
            stored[i] = writes[i] with { Key = components.StoredKey(store, writes[i].Key, options.AppId) };
        }

        if (stored.Length == 1)
        {
            await SaveOneAsync(store, target, stored[0], cancellationToken).ConfigureAwait(false);
            return;
        }

        // Several items: one store transaction, so one commit for all of them, and all or none (one ETag conflict
        // refuses the lot with daprd's answer to a conflict).
        try
        {
            await RunAsync(store, ct => Done(target.SaveBulkAsync(stored, ct)), ErrorCodes.StateSave, $"failed saving state in state store {store}", cancellationToken).ConfigureAwait(false);
        }
        catch (StateConcurrencyException e)
        {
            throw Conflict(ErrorCodes.StateSave, $"failed saving state in state store {store}: possible etag mismatch. error from state store: {e.Message}");
        }
    }

    private async Task SaveOneAsync(string store, IStateStore target, StateWrite write, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(store, ct => Done(target.SaveAsync(write, ct)), ErrorCodes.StateSave, $"failed saving state in state store {store}", cancellationToken).ConfigureAwait(false);
        }
        catch (StateConcurrencyException e)
        {
            throw Conflict(ErrorCodes.StateSave, $"failed saving state in state store {store}: possible etag mismatch. error from state store: {e.Message}");
        }
    }

    public async Task DeleteAsync(string store, string key, string? etag, StateConcurrency concurrency, CancellationToken cancellationToken)
    {
        IStateStore target = components.StateStore(store);
        string stored = components.StoredKey(store, key, options.AppId);
        try
        {
            if (concurrency == StateConcurrency.FirstWrite && etag is null)
            {
                // Only a transaction's delete carries first-write; a delete of one key is a transaction of one.
                await RunAsync(
                    store, ct => Done(target.ExecuteTransactionAsync([new StateOperation.Delete(stored, null, concurrency)], ct)), ErrorCodes.StateDelete,
                    $"failed deleting state with key {key}", cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await RunAsync(store, ct => Done(target.DeleteAsync(stored, etag, ct)), ErrorCodes.StateDelete, $"failed deleting state with key {key}", cancellationToken).ConfigureAwait(false);
            }
        }
        catch (StateConcurrencyException e)
        {
            throw Conflict(ErrorCodes.StateDelete, $"failed deleting state with key {key}: possible etag mismatch. error from state store: {e.Message}");
        }
    }

    /// <summary>All the operations or none (a store with an outbox publishes them once committed).</summary>
    public async Task TransactAsync(string store, IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        IStateStore target = components.StateStore(store);
        var stored = new StateOperation[operations.Count];
        for (int i = 0; i < stored.Length; i++)
        {
            stored[i] = operations[i] switch
            {
                StateOperation.Upsert upsert => new StateOperation.Upsert(upsert.Write with
                {
                    Key = components.StoredKey(store, upsert.Write.Key, options.AppId),
                    Metadata = Http.TraceContext.With(upsert.Write.Metadata),
                }),
                StateOperation.Delete delete => delete with { Key = components.StoredKey(store, delete.Key, options.AppId) },
                _ => throw DaprError.Malformed("unknown operation"),
            };
        }

        try
        {
            await RunAsync(store, ct => Done(target.ExecuteTransactionAsync(stored, ct)), ErrorCodes.StateTransaction, "error while executing state transaction", cancellationToken).ConfigureAwait(false);
        }
        catch (StateConcurrencyException e)
        {
            throw Conflict(ErrorCodes.StateTransaction, $"error while executing state transaction: possible etag mismatch. error from state store: {e.Message}");
        }
    }

    private static DaprError Conflict(string code, string message) => new(409, global::Grpc.Core.StatusCode.Aborted, code, message);

    /// <summary>
    /// One call into <paramref name="store"/> under its outbound policy; a timeout ("context deadline exceeded", as
    /// daprd words it) or an open circuit breaker is 500 with the operation's error code.
    /// </summary>
    private async Task<T> RunAsync<T>(string store, Func<CancellationToken, Task<T>> call, string code, string what, CancellationToken cancellationToken)
    {
        TargetPolicy policy = resiliency.Outbound(store, ComponentKind.Statestore);
        try
        {
            return await policy.ExecuteAsync(async ct => await call(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException)
        {
            throw new DaprError(500, global::Grpc.Core.StatusCode.DeadlineExceeded, code, $"{what}: {Invoke.Invoker.DeadlineExceeded}");
        }
        catch (CircuitBrokenException e)
        {
            throw new DaprError(500, global::Grpc.Core.StatusCode.Unavailable, code, $"{what}: {e.Message}");
        }
    }

    private static async Task<bool> Done(Task task)
    {
        await task.ConfigureAwait(false);
        return true;
    }
}
