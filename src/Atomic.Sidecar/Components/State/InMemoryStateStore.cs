using System.Globalization;
using System.Runtime.CompilerServices;
using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Components.State;

/// <summary>
/// <c>state.in-memory</c>: the state port in process memory, for tests and throwaway runs. One lock makes every
/// operation, and every transaction as a whole, atomic; expiry is read from the <see cref="TimeProvider"/>.
/// </summary>
public sealed class InMemoryStateStore(string name, TimeProvider? timeProvider = null) : IStateStore
{
    private readonly Dictionary<string, Entry> _items = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private long _version;

    public string Name { get; } = name;

    public Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            return Task.FromResult(Live(key)?.Item);
        }
    }

    public Task<IReadOnlyList<(string Key, StateItem? Item)>> GetBulkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        lock (_lock)
        {
            var result = new (string, StateItem?)[keys.Count];
            for (int i = 0; i < keys.Count; i++)
            {
                result[i] = (keys[i], Live(keys[i])?.Item);
            }

            return Task.FromResult<IReadOnlyList<(string Key, StateItem? Item)>>(result);
        }
    }

    public Task<string> SaveAsync(StateWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        lock (_lock)
        {
            StateRules.Check(Name, write.Key, write.ETag, write.Concurrency, Live(write.Key)?.Item.ETag, isDelete: false);
            return Task.FromResult(Apply(write));
        }
    }

    public Task DeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            StateRules.Check(Name, key, etag, StateConcurrency.LastWrite, Live(key)?.Item.ETag, isDelete: true);
            _items.Remove(key);
            return Task.CompletedTask;
        }
    }

    public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        lock (_lock)
        {
            // Check every operation against the state as the earlier operations leave it, then apply them all.
            var pending = new Dictionary<string, Entry?>(StringComparer.Ordinal);
            foreach (StateOperation operation in operations)
            {
                Entry? current = pending.TryGetValue(operation.Key, out Entry? staged) ? staged : Live(operation.Key);
                switch (operation)
                {
                    case StateOperation.Upsert upsert:
                        StateRules.Check(Name, upsert.Key, upsert.Write.ETag, upsert.Write.Concurrency, current?.Item.ETag, isDelete: false);
                        pending[upsert.Key] = new Entry(new StateItem(upsert.Write.Value, "pending"), null);
                        break;
                    case StateOperation.Delete delete:
                        StateRules.Check(Name, delete.Key, delete.ETag, delete.Concurrency, current?.Item.ETag, isDelete: true);
                        pending[delete.Key] = null;
                        break;
                    default:
                        throw new ArgumentException($"unknown state operation {operation.GetType().Name}", nameof(operations));
                }
            }

            foreach (StateOperation operation in operations)
            {
                if (operation is StateOperation.Upsert upsert)
                {
                    Apply(upsert.Write);
                }
                else
                {
                    _items.Remove(operation.Key);
                }
            }

            return Task.CompletedTask;
        }
    }

    public async IAsyncEnumerable<(string Key, StateItem Item)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        List<(string, StateItem)> snapshot;
        lock (_lock)
        {
            snapshot = [];
            foreach (string key in _items.Keys)
            {
                if (key.StartsWith(prefix, StringComparison.Ordinal) && Live(key) is Entry entry)
                {
                    snapshot.Add((key, entry.Item));
                }
            }
        }

        snapshot.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        foreach ((string, StateItem) item in snapshot)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
            await Task.CompletedTask.ConfigureAwait(false);
        }
    }

    private Entry? Live(string key)
    {
        if (!_items.TryGetValue(key, out Entry? entry))
        {
            return null;
        }

        if (entry.ExpiresAt is DateTimeOffset expiry && expiry <= _time.GetUtcNow())
        {
            _items.Remove(key);
            return null;
        }

        return entry;
    }

    private string Apply(StateWrite write)
    {
        string etag = (++_version).ToString(CultureInfo.InvariantCulture);
        DateTimeOffset? expiry = write.Ttl is TimeSpan ttl ? _time.GetUtcNow() + ttl : null;
        _items[write.Key] = new Entry(new StateItem(write.Value.ToArray(), etag), expiry);
        return etag;
    }

    private sealed record Entry(StateItem Item, DateTimeOffset? ExpiresAt);
}
