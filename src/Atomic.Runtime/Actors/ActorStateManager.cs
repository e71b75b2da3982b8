using System.Text.Json;

namespace Atomic.Runtime.Actors;

/// <summary>
/// The state cache and change tracker of one activation. Not thread-safe: the host runs one turn at a time.
/// </summary>
internal sealed class ActorStateManager(IActorStateStore store, string actorType, string actorId) : IActorStateManager
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly List<Entry> _changed = [];

    /// <summary>Whether the current turn has changes to commit.</summary>
    public bool HasChanges => _changed.Count > 0;

    public async ValueTask<bool> ContainsAsync(string name, CancellationToken cancellationToken = default) =>
        (await EntryAsync(name, cancellationToken).ConfigureAwait(false)).Exists;

    public async ValueTask<T> GetAsync<T>(string name, CancellationToken cancellationToken = default)
    {
        Entry entry = await EntryAsync(name, cancellationToken).ConfigureAwait(false);
        return entry.Exists ? Read<T>(entry) : throw new KeyNotFoundException($"actor {actorType}/{actorId} has no state '{name}'");
    }

    public async ValueTask<ConditionalValue<T>> TryGetAsync<T>(string name, CancellationToken cancellationToken = default)
    {
        Entry entry = await EntryAsync(name, cancellationToken).ConfigureAwait(false);
        return entry.Exists ? new ConditionalValue<T>(true, Read<T>(entry)) : default;
    }

    public ValueTask SetAsync<T>(string name, T value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);

        // A write needs no read: the store is not asked what the value was.
        if (!_entries.TryGetValue(name, out Entry? entry))
        {
            entry = new Entry(name);
            _entries.Add(name, entry);
        }

        Write(entry, value);
        return ValueTask.CompletedTask;
    }

    public async ValueTask<bool> TryAddAsync<T>(string name, T value, CancellationToken cancellationToken = default)
    {
        Entry entry = await EntryAsync(name, cancellationToken).ConfigureAwait(false);
        if (entry.Exists)
        {
            return false;
        }

        Write(entry, value);
        return true;
    }

    public async ValueTask AddAsync<T>(string name, T value, CancellationToken cancellationToken = default)
    {
        if (!await TryAddAsync(name, value, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"actor {actorType}/{actorId} already has state '{name}'");
        }
    }

    public async ValueTask<T> GetOrAddAsync<T>(string name, T value, CancellationToken cancellationToken = default)
    {
        Entry entry = await EntryAsync(name, cancellationToken).ConfigureAwait(false);
        if (entry.Exists)
        {
            return Read<T>(entry);
        }

        Write(entry, value);
        return value;
    }

    public async ValueTask<T> AddOrUpdateAsync<T>(string name, T addValue, Func<string, T, T> updateValueFactory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updateValueFactory);
        Entry entry = await EntryAsync(name, cancellationToken).ConfigureAwait(false);
        T value = entry.Exists ? updateValueFactory(name, Read<T>(entry)) : addValue;
        Write(entry, value);
        return value;
    }

    public async ValueTask<bool> TryRemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        Entry entry = await EntryAsync(name, cancellationToken).ConfigureAwait(false);
        if (!entry.Exists)
        {
            return false;
        }

        entry.Exists = false;
        entry.Value = null;
        entry.ValueType = null;
        entry.Json = default;
        MarkChanged(entry);
        return true;
    }

    public async ValueTask RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!await TryRemoveAsync(name, cancellationToken).ConfigureAwait(false))
        {
            throw new KeyNotFoundException($"actor {actorType}/{actorId} has no state '{name}'");
        }
    }

    /// <summary>Writes the turn's changes as one transaction; a turn that changed nothing writes nothing.</summary>
    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        if (_changed.Count == 0)
        {
            return;
        }

        var operations = new ActorStateOperation[_changed.Count];
        for (int i = 0; i < operations.Length; i++)
        {
            Entry entry = _changed[i];

            // Serialized now rather than when set, so a value changed in place after SetAsync is written as it ends the turn.
            operations[i] = entry.Exists
                ? ActorStateOperation.Upsert(entry.Name, JsonSerializer.SerializeToUtf8Bytes(entry.Value, entry.ValueType!, ActorJson.Options))
                : ActorStateOperation.Delete(entry.Name);
        }

        await store.SaveAsync(actorType, actorId, operations, cancellationToken).ConfigureAwait(false);
        foreach (Entry entry in _changed)
        {
            entry.Changed = false;
        }

        _changed.Clear();
    }

    /// <summary>
    /// Forgets the whole cache after a failed turn: the next read comes from the store, which holds the last committed
    /// values. Clearing everything (not only the changed entries) also drops objects the turn changed in place.
    /// </summary>
    public void Discard()
    {
        _entries.Clear();
        _changed.Clear();
    }

    private ValueTask<Entry> EntryAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return _entries.TryGetValue(name, out Entry? entry) ? new ValueTask<Entry>(entry) : new ValueTask<Entry>(LoadAsync(name, cancellationToken));
    }

    private async Task<Entry> LoadAsync(string name, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte>? json = await store.GetAsync(actorType, actorId, name, cancellationToken).ConfigureAwait(false);

        // An absent key is cached too, so asking again costs no read.
        var entry = new Entry(name) { Exists = json.HasValue, Json = json ?? default };
        return _entries.TryAdd(name, entry) ? entry : _entries[name];
    }

    private T Read<T>(Entry entry)
    {
        if (entry.ValueType == typeof(T))
        {
            return (T)entry.Value!;
        }

        ReadOnlyMemory<byte> json = entry.ValueType is null ? entry.Json : JsonSerializer.SerializeToUtf8Bytes(entry.Value, entry.ValueType, ActorJson.Options);
        T value;
        try
        {
            value = JsonSerializer.Deserialize(json.Span, ActorJson.TypeInfo<T>.Value)!;
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"actor {actorType}/{actorId}: state '{entry.Name}' cannot be read as {typeof(T).Name}: {e.Message}", e);
        }

        entry.Value = value;
        entry.ValueType = typeof(T);
        entry.Json = default;
        return value;
    }

    private void Write<T>(Entry entry, T value)
    {
        entry.Exists = true;
        entry.Value = value;
        entry.ValueType = typeof(T);
        entry.Json = default;
        MarkChanged(entry);
    }

    private void MarkChanged(Entry entry)
    {
        if (!entry.Changed)
        {
            entry.Changed = true;
            _changed.Add(entry);
        }
    }

    /// <summary>One name's cached value: typed once read or written, raw JSON until then.</summary>
    private sealed class Entry(string name)
    {
        public string Name { get; } = name;

        public bool Exists { get; set; }

        public object? Value { get; set; }

        public Type? ValueType { get; set; }

        public ReadOnlyMemory<byte> Json { get; set; }

        public bool Changed { get; set; }
    }
}
