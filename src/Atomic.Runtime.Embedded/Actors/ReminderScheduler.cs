using System.Text.Json;
using System.Threading.Channels;
using Atomic.Runtime.Actors;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Embedded.Actors;

/// <summary>
/// Durable reminders: each one is a record in the state store (<see cref="ActorStateKeys.Reminder"/>) holding when it
/// next fires, and a copy in an in-memory queue ordered by that time. One loop waits (on the runtime's
/// <see cref="TimeProvider"/>) for the earliest, delivers it as a turn, then stores its next due time or deletes it.
/// Delivery is at least once: the record advances only after the turn, so a crash in between fires it again.
/// </summary>
internal sealed class ReminderScheduler
{
    /// <summary>The loop wakes at least this often, so a very distant due time never becomes an out-of-range timer.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromHours(1);

    /// <summary>How far the clock may move between computing a wait and starting its timer before the wait is computed again.</summary>
    private static readonly TimeSpan ClockSlack = TimeSpan.FromMilliseconds(1);

    private readonly IStateStore _store;
    private readonly string _appId;
    private readonly TimeProvider _time;
    private readonly Func<Entry, Task<bool>> _deliver;
    private readonly BackgroundWork _background;

    /// <summary>Serializes every write of reminder records, so an unregister cannot be overtaken by the firing it raced with.</summary>
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Type, string Id, string Name), Entry> _entries = [];
    private readonly PriorityQueue<Entry, DateTimeOffset> _queue = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public ReminderScheduler(IStateStore store, string appId, TimeProvider time, BackgroundWork background, Func<Entry, Task<bool>> deliver)
    {
        _store = store;
        _appId = appId;
        _time = time;
        _background = background;
        _deliver = deliver;
    }

    /// <summary>Loads every stored reminder of <paramref name="registeredTypes"/> (overdue ones fire at once) and starts the loop.</summary>
    public async Task StartAsync(IReadOnlySet<string> registeredTypes, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await foreach ((string key, StateItem item) in _store.ListAsync(ActorStateKeys.RemindersPrefix(_appId), cancellationToken).ConfigureAwait(false))
            {
                StoredReminder record = Parse(key, item);

                // Reminders of a type this process does not serve stay stored for the process that does.
                if (registeredTypes.Contains(record.ActorType))
                {
                    Schedule(new Entry(record));
                }
            }
        }
        finally
        {
            _writes.Release();
        }

        _loop = Detached.Run(LoopAsync);
    }

    /// <summary>Stops the loop; deliveries already started are the runtime's to drain.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        _stop.Dispose();
    }

    public async Task RegisterAsync(string actorType, string actorId, ActorReminder reminder, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var record = new StoredReminder(actorType, actorId, reminder.Name, reminder.Data.ToArray(), reminder.DueTime, reminder.Period, _time.GetUtcNow() + reminder.DueTime, null);
            await _store.SaveAsync(new StateWrite(Key(record), JsonSerializer.SerializeToUtf8Bytes(record, ActorJson.Options)), cancellationToken).ConfigureAwait(false);
            Schedule(new Entry(record));
        }
        finally
        {
            _writes.Release();
        }

        Wake();
    }

    public async Task UnregisterAsync(string actorType, string actorId, string name, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _store.DeleteAsync(ActorStateKeys.Reminder(_appId, actorType, actorId, name), cancellationToken: cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _entries.Remove((actorType, actorId, name));
            }
        }
        finally
        {
            _writes.Release();
        }
    }

    public ActorReminder? Get(string actorType, string actorId, string name)
    {
        lock (_lock)
        {
            return _entries.TryGetValue((actorType, actorId, name), out Entry? entry) ? entry.Reminder : null;
        }
    }

    /// <summary>The next due time of a periodic reminder that fired at <paramref name="firedAt"/>: the first point of its schedule after it, so missed periods fire once, not once each.</summary>
    internal static DateTimeOffset NextDue(DateTimeOffset dueAt, TimeSpan period, DateTimeOffset firedAt)
    {
        DateTimeOffset next = dueAt + period;
        if (next > firedAt)
        {
            return next;
        }

        long missed = (firedAt - dueAt).Ticks / period.Ticks;
        return dueAt + (period * (missed + 1));
    }

    private static StoredReminder Parse(string key, StateItem item)
    {
        try
        {
            return JsonSerializer.Deserialize<StoredReminder>(item.Value.Span, ActorJson.Options)
                ?? throw new JsonException("the record is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"reminder record {key} is not valid JSON of a reminder ({e.Message}); delete or repair the key", e);
        }
    }

    private string Key(StoredReminder record) => ActorStateKeys.Reminder(_appId, record.ActorType, record.ActorId, record.Name);

    private void Schedule(Entry entry)
    {
        lock (_lock)
        {
            _entries[entry.Key] = entry;
            _queue.Enqueue(entry, entry.Record.DueAt);
        }
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    private async Task LoopAsync()
    {
        CancellationToken stop = _stop.Token;
        var due = new List<Entry>();
        while (!stop.IsCancellationRequested)
        {
            TimeSpan? wait = null;
            DateTimeOffset now;
            lock (_lock)
            {
                now = _time.GetUtcNow();
                while (_queue.TryPeek(out Entry? entry, out DateTimeOffset at))
                {
                    // Replaced, unregistered and rescheduled entries leave stale queue items behind; they are dropped here.
                    if (!_entries.TryGetValue(entry.Key, out Entry? current) || current != entry || entry.InFlight || at != entry.Record.DueAt)
                    {
                        _queue.Dequeue();
                        continue;
                    }

                    if (at > now)
                    {
                        wait = at - now;
                        break;
                    }

                    _queue.Dequeue();
                    entry.InFlight = true;
                    entry.FiredAt = now;
                    due.Add(entry);
                }
            }

            foreach (Entry entry in due)
            {
                _background.Run(() => FireAsync(entry));
            }

            due.Clear();
            ITimer? timer = wait is TimeSpan delay
                ? Detached.CreateTimer(_time, static state => ((ReminderScheduler)state!).Wake(), this, delay < MaxWait ? delay : MaxWait, Timeout.InfiniteTimeSpan)
                : null;

            // A timer counts from when it is created, not from when the wait was computed: if the clock moved in
            // between (a test's clock jumps), the timer would fire late, so compute again instead.
            if (timer is not null && _time.GetUtcNow() - now > ClockSlack)
            {
                timer.Dispose();
                continue;
            }

            try
            {
                await _wake.Reader.ReadAsync(stop).ConfigureAwait(false);
            }
            finally
            {
                timer?.Dispose();
            }
        }
    }

    private async Task FireAsync(Entry entry)
    {
        try
        {
            if (!await _deliver(entry).ConfigureAwait(false))
            {
                return; // shutting down before the turn ran: the stored record still says it is due
            }
        }
        catch (Exception)
        {
            // A failing turn still counts as a firing: its state changes were discarded, and retrying at once could
            // spin on an actor that always fails. The schedule moves on as it would have.
        }

        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            bool current;
            lock (_lock)
            {
                current = _entries.TryGetValue(entry.Key, out Entry? now) && now == entry;
            }

            // Unregistered or replaced while it fired: the newer registration owns the record now.
            if (!current)
            {
                return;
            }

            StoredReminder record = entry.Record;
            if (record.Period is not TimeSpan period)
            {
                lock (_lock)
                {
                    _entries.Remove(entry.Key);
                }

                await _store.DeleteAsync(Key(record)).ConfigureAwait(false);
                return;
            }

            StoredReminder next = record with { DueAt = NextDue(record.DueAt, period, entry.FiredAt), LastFiredAt = entry.FiredAt };
            lock (_lock)
            {
                entry.Record = next;
                entry.InFlight = false;
                _queue.Enqueue(entry, next.DueAt);
            }

            await _store.SaveAsync(new StateWrite(Key(next), JsonSerializer.SerializeToUtf8Bytes(next, ActorJson.Options))).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The in-memory schedule has moved on; the stored record lags behind, so after a restart this firing
            // repeats, which at-least-once delivery allows.
        }
        finally
        {
            _writes.Release();
            Wake();
        }
    }

    /// <summary>One reminder as scheduled in memory.</summary>
    internal sealed class Entry(StoredReminder record)
    {
        public (string Type, string Id, string Name) Key { get; } = (record.ActorType, record.ActorId, record.Name);

        public StoredReminder Record { get; set; } = record;

        public ActorReminder Reminder => new(Record.Name, Record.Data, Record.DueTime, Record.Period);

        /// <summary>Being delivered: not queued again until its next due time is known.</summary>
        public bool InFlight { get; set; }

        /// <summary>When the loop took it off the queue, the instant its next due time is counted from.</summary>
        public DateTimeOffset FiredAt { get; set; }
    }
}

/// <summary>The stored form of a reminder (JSON, web defaults): identity, schedule as registered, and the next and last firing.</summary>
internal sealed record StoredReminder(
    string ActorType,
    string ActorId,
    string Name,
    byte[] Data,
    TimeSpan DueTime,
    TimeSpan? Period,
    DateTimeOffset DueAt,
    DateTimeOffset? LastFiredAt);
