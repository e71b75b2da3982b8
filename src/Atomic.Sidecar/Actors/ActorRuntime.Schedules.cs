using System.Text;
using System.Text.Json;
using Atomic.Sidecar.Components.State;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Actors;

/// <summary>A reminder as the actor API shows it (<c>GET /v1.0/actors/{type}/{id}/reminders/{name}</c>).</summary>
internal sealed record ReminderView(string ActorType, string ActorId, string Name, string DueTime, string Period, string Ttl, string? DataJson);

/// <summary>
/// A timer or reminder: when it next fires, its period and repetitions left, when it expires, and the body the app's
/// callback gets. Guarded by the runtime's lock.
/// </summary>
internal sealed class ScheduledCall
{
    public required string ActorType { get; init; }

    public required string ActorId { get; init; }

    public required string Name { get; init; }

    public required string DueTimeText { get; init; }

    public required string PeriodText { get; init; }

    public required string TtlText { get; init; }

    public string? DataJson { get; init; }

    public string? Callback { get; init; }

    public DateTimeOffset RegisteredAt { get; init; }

    public DateTimeOffset DueAt { get; set; }

    /// <summary>Null for a one-shot.</summary>
    public DaprPeriod? Period { get; init; }

    /// <summary>Firings left (<see cref="DaprPeriod.Unlimited"/>: no limit).</summary>
    public int Remaining { get; set; } = DaprPeriod.Unlimited;

    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Failed deliveries of a one-shot reminder in a row.</summary>
    public int Failures { get; set; }

    public ITimer? Timer { get; set; }

    public bool Cancelled { get; private set; }

    public void Cancel()
    {
        Cancelled = true;
        Timer?.Dispose();
        Timer = null;
    }
}

public sealed partial class ActorRuntime
{
    /// <summary>Retries of a one-shot reminder whose delivery failed (daprd's scheduler: constant, 1 s apart, 3 times).</summary>
    internal const int ReminderRetries = 3;

    /// <summary>The wait between those retries.</summary>
    internal static readonly TimeSpan ReminderRetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>The longest single wait of a timer (a due time further away is reached in steps).</summary>
    internal static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(1);

    private const string ReminderKeyPrefix = "reminders||";

    private readonly Dictionary<(string Type, string Id, string Name), ScheduledCall> _reminders = [];
    private readonly SemaphoreSlim _reminderGate = new(1, 1);

    /// <summary>The reminders scheduled now, as <c>{type}||{id}||{name}</c> in ordinal order.</summary>
    public IReadOnlyList<string> ReminderNames
    {
        get
        {
            lock (_lock)
            {
                return [.. _reminders.Keys.Select(k => $"{k.Type}||{k.Id}||{k.Name}").Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The timers running now, as <c>{type}||{id}||{name}</c> in ordinal order.</summary>
    public IReadOnlyList<string> TimerNames
    {
        get
        {
            lock (_lock)
            {
                return [.. _actors.SelectMany(a => a.Value.Timers.Keys.Select(n => $"{a.Key.Type}||{a.Key.Id}||{n}")).Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The actor state store key of an actor's state (daprd's scheme: <c>{appId}||{type}||{id}||{key}</c>).</summary>
    internal string StateKey(string actorType, string actorId, string key) => string.Join("||", _options.AppId, actorType, actorId, key);

    /// <summary>The actor state store key of a reminder: <c>reminders||{appId}||{type}||{id}||{name}</c>.</summary>
    internal string ReminderKey(string actorType, string actorId, string name) => ReminderKeyPrefix + string.Join("||", _options.AppId, actorType, actorId, name);

    /// <summary>The actor state store, or daprd's ERR_ACTOR_RUNTIME_NOT_FOUND without one.</summary>
    internal IStateStore StateStore() => _components.ActorStateStore ?? throw ActorErrors.RuntimeNotFound();

    /// <summary>Registers (or replaces) a timer; it fires as a turn of its actor until it ends, is deleted or the actor is deactivated.</summary>
    internal void CreateTimer(string actorType, string actorId, string name, string? dueTime, string? period, string? ttl, string? callback, string? dataJson)
    {
        if (!Hosts(actorType))
        {
            throw ActorErrors.TimerCreate($"can't create timer for actor {actorType}||{actorId}: actor type not registered");
        }

        DateTimeOffset now = _options.Time.GetUtcNow();
        ScheduledCall timer = Schedule(actorType, actorId, name, dueTime, period, ttl, callback, dataJson, now, "timer", ActorErrors.TimerCreate);
        lock (_lock)
        {
            if (_stopped)
            {
                throw ActorErrors.TimerCreate("the actor runtime is shutting down");
            }

            if (!_actors.TryGetValue((actorType, actorId), out ActorEntry? entry))
            {
                entry = new ActorEntry { LastUsed = now };
                _actors[(actorType, actorId)] = entry;
            }

            entry.Active = true;
            if (entry.Timers.Remove(name, out ScheduledCall? replaced))
            {
                replaced.Cancel();
            }

            entry.Timers[name] = timer;
            Arm(timer, now, OnTimerDue);
        }
    }

    /// <summary>Stops a timer; an unknown one is not an error.</summary>
    internal void DeleteTimer(string actorType, string actorId, string name)
    {
        lock (_lock)
        {
            if (_actors.TryGetValue((actorType, actorId), out ActorEntry? entry) && entry.Timers.Remove(name, out ScheduledCall? timer))
            {
                timer.Cancel();
            }
        }
    }

    /// <summary>Registers (or replaces) a reminder, kept in the actor state store before it is scheduled.</summary>
    internal async Task CreateReminderAsync(string actorType, string actorId, string name, string? dueTime, string? period, string? ttl, string? dataJson, CancellationToken cancellationToken)
    {
        IStateStore store = StateStore();
        if (!Hosts(actorType))
        {
            throw ActorErrors.ReminderNonHosted();
        }

        DateTimeOffset now = _options.Time.GetUtcNow();
        ScheduledCall reminder = Schedule(actorType, actorId, name, dueTime, period, ttl, null, dataJson, now, "reminder", ActorErrors.ReminderCreate);
        await _reminderGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            try
            {
                await store.SaveAsync(new StateWrite(ReminderKey(actorType, actorId, name), Record(reminder)), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw ActorErrors.ReminderCreate(e.Message);
            }

            lock (_lock)
            {
                if (_reminders.Remove((actorType, actorId, name), out ScheduledCall? replaced))
                {
                    replaced.Cancel();
                }

                _reminders[(actorType, actorId, name)] = reminder;
                if (!_stopped)
                {
                    Arm(reminder, now, OnReminderDue);
                }
            }
        }
        finally
        {
            _reminderGate.Release();
        }
    }

    /// <summary>The reminder as registered, or daprd's 404.</summary>
    internal ReminderView GetReminder(string actorType, string actorId, string name)
    {
        StateStore();
        if (!Hosts(actorType))
        {
            throw ActorErrors.ReminderNonHosted();
        }

        lock (_lock)
        {
            return _reminders.TryGetValue((actorType, actorId, name), out ScheduledCall? r)
                ? new ReminderView(r.ActorType, r.ActorId, r.Name, r.DueTimeText, r.PeriodText, r.TtlText, r.DataJson)
                : throw ActorErrors.ReminderNotFound(name);
        }
    }

    /// <summary>Deletes a reminder from the store and the schedule; an unknown one is not an error.</summary>
    internal async Task DeleteReminderAsync(string actorType, string actorId, string name, CancellationToken cancellationToken)
    {
        IStateStore store = StateStore();
        if (!Hosts(actorType))
        {
            throw ActorErrors.ReminderNonHosted();
        }

        await _reminderGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            try
            {
                await store.DeleteAsync(ReminderKey(actorType, actorId, name), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw ActorErrors.ReminderDelete(e.Message);
            }

            lock (_lock)
            {
                if (_reminders.Remove((actorType, actorId, name), out ScheduledCall? reminder))
                {
                    reminder.Cancel();
                }
            }
        }
        finally
        {
            _reminderGate.Release();
        }
    }

    /// <summary>Schedules every kept reminder of a hosted type; one due while the sidecar was down fires at once (missed periods once).</summary>
    private async Task LoadRemindersAsync(CancellationToken cancellationToken)
    {
        if (_components.ActorStateStore is not IStateStore store)
        {
            return;
        }

        DateTimeOffset now = _options.Time.GetUtcNow();
        var expired = new List<string>();
        await foreach ((string key, StateItem item) in store.ListAsync(ReminderKeyPrefix + _options.AppId + "||", cancellationToken).ConfigureAwait(false))
        {
            ScheduledCall? reminder = FromRecord(item.Value.Span, key);
            if (reminder is null || !Hosts(reminder.ActorType))
            {
                continue; // unreadable (logged), or of a type this app does not host: kept for an app that does
            }

            if (reminder.ExpiresAt is DateTimeOffset expires && expires <= now)
            {
                expired.Add(key);
                continue;
            }

            lock (_lock)
            {
                if (_stopped || _reminders.ContainsKey((reminder.ActorType, reminder.ActorId, reminder.Name)))
                {
                    continue;
                }

                _reminders[(reminder.ActorType, reminder.ActorId, reminder.Name)] = reminder;
                Arm(reminder, now, OnReminderDue);
            }
        }

        foreach (string key in expired)
        {
            await store.DeleteAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        int scheduled;
        lock (_lock)
        {
            scheduled = _reminders.Count;
        }

        LogRemindersLoaded(_logger, scheduled);
    }

    private void StopReminders()
    {
        lock (_lock)
        {
            foreach (ScheduledCall reminder in _reminders.Values)
            {
                reminder.Timer?.Dispose();
                reminder.Timer = null;
            }
        }
    }

    /// <summary>Reads a registration's times, or refuses it with <paramref name="refuse"/> (daprd's create error).</summary>
    private static ScheduledCall Schedule(
        string actorType, string actorId, string name, string? dueTime, string? period, string? ttl, string? callback, string? dataJson,
        DateTimeOffset now, string what, Func<string, DaprError> refuse)
    {
        DateTimeOffset due = now;
        if (dueTime is { Length: > 0 } && !DaprDuration.TryParseTime(dueTime, now, out due))
        {
            throw refuse($"error parsing {what} due time: '{dueTime}' is not a duration or an RFC 3339 time");
        }

        DaprPeriod? every = null;
        if (period is { Length: > 0 })
        {
            if (!DaprDuration.TryParsePeriod(period, out DaprPeriod parsed))
            {
                throw refuse($"invalid {what} period: '{period}' is not a Go or ISO-8601 duration");
            }

            if (parsed.Repetitions == 0)
            {
                throw refuse($"invalid {what} period: '{period}' has no repetitions");
            }

            every = parsed;
        }

        DateTimeOffset? expires = null;
        if (ttl is { Length: > 0 })
        {
            if (!DaprDuration.TryParseTime(ttl, due, out DateTimeOffset at))
            {
                throw refuse($"error parsing {what} TTL: '{ttl}' is not a duration or an RFC 3339 time");
            }

            if (at < now || due > at)
            {
                throw refuse($"{what} {name} has already expired: dueTime: {dueTime} TTL: {ttl}");
            }

            expires = at;
        }

        return new ScheduledCall
        {
            ActorType = actorType,
            ActorId = actorId,
            Name = name,
            DueTimeText = dueTime ?? string.Empty,
            PeriodText = period ?? string.Empty,
            TtlText = ttl ?? string.Empty,
            DataJson = dataJson,
            Callback = callback,
            RegisteredAt = now,
            DueAt = due,
            Period = every is { IsZero: false } ? every : null,
            Remaining = every is { IsZero: false } p ? p.Repetitions : DaprPeriod.Unlimited,
            ExpiresAt = expires,
        };
    }

    /// <summary>
    /// Arms the call's timer for its due time (called under the lock). A wait longer than a timer takes is made in
    /// steps of <see cref="MaxTimerWait"/>, re-armed at each.
    /// </summary>
    private void Arm(ScheduledCall call, DateTimeOffset now, Action<ScheduledCall> onDue)
    {
        call.Timer?.Dispose();
        TimeSpan wait = call.DueAt - now;
        if (wait < TimeSpan.Zero)
        {
            wait = TimeSpan.Zero;
        }

        bool step = wait > MaxTimerWait;
        call.Timer = _options.Time.CreateTimer(
            _ =>
            {
                if (!step)
                {
                    onDue(call);
                    return;
                }

                lock (_lock)
                {
                    if (!call.Cancelled && !_stopped)
                    {
                        Arm(call, _options.Time.GetUtcNow(), onDue);
                    }
                }
            },
            null,
            step ? MaxTimerWait : wait,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Moves a periodic call to its next firing after one that just ended; false when it is over (one-shot, repetitions
    /// spent, or its TTL reached). A firing that fell behind the clock happens at once, missed periods once.
    /// </summary>
    private static bool Advance(ScheduledCall call, DateTimeOffset now)
    {
        if (call.Period is not DaprPeriod period)
        {
            return false;
        }

        if (call.Remaining > 0)
        {
            call.Remaining--;
            if (call.Remaining == 0)
            {
                return false;
            }
        }

        DateTimeOffset next = period.After(call.DueAt);
        if (next < now)
        {
            next = now;
        }

        if (call.ExpiresAt is DateTimeOffset expires && next > expires)
        {
            return false;
        }

        call.DueAt = next;
        return true;
    }

    private void OnTimerDue(ScheduledCall timer)
    {
        lock (_lock)
        {
            if (timer.Cancelled || _stopped)
            {
                return;
            }

            if (timer.ExpiresAt is DateTimeOffset expires && _options.Time.GetUtcNow() > expires)
            {
                RemoveTimer(timer);
                return;
            }
        }

        RunDetached(async () =>
        {
            try
            {
                ActorAnswer answer = await CallAsync(
                    new ActorCall(timer.ActorType, timer.ActorId, $"method/timer/{Uri.EscapeDataString(timer.Name)}", TimerBody(timer), "application/json", []),
                    CancellationToken.None).ConfigureAwait(false);
                if (answer.Status != 200)
                {
                    LogCallbackRefused(_logger, "timer", timer.ActorType, timer.ActorId, timer.Name, answer.Status, Encoding.UTF8.GetString(answer.Body));
                }
            }
            catch (Exception e) when (e is DaprError or HttpRequestException or OperationCanceledException)
            {
                LogCallbackFailed(_logger, "timer", timer.ActorType, timer.ActorId, timer.Name, e.Message);
            }

            // The callback's failure keeps the timer's schedule, as daprd's does.
            lock (_lock)
            {
                if (timer.Cancelled || _stopped)
                {
                    return;
                }

                DateTimeOffset now = _options.Time.GetUtcNow();
                if (Advance(timer, now))
                {
                    Arm(timer, now, OnTimerDue);
                }
                else
                {
                    RemoveTimer(timer);
                }
            }
        });
    }

    /// <summary>Forgets a timer that ended (called under the lock).</summary>
    private void RemoveTimer(ScheduledCall timer)
    {
        timer.Cancel();
        if (_actors.TryGetValue((timer.ActorType, timer.ActorId), out ActorEntry? entry)
            && entry.Timers.TryGetValue(timer.Name, out ScheduledCall? current) && current == timer)
        {
            entry.Timers.Remove(timer.Name);
        }
    }

    private void OnReminderDue(ScheduledCall reminder)
    {
        lock (_lock)
        {
            if (reminder.Cancelled || _stopped)
            {
                return;
            }
        }

        RunDetached(async () =>
        {
            bool delivered = false;
            bool expired = reminder.ExpiresAt is DateTimeOffset expires && _options.Time.GetUtcNow() > expires;
            if (!expired)
            {
                try
                {
                    ActorAnswer answer = await CallAsync(
                        new ActorCall(reminder.ActorType, reminder.ActorId, $"method/remind/{Uri.EscapeDataString(reminder.Name)}", ReminderBody(reminder), "application/json", []),
                        CancellationToken.None).ConfigureAwait(false);
                    delivered = answer.Status == 200;
                    if (!delivered)
                    {
                        LogCallbackRefused(_logger, "reminder", reminder.ActorType, reminder.ActorId, reminder.Name, answer.Status, Encoding.UTF8.GetString(answer.Body));
                    }
                }
                catch (Exception e) when (e is DaprError or HttpRequestException or OperationCanceledException)
                {
                    LogCallbackFailed(_logger, "reminder", reminder.ActorType, reminder.ActorId, reminder.Name, e.Message);
                }
            }

            await AfterReminderAsync(reminder, delivered, expired).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// Keeps the reminder's progress: a delivered one-shot is deleted, a failed one retried (<see cref="ReminderRetries"/>
    /// times, <see cref="ReminderRetryInterval"/> apart) then deleted; a periodic one moves to its next firing (kept in
    /// the store, so that a restart resumes it) or is deleted when its repetitions or TTL are spent.
    /// </summary>
    private async Task AfterReminderAsync(ScheduledCall reminder, bool delivered, bool expired)
    {
        IStateStore store = StateStore();
        await _reminderGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var key = (reminder.ActorType, reminder.ActorId, reminder.Name);
            bool keep;
            DateTimeOffset now = _options.Time.GetUtcNow();
            lock (_lock)
            {
                if (reminder.Cancelled || !_reminders.TryGetValue(key, out ScheduledCall? current) || current != reminder)
                {
                    return; // deleted or replaced meanwhile
                }

                if (expired)
                {
                    keep = false;
                }
                else if (reminder.Period is null)
                {
                    reminder.Failures = delivered ? 0 : reminder.Failures + 1;
                    keep = !delivered && reminder.Failures <= ReminderRetries;
                    if (keep)
                    {
                        reminder.DueAt = now + ReminderRetryInterval;
                    }
                }
                else
                {
                    keep = Advance(reminder, now);
                }

                if (!keep)
                {
                    _reminders.Remove(key);
                    reminder.Cancel();
                }
            }

            string storeKey = ReminderKey(reminder.ActorType, reminder.ActorId, reminder.Name);
            try
            {
                if (keep)
                {
                    await store.SaveAsync(new StateWrite(storeKey, Record(reminder))).ConfigureAwait(false);
                }
                else
                {
                    await store.DeleteAsync(storeKey).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogReminderNotKept(_logger, reminder.ActorType, reminder.ActorId, reminder.Name, e.Message);
            }

            if (keep)
            {
                lock (_lock)
                {
                    if (!reminder.Cancelled && !_stopped)
                    {
                        Arm(reminder, now, OnReminderDue);
                    }
                }
            }
        }
        finally
        {
            _reminderGate.Release();
        }
    }

    /// <summary>Runs a timer's or reminder's delivery in the background, counted as a call in flight.</summary>
    private void RunDetached(Func<Task> work)
    {
        Interlocked.Increment(ref _callsInFlight);
        _ = Task.Run(async () =>
        {
            try
            {
                await work().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogBackgroundFailed(_logger, e);
            }
            finally
            {
                Interlocked.Decrement(ref _callsInFlight);
            }
        });
    }

    /// <summary>The app's timer callback body: <c>{"data", "callback", "dueTime", "period"}</c>.</summary>
    private static byte[] TimerBody(ScheduledCall timer)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (timer.DataJson is string data)
            {
                writer.WritePropertyName("data");
                writer.WriteRawValue(data, skipInputValidation: true);
            }

            writer.WriteString("callback", timer.Callback ?? string.Empty);
            writer.WriteString("dueTime", timer.DueTimeText);
            writer.WriteString("period", timer.PeriodText);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The app's reminder callback body: <c>{"data", "dueTime", "period"}</c>.</summary>
    private static byte[] ReminderBody(ScheduledCall reminder)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (reminder.DataJson is string data)
            {
                writer.WritePropertyName("data");
                writer.WriteRawValue(data, skipInputValidation: true);
            }

            writer.WriteString("dueTime", reminder.DueTimeText);
            writer.WriteString("period", reminder.PeriodText);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>A reminder as kept in the actor state store (JSON): its registration and its progress.</summary>
    private static byte[] Record(ScheduledCall reminder)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("actorType", reminder.ActorType);
            writer.WriteString("actorId", reminder.ActorId);
            writer.WriteString("name", reminder.Name);
            writer.WriteString("dueTime", reminder.DueTimeText);
            writer.WriteString("period", reminder.PeriodText);
            writer.WriteString("ttl", reminder.TtlText);
            if (reminder.DataJson is string data)
            {
                writer.WritePropertyName("data");
                writer.WriteRawValue(data, skipInputValidation: true);
            }

            writer.WriteString("registeredTime", reminder.RegisteredAt);
            writer.WriteString("nextDue", reminder.DueAt);
            if (reminder.ExpiresAt is DateTimeOffset expires)
            {
                writer.WriteString("expirationTime", expires);
            }

            writer.WriteNumber("remaining", reminder.Remaining);
            writer.WriteNumber("failures", reminder.Failures);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private ScheduledCall? FromRecord(ReadOnlySpan<byte> json, string key)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(json.ToArray());
            JsonElement r = document.RootElement;
            string periodText = r.GetProperty("period").GetString() ?? string.Empty;
            DaprPeriod? period = null;
            if (periodText.Length > 0 && DaprDuration.TryParsePeriod(periodText, out DaprPeriod parsed) && !parsed.IsZero)
            {
                period = parsed;
            }

            return new ScheduledCall
            {
                ActorType = r.GetProperty("actorType").GetString()!,
                ActorId = r.GetProperty("actorId").GetString()!,
                Name = r.GetProperty("name").GetString()!,
                DueTimeText = r.GetProperty("dueTime").GetString() ?? string.Empty,
                PeriodText = periodText,
                TtlText = r.TryGetProperty("ttl", out JsonElement ttl) ? ttl.GetString() ?? string.Empty : string.Empty,
                DataJson = r.TryGetProperty("data", out JsonElement data) ? data.GetRawText() : null,
                RegisteredAt = r.GetProperty("registeredTime").GetDateTimeOffset(),
                DueAt = r.GetProperty("nextDue").GetDateTimeOffset(),
                Period = period,
                Remaining = r.TryGetProperty("remaining", out JsonElement remaining) ? remaining.GetInt32() : DaprPeriod.Unlimited,
                Failures = r.TryGetProperty("failures", out JsonElement failures) ? failures.GetInt32() : 0,
                ExpiresAt = r.TryGetProperty("expirationTime", out JsonElement expires) ? expires.GetDateTimeOffset() : null,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            LogReminderUnreadable(_logger, key, e.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} reminders scheduled from the actor state store")]
    private static partial void LogRemindersLoaded(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The kept reminder {Key} cannot be read and is skipped: {Reason}")]
    private static partial void LogReminderUnreadable(ILogger logger, string key, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The progress of reminder {ActorType}/{ActorId}/{Name} could not be kept: {Reason}")]
    private static partial void LogReminderNotKept(ILogger logger, string actorType, string actorId, string name, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The app answered the {Kind} {ActorType}/{ActorId}/{Name} with {Status}: {Body}")]
    private static partial void LogCallbackRefused(ILogger logger, string kind, string actorType, string actorId, string name, int status, string body);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Kind} {ActorType}/{ActorId}/{Name} could not be delivered: {Reason}")]
    private static partial void LogCallbackFailed(ILogger logger, string kind, string actorType, string actorId, string name, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "A timer or reminder delivery failed")]
    private static partial void LogBackgroundFailed(ILogger logger, Exception exception);
}
