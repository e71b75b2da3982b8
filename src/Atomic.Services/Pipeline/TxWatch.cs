namespace Atomic.Services.Pipeline;

/// <summary>
/// Tells requests waiting on a transaction (<c>?wait=</c>) that its record moved in this process, and hands them the
/// record as it was saved, so they need not read it again. Moves made by another process (a split deployment, where
/// the gateway moves no record) are found by the waits' backoff reads alone. Only txids somebody waits for are held.
/// </summary>
public sealed class TxWatch
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Starts watching <paramref name="txid"/>; dispose the watcher when done.</summary>
    public Watcher Watch(string txid)
    {
        lock (_entries)
        {
            if (!_entries.TryGetValue(txid, out Entry? entry))
            {
                entry = new Entry();
                _entries.Add(txid, entry);
            }

            entry.Watchers++;
            return new Watcher(this, txid, entry);
        }
    }

    /// <summary>How many txids are watched now.</summary>
    internal int Watching
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The record of <paramref name="txid"/> moved (and was saved as <paramref name="record"/>): wakes whoever watches it.</summary>
    internal void Moved(string txid, TxRecord? record = null)
    {
        TaskCompletionSource? moved = null;
        lock (_entries)
        {
            if (_entries.TryGetValue(txid, out Entry? entry))
            {
                // Moves are saved under the record's ETag, one after another, and each adds to its history: the longer
                // history is the later record, whichever order two threads tell of their moves in.
                if (record is not null && (entry.Latest is null || record.History.Count > entry.Latest.History.Count))
                {
                    entry.Latest = record;
                }

                moved = entry.Next;
                entry.Next = Entry.NewSignal();
            }
        }

        moved?.TrySetResult();
    }

    private void Release(string txid, Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Watchers == 0)
            {
                _entries.Remove(txid);
            }
        }
    }

    internal sealed class Entry
    {
        public int Watchers;
        public TaskCompletionSource Next = NewSignal();
        public TxRecord? Latest;

        public static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One request's watch on one transaction.</summary>
    public sealed class Watcher : IDisposable
    {
        private readonly TxWatch _watch;
        private readonly string _txid;
        private readonly Entry _entry;
        private bool _disposed;

        internal Watcher(TxWatch watch, string txid, Entry entry)
        {
            _watch = watch;
            _txid = txid;
            _entry = entry;
        }

        /// <summary>Completes at the next move of the record in this process; take it before reading the record.</summary>
        public Task NextMove
        {
            get
            {
                lock (_watch._entries)
                {
                    return _entry.Next.Task;
                }
            }
        }

        /// <summary>The latest record a move in this process saved since the watch began, or null.</summary>
        public TxRecord? Latest
        {
            get
            {
                lock (_watch._entries)
                {
                    return _entry.Latest;
                }
            }
        }

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                _watch.Release(_txid, _entry);
            }
        }
    }
}
