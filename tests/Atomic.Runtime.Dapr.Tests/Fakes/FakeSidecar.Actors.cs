using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Atomic.Runtime.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atomic.Runtime.Dapr.Tests.Fakes;

/// <summary>
/// The actors API (reference/api/actors_api.md), both halves. Sidecar side: invocation, actor state (get, and the
/// transaction whose body is a bare array of operations, applied atomically to the actor state store under
/// <c>{appId}||{type}||{id}||{key}</c>), reminders and timers, with Go-duration bodies. App side: it reads the app's
/// <c>GET /dapr/config</c> when the app attaches, places every hosted type on it (one app: placement is trivial), runs
/// one call at a time per actor, fires timers and reminders on <see cref="FakeSidecarOptions.Time"/> by calling the
/// app's timer and reminder callbacks, and deactivates idle actors with <c>DELETE /actors/{type}/{id}</c> (stopping
/// their timers). Reminders outlive the app: one that comes due while no app is attached fires once when one attaches.
/// </summary>
/// <remarks>
/// As daprd does, an app answer other than 200 becomes <c>500 ERR_ACTOR_INVOKE_METHOD</c> whose message ends with
/// <c>error from actor service: {the app's body}</c>, and a type no app hosts answers <c>did not find address for actor</c>.
/// Reentrancy as daprd does it: for a type whose configuration turns it on, every call to the app carries a
/// <c>Dapr-Reentrancy-Id</c> (the caller's, or a new one), and a call carrying the id of the turn that holds the actor's
/// lock goes in at once, up to <c>maxStackDepth</c> nested calls (then <c>500 ERR_ACTOR_INVOKE_METHOD</c>); with it
/// off, a call chain back into a busy actor waits for the turn it is itself part of. Other request headers of an
/// invocation are passed on to the app.
/// </remarks>
public sealed partial class FakeSidecar
{
    private const string ReentrancyHeader = "Dapr-Reentrancy-Id";

    private static readonly Regex GoDurationSyntax = new(@"^(0|([0-9]+(\.[0-9]+)?(h|m|s|ms|us|µs|ns))+)$", RegexOptions.CultureInvariant);

    private readonly Lock _actorLock = new();
    private readonly Dictionary<(string Type, string Id), ActorEntry> _actors = [];
    private readonly Dictionary<(string Type, string Id, string Name), FakeTimer> _timers = [];
    private readonly Dictionary<(string Type, string Id, string Name), FakeReminder> _reminders = [];
    private HttpClient? _actorApp;
    private ActorAppConfig? _config;
    private ITimer? _scanTimer;
    private readonly SemaphoreSlim _scanGate = new(1, 1);
    private int _rescan;
    private int _actorCallsInFlight;
    private int _actorStateReads;
    private int _actorStateTransactions;

    /// <summary>Actor state reads answered (<c>GET /v1.0/actors/{type}/{id}/state/{key}</c>).</summary>
    public int ActorStateReads => Volatile.Read(ref _actorStateReads);

    /// <summary>Actor state transactions applied.</summary>
    public int ActorStateTransactions => Volatile.Read(ref _actorStateTransactions);

    /// <summary>The raw <c>GET /dapr/config</c> answer of the attached app.</summary>
    public string? ActorConfigJson => _config?.Json;

    /// <summary>The reminders held now, as <c>{type}||{id}||{name}</c> in ordinal order.</summary>
    public IReadOnlyList<string> ReminderNames()
    {
        lock (_actorLock)
        {
            return [.. _reminders.Keys.Select(k => $"{k.Type}||{k.Id}||{k.Name}").Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>A held reminder's schedule: next due time, last firing, period and data JSON (null when there is none).</summary>
    public (DateTimeOffset DueAt, DateTimeOffset? LastFiredAt, TimeSpan? Period, string? DataJson)? ReminderSchedule(string actorType, string actorId, string name)
    {
        lock (_actorLock)
        {
            return _reminders.TryGetValue((actorType, actorId, name), out FakeReminder? r) ? (r.DueAt, r.LastFiredAt, r.Period, r.Data?.GetRawText()) : null;
        }
    }

    /// <summary>The names of the timers running now, as <c>{type}||{id}||{name}</c>.</summary>
    public IReadOnlyList<string> TimerNames()
    {
        lock (_actorLock)
        {
            return [.. _timers.Keys.Select(k => $"{k.Type}||{k.Id}||{k.Name}").Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>Connects the app at <paramref name="app"/>: reads its <c>GET /dapr/config</c>, starts the idle scan, fires reminders that came due while no app was attached.</summary>
    public async Task AttachActorAppAsync(Uri app)
    {
        var client = new HttpClient { BaseAddress = app };
        if (_options.AppApiToken is not null)
        {
            client.DefaultRequestHeaders.Add("dapr-api-token", _options.AppApiToken);
        }

        using HttpResponseMessage response = await client.GetAsync("dapr/config");
        string json = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"the app answered GET /dapr/config with {(int)response.StatusCode}: {json}");
        }

        ActorAppConfig config = ActorAppConfig.Parse(json);
        List<FakeReminder> overdue;
        lock (_actorLock)
        {
            _actorApp = client;
            _config = config;
            overdue = [.. _reminders.Values.Where(r => r.Overdue && config.Hosts(r.Type))];
            foreach (FakeReminder reminder in overdue)
            {
                reminder.Overdue = false;
            }
        }

        _scanTimer = _options.Time.CreateTimer(_ => RequestScan(), null, config.ScanInterval, config.ScanInterval);
        foreach (FakeReminder reminder in overdue)
        {
            FireReminder(reminder, _options.Time.GetUtcNow());
        }
    }

    /// <summary>The app went away: the idle scan and every timer stop, every activation is forgotten; reminders stay.</summary>
    public async Task DetachActorAppAsync()
    {
        _scanTimer?.Dispose();
        _scanTimer = null;
        lock (_actorLock)
        {
            foreach (FakeTimer timer in _timers.Values)
            {
                timer.Timer.Dispose();
            }

            _timers.Clear();
            foreach (ActorEntry entry in _actors.Values)
            {
                entry.Active = false;
            }

            _config = null;
        }

        await WhenActorCallsSettledAsync(TimeSpan.FromSeconds(20));
        lock (_actorLock)
        {
            _actorApp?.Dispose();
            _actorApp = null;
        }
    }

    /// <summary>Completes once no call to the actor app (method, timer, reminder, deactivation) is in flight.</summary>
    public async Task WhenActorCallsSettledAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        while (Volatile.Read(ref _actorCallsInFlight) > 0)
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    private void MapActors(WebApplication host)
    {
        host.MapMethods("/v1.0/actors/{type}/{id}/method/{method}", ["POST", "PUT", "GET", "DELETE"], InvokeActorAsync);
        host.MapGet("/v1.0/actors/{type}/{id}/state/{key}", GetActorStateAsync);
        host.MapMethods("/v1.0/actors/{type}/{id}/state", ["POST", "PUT"], ActorStateTransactionAsync);
        host.MapMethods("/v1.0/actors/{type}/{id}/reminders/{name}", ["POST", "PUT"], RegisterReminderAsync);
        host.MapGet("/v1.0/actors/{type}/{id}/reminders/{name}", GetReminderAsync);
        host.MapDelete("/v1.0/actors/{type}/{id}/reminders/{name}", DeleteReminderAsync);
        host.MapMethods("/v1.0/actors/{type}/{id}/timers/{name}", ["POST", "PUT"], RegisterTimerAsync);
        host.MapDelete("/v1.0/actors/{type}/{id}/timers/{name}", DeleteTimerAsync);
    }

    private void StopActors()
    {
        _scanTimer?.Dispose();
        lock (_actorLock)
        {
            foreach (FakeTimer timer in _timers.Values)
            {
                timer.Timer.Dispose();
            }

            foreach (FakeReminder reminder in _reminders.Values)
            {
                reminder.Timer?.Dispose();
            }

            _actorApp?.Dispose();
            _actorApp = null;
        }
    }

    private async Task InvokeActorAsync(HttpContext context)
    {
        QueryAllows(context);
        (string type, string id) = ActorOf(context);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        if (!Hosted(type))
        {
            await ErrorAsync(context, StatusCodes.Status500InternalServerError, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: did not find address for actor {type}/{id}");
            return;
        }

        var headers = context.Request.Headers
            .Where(h => !HopByHop.Contains(h.Key) && !h.Key.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) && !h.Key.Equals(ReentrancyHeader, StringComparison.OrdinalIgnoreCase))
            .Select(h => (h.Key, h.Value.ToString())).ToList();
        AppAnswer answer = await CallActorAsync(
            type, id, $"method/{Uri.EscapeDataString(Segment(context, "method"))}", buffer.ToArray(), context.Request.ContentType, context.RequestAborted,
            context.Request.Headers[ReentrancyHeader].FirstOrDefault(), headers);
        if (answer.Status != StatusCodes.Status200OK)
        {
            await ErrorAsync(context, StatusCodes.Status500InternalServerError, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: error from actor service: {Encoding.UTF8.GetString(answer.Body)}");
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        if (answer.ContentType is not null)
        {
            context.Response.ContentType = answer.ContentType;
        }

        await context.Response.Body.WriteAsync(answer.Body, context.RequestAborted);
    }

    private async Task GetActorStateAsync(HttpContext context)
    {
        QueryAllows(context);
        (string type, string id) = ActorOf(context);
        if (!Hosted(type))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "ERR_ACTOR_INSTANCE_MISSING", $"actor instance is missing: {type}/{id}");
            return;
        }

        Entry? entry;
        lock (_stateLock)
        {
            entry = Live(_state, ActorStore, ActorKey(type, id, Segment(context, "key")));
        }

        Interlocked.Increment(ref _actorStateReads);
        if (entry is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(entry.Json);
    }

    private async Task ActorStateTransactionAsync(HttpContext context)
    {
        QueryAllows(context);
        (string type, string id) = ActorOf(context);
        JsonElement body = StrictJson.Parse(await BodyAsync(context, "application/json"), "actor state transaction body");
        StrictJson.Kind(body, JsonValueKind.Array, "actor state transaction body (a bare array of operations)");
        var writes = new List<Write>();
        int i = 0;
        foreach (JsonElement operation in body.EnumerateArray())
        {
            string what = $"[{i++}]";
            (string kind, JsonElement request) = Operation(operation, what);

            StrictJson.Fields(request, $"{what}.request", "key", "value", "metadata");
            string key = StrictJson.RequiredString(request, "key", $"{what}.request");
            Dictionary<string, string> metadata = StrictJson.StringMap(request, "metadata", $"{what}.request");
            long? ttl = null;
            if (metadata.TryGetValue("ttlInSeconds", out string? seconds))
            {
                ttl = long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out long s) && s > 0
                    ? s
                    : throw new BadRequestException($"{what}.request: ttlInSeconds '{seconds}' is not a positive integer");
            }

            bool hasValue = request.TryGetProperty("value", out JsonElement value);
            if (kind == "upsert" && !hasValue)
            {
                throw new BadRequestException($"{what}.request: an upsert needs a 'value'");
            }

            if (kind == "delete" && hasValue)
            {
                throw new BadRequestException($"{what}.request: a delete has no 'value'");
            }

            writes.Add(new Write(ActorKey(type, id, key), kind == "upsert" ? value.GetRawText() : null, null, StateConcurrency.LastWrite, ttl, metadata));
        }

        if (!Hosted(type))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "ERR_ACTOR_INSTANCE_MISSING", $"actor instance is missing: {type}/{id}");
            return;
        }

        lock (_stateLock)
        {
            var working = new Dictionary<(string, string), Entry>(_state);
            foreach (Write write in writes)
            {
                Apply(working, ActorStore, write);
            }

            _state = working; // all or nothing
        }

        Interlocked.Increment(ref _actorStateTransactions);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task RegisterReminderAsync(HttpContext context)
    {
        QueryAllows(context);
        (string type, string id) = ActorOf(context);
        string name = Segment(context, "name");
        JsonElement body = StrictJson.Parse(await BodyAsync(context, "application/json"), "reminder body");
        StrictJson.Fields(body, "reminder body", "dueTime", "period", "data", "ttl");
        TimeSpan due = Duration(StrictJson.OptionalString(body, "dueTime", "reminder body") ?? "0", "reminder body.dueTime")!.Value;
        string period = StrictJson.OptionalString(body, "period", "reminder body") ?? "";
        TimeSpan? every = period.Length == 0 ? null : Duration(period, "reminder body.period");
        if (StrictJson.OptionalString(body, "ttl", "reminder body") is string ttl)
        {
            Duration(ttl, "reminder body.ttl");
        }

        JsonElement? data = body.TryGetProperty("data", out JsonElement d) && d.ValueKind != JsonValueKind.Null ? d.Clone() : null;
        DateTimeOffset now = _options.Time.GetUtcNow();
        var reminder = new FakeReminder(type, id, name, StrictJson.OptionalString(body, "dueTime", "reminder body") ?? "0", period, data) { DueAt = now + due, Period = every };
        lock (_actorLock)
        {
            if (_reminders.Remove((type, id, name), out FakeReminder? replaced))
            {
                replaced.Timer?.Dispose();
            }

            _reminders[(type, id, name)] = reminder;
            Arm(reminder, now);
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task GetReminderAsync(HttpContext context)
    {
        QueryAllows(context);
        (string type, string id) = ActorOf(context);
        FakeReminder? reminder;
        lock (_actorLock)
        {
            _reminders.TryGetValue((type, id, Segment(context, "name")), out reminder);
        }

        if (reminder is null)
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, "ERR_ACTOR_REMINDER_NOT_FOUND", "reminder not found");
            return;
        }

        var answer = new JsonObject { ["dueTime"] = reminder.DueTime, ["period"] = reminder.PeriodText };
        if (reminder.Data is JsonElement data)
        {
            answer["data"] = JsonNode.Parse(data.GetRawText());
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.ToJsonString());
    }

    private Task DeleteReminderAsync(HttpContext context)
    {
        QueryAllows(context);
        (string type, string id) = ActorOf(context);
        lock (_actorLock)
        {
            if (_reminders.Remove((type, id, Segment(context, "name")), out FakeReminder? reminder))
            {
                reminder.Timer?.Dispose();
            }
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private async Task RegisterTimerAsync(HttpContext context)
    {
        QueryAllows(context);
        (string type, string id) = ActorOf(context);
        string name = Segment(context, "name");
        JsonElement body = StrictJson.Parse(await BodyAsync(context, "application/json"), "timer body");
        StrictJson.Fields(body, "timer body", "dueTime", "period", "callback", "data", "ttl");
        string dueText = StrictJson.OptionalString(body, "dueTime", "timer body") ?? "0";
        TimeSpan due = Duration(dueText, "timer body.dueTime")!.Value;
        string period = StrictJson.OptionalString(body, "period", "timer body") ?? "";
        TimeSpan? every = period.Length == 0 ? null : Duration(period, "timer body.period");
        string callback = StrictJson.RequiredString(body, "callback", "timer body");
        JsonElement? data = body.TryGetProperty("data", out JsonElement d) && d.ValueKind != JsonValueKind.Null ? d.Clone() : null;
        if (!Hosted(type))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "ERR_ACTOR_INSTANCE_MISSING", $"actor instance is missing: {type}/{id}");
            return;
        }

        var key = (type, id, name);
        var callbackBody = new JsonObject { ["callback"] = callback, ["dueTime"] = dueText, ["period"] = period };
        if (data is JsonElement json)
        {
            callbackBody["data"] = JsonNode.Parse(json.GetRawText());
        }

        byte[] payload = Encoding.UTF8.GetBytes(callbackBody.ToJsonString());
        lock (_actorLock)
        {
            if (_timers.Remove(key, out FakeTimer? replaced))
            {
                replaced.Timer.Dispose();
            }

            var timer = new FakeTimer(key, payload, every is null);
            timer.Timer = _options.Time.CreateTimer(state => FireTimer((FakeTimer)state!), timer, due, every ?? Timeout.InfiniteTimeSpan);
            _timers[key] = timer;
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private Task DeleteTimerAsync(HttpContext context)
    {
        QueryAllows(context);
        (string type, string id) = ActorOf(context);
        lock (_actorLock)
        {
            if (_timers.Remove((type, id, Segment(context, "name")), out FakeTimer? timer))
            {
                timer.Timer.Dispose();
            }
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private void FireTimer(FakeTimer timer)
    {
        lock (_actorLock)
        {
            if (!_timers.TryGetValue(timer.Key, out FakeTimer? current) || current != timer)
            {
                return;
            }

            if (timer.Once)
            {
                _timers.Remove(timer.Key);
            }
        }

        // The callback's failure keeps the timer's schedule, as daprd's does.
        RunDetached(() => CallActorAsync(timer.Key.Type, timer.Key.Id, $"method/timer/{Uri.EscapeDataString(timer.Key.Name)}", timer.Payload, "application/json", CancellationToken.None));
    }

    /// <summary>Arms the reminder's one-shot timer for its due time (called under the actor lock).</summary>
    private void Arm(FakeReminder reminder, DateTimeOffset now)
    {
        reminder.Timer?.Dispose();
        TimeSpan wait = reminder.DueAt - now;
        reminder.Timer = _options.Time.CreateTimer(state => FireReminder((FakeReminder)state!, _options.Time.GetUtcNow()), reminder, wait < TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The reminder came due: with no app to deliver to it waits, overdue, for one to attach (missed periods fire once);
    /// otherwise its next due time is set on its period's grid before the delivery starts, so the clock may move on at once.
    /// </summary>
    private void FireReminder(FakeReminder reminder, DateTimeOffset now)
    {
        lock (_actorLock)
        {
            if (!_reminders.TryGetValue(reminder.Key, out FakeReminder? current) || current != reminder)
            {
                return;
            }

            if (_config is null || !_config.Hosts(reminder.Type))
            {
                reminder.Overdue = true;
                return;
            }

            reminder.LastFiredAt = reminder.DueAt <= now ? reminder.DueAt : now;
            if (reminder.Period is TimeSpan period)
            {
                while (reminder.DueAt <= now)
                {
                    reminder.DueAt += period;
                }

                if (reminder.LastFiredAt < now - period)
                {
                    reminder.LastFiredAt = now; // fired late, once for every period missed
                }

                Arm(reminder, now);
            }
        }

        var body = new JsonObject { ["dueTime"] = reminder.DueTime, ["period"] = reminder.PeriodText };
        if (reminder.Data is JsonElement data)
        {
            body["data"] = JsonNode.Parse(data.GetRawText());
        }

        byte[] payload = Encoding.UTF8.GetBytes(body.ToJsonString());
        RunDetached(async () =>
        {
            AppAnswer answer = await CallActorAsync(reminder.Type, reminder.Id, $"method/remind/{Uri.EscapeDataString(reminder.Name)}", payload, "application/json", CancellationToken.None);
            if (reminder.Period is null && answer.Status == StatusCodes.Status200OK)
            {
                lock (_actorLock)
                {
                    if (_reminders.TryGetValue(reminder.Key, out FakeReminder? current) && current == reminder)
                    {
                        _reminders.Remove(reminder.Key);
                    }
                }
            }

            return answer;
        });
    }

    private void RunDetached(Func<Task<AppAnswer>> call)
    {
        Interlocked.Increment(ref _actorCallsInFlight);
        _ = Task.Run(async () =>
        {
            try
            {
                AppAnswer answer = await call();
                if (answer.Status != StatusCodes.Status200OK)
                {
                    _faults.Enqueue($"actor callback answered {answer.Status}: {Encoding.UTF8.GetString(answer.Body)}");
                }
            }
            catch (Exception e)
            {
                _faults.Enqueue($"actor callback failed: {e.Message}");
            }
            finally
            {
                Interlocked.Decrement(ref _actorCallsInFlight);
            }
        });
    }

    /// <summary>One call to the app on the actor, after the actor's previous one (daprd's turn lock); the actor counts as used when it ends.</summary>
    /// <remarks>
    /// With reentrancy on for the type, the call carries <paramref name="reentrancyId"/> (or a new id); one carrying
    /// the id of the turn holding the lock runs inside it, up to the type's <c>maxStackDepth</c>.
    /// </remarks>
    private async Task<AppAnswer> CallActorAsync(
        string type, string id, string path, byte[] body, string? contentType, CancellationToken cancellationToken,
        string? reentrancyId = null, IReadOnlyList<(string Name, string Value)>? headers = null)
    {
        ActorEntry entry;
        (bool Enabled, int MaxStackDepth) reentrancy;
        lock (_actorLock)
        {
            if (!_actors.TryGetValue((type, id), out entry!))
            {
                entry = new ActorEntry();
                _actors[(type, id)] = entry;
            }

            entry.Pending++;
            reentrancy = _config?.Reentrancy(type) ?? (false, 0);
        }

        string? chainId = reentrancy.Enabled ? (string.IsNullOrWhiteSpace(reentrancyId) ? Guid.NewGuid().ToString() : reentrancyId) : null;
        Interlocked.Increment(ref _actorCallsInFlight);
        try
        {
            bool reentered;
            lock (_actorLock)
            {
                reentered = chainId is not null && entry.HolderId == chainId;
                if (reentered && entry.Depth >= reentrancy.MaxStackDepth)
                {
                    return new AppAnswer(StatusCodes.Status500InternalServerError, Encoding.UTF8.GetBytes("maximum stack depth exceeded"), "text/plain");
                }

                if (reentered)
                {
                    entry.Depth++;
                }
            }

            if (!reentered)
            {
                await entry.Turn.WaitAsync(cancellationToken);
                lock (_actorLock)
                {
                    entry.HolderId = chainId;
                    entry.Depth = 1;
                }
            }

            try
            {
                HttpClient app;
                lock (_actorLock)
                {
                    app = _actorApp ?? throw new InvalidOperationException("no actor app is attached");
                    entry.Active = true;
                }

                using var request = new HttpRequestMessage(HttpMethod.Put, $"actors/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(id)}/{path}") { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? "application/json");
                foreach ((string name, string value) in headers ?? [])
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }

                if (chainId is not null)
                {
                    request.Headers.TryAddWithoutValidation(ReentrancyHeader, chainId);
                }

                using HttpResponseMessage response = await app.SendAsync(request, cancellationToken);
                return new AppAnswer((int)response.StatusCode, await response.Content.ReadAsByteArrayAsync(cancellationToken), response.Content.Headers.ContentType?.ToString());
            }
            finally
            {
                entry.LastUsed = _options.Time.GetUtcNow();
                if (reentered)
                {
                    lock (_actorLock)
                    {
                        entry.Depth--;
                    }
                }
                else
                {
                    lock (_actorLock)
                    {
                        entry.HolderId = null;
                        entry.Depth = 0;
                    }

                    entry.Turn.Release();
                }
            }
        }
        finally
        {
            lock (_actorLock)
            {
                entry.Pending--;
            }

            Interlocked.Decrement(ref _actorCallsInFlight);
        }
    }

    /// <summary>Starts a scan, or asks the running one to go round again, so that the last tick is always followed by a scan.</summary>
    private void RequestScan()
    {
        Interlocked.Exchange(ref _rescan, 1);
        if (!_scanGate.Wait(0))
        {
            return;
        }

        RunDetached(async () =>
        {
            while (true)
            {
                try
                {
                    while (Interlocked.Exchange(ref _rescan, 0) == 1)
                    {
                        await ScanForIdleActorsAsync();
                    }
                }
                finally
                {
                    _scanGate.Release();
                }

                if (Volatile.Read(ref _rescan) == 0 || !_scanGate.Wait(0))
                {
                    return new AppAnswer(StatusCodes.Status200OK, [], null);
                }
            }
        });
    }

    private async Task ScanForIdleActorsAsync()
    {
        List<(string Type, string Id, ActorEntry Entry)> idle = [];
        DateTimeOffset now = _options.Time.GetUtcNow();
        HttpClient? app;
        lock (_actorLock)
        {
            app = _actorApp;
            if (_config is not ActorAppConfig config || app is null)
            {
                return;
            }

            foreach (((string type, string id), ActorEntry entry) in _actors)
            {
                if (entry.Active && entry.Pending == 0 && now - entry.LastUsed >= config.IdleTimeout(type))
                {
                    idle.Add((type, id, entry));
                }
            }
        }

        foreach ((string type, string id, ActorEntry entry) in idle)
        {
            if (!await entry.Turn.WaitAsync(0))
            {
                continue; // busy: not idle after all
            }

            try
            {
                lock (_actorLock)
                {
                    if (!entry.Active || entry.Pending > 0 || _config is not ActorAppConfig config || now - entry.LastUsed < config.IdleTimeout(type))
                    {
                        continue;
                    }

                    entry.Active = false;
                    foreach ((string, string, string) key in _timers.Keys.Where(k => k.Type == type && k.Id == id).ToList())
                    {
                        _timers.Remove(key, out FakeTimer? timer);
                        timer!.Timer.Dispose();
                    }
                }

                using HttpResponseMessage response = await app.DeleteAsync($"actors/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(id)}");
                if (!response.IsSuccessStatusCode)
                {
                    _faults.Enqueue($"DELETE /actors/{type}/{id} answered {(int)response.StatusCode}");
                }
            }
            finally
            {
                entry.Turn.Release();
            }
        }
    }

    private string ActorStore => _options.ActorStateStore;

    private string ActorKey(string type, string id, string key) => string.Join("||", _options.AppId, type, id, key);

    private bool Hosted(string type)
    {
        lock (_actorLock)
        {
            return _config?.Hosts(type) == true;
        }
    }

    private static (string Type, string Id) ActorOf(HttpContext context) => (Segment(context, "type"), Segment(context, "id"));

    private static TimeSpan? Duration(string text, string what)
    {
        Match match = GoDurationSyntax.Match(text);
        if (!match.Success)
        {
            throw new BadRequestException($"{what} '{text}' is not a Go duration");
        }

        if (text == "0")
        {
            return TimeSpan.Zero;
        }

        decimal ticks = 0;
        foreach (Match part in Regex.Matches(text, "([0-9.]+)([a-zµ]+)", RegexOptions.CultureInvariant))
        {
            decimal n = decimal.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            ticks += n * part.Groups[2].Value switch
            {
                "h" => TimeSpan.TicksPerHour,
                "m" => TimeSpan.TicksPerMinute,
                "s" => TimeSpan.TicksPerSecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "ns" => 0.01m,
                _ => TimeSpan.TicksPerMicrosecond,
            };
        }

        return TimeSpan.FromTicks((long)ticks);
    }

    private sealed record AppAnswer(int Status, byte[] Body, string? ContentType);

    private sealed class ActorEntry
    {
        public SemaphoreSlim Turn { get; } = new(1, 1);

        /// <summary>The reentrancy id of the turn holding <see cref="Turn"/> (null: none, or reentrancy off).</summary>
        public string? HolderId { get; set; }

        /// <summary>Calls of the holding chain running on the actor now.</summary>
        public int Depth { get; set; }

        public bool Active { get; set; }

        public int Pending { get; set; }

        public DateTimeOffset LastUsed { get; set; }
    }

    private sealed class FakeTimer((string Type, string Id, string Name) key, byte[] payload, bool once)
    {
        public (string Type, string Id, string Name) Key { get; } = key;

        public byte[] Payload { get; } = payload;

        public bool Once { get; } = once;

        public ITimer Timer { get; set; } = null!;
    }

    private sealed class FakeReminder(string type, string id, string name, string dueTime, string periodText, JsonElement? data)
    {
        public (string Type, string Id, string Name) Key => (Type, Id, Name);

        public string Type { get; } = type;

        public string Id { get; } = id;

        public string Name { get; } = name;

        public string DueTime { get; } = dueTime;

        public string PeriodText { get; } = periodText;

        public JsonElement? Data { get; } = data;

        public DateTimeOffset DueAt { get; set; }

        public TimeSpan? Period { get; set; }

        public DateTimeOffset? LastFiredAt { get; set; }

        public bool Overdue { get; set; }

        public ITimer? Timer { get; set; }
    }

    /// <summary>What the fake keeps of the app's <c>GET /dapr/config</c>, read strictly.</summary>
    private sealed class ActorAppConfig
    {
        private static readonly string[] Fields = ["entities", "actorIdleTimeout", "actorScanInterval", "drainOngoingCallTimeout", "drainRebalancedActors", "reentrancy", "entitiesConfig"];

        private readonly HashSet<string> _entities = new(StringComparer.Ordinal);
        private readonly Dictionary<string, TimeSpan> _idleByType = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (bool, int)> _reentrancyByType = new(StringComparer.Ordinal);
        private TimeSpan _idle = TimeSpan.FromMinutes(60);
        private (bool Enabled, int MaxStackDepth) _reentrancy = (false, 32);

        public required string Json { get; init; }

        public TimeSpan ScanInterval { get; private set; } = TimeSpan.FromSeconds(30);

        public bool Hosts(string type) => _entities.Contains(type);

        public TimeSpan IdleTimeout(string type) => _idleByType.TryGetValue(type, out TimeSpan idle) ? idle : _idle;

        /// <summary>The type's reentrancy: its <c>entitiesConfig</c> entry's, else the app's (default off, depth 32).</summary>
        public (bool Enabled, int MaxStackDepth) Reentrancy(string type) => _reentrancyByType.TryGetValue(type, out (bool, int) r) ? r : _reentrancy;

        public static ActorAppConfig Parse(string json)
        {
            JsonElement root = StrictJson.Parse(Encoding.UTF8.GetBytes(json), "/dapr/config");
            StrictJson.Fields(root, "/dapr/config", Fields);
            var config = new ActorAppConfig { Json = json };
            foreach (string entity in Strings(root, "entities", "/dapr/config"))
            {
                config._entities.Add(entity);
            }

            config._idle = Duration(StrictJson.OptionalString(root, "actorIdleTimeout", "/dapr/config") ?? "1h", "actorIdleTimeout")!.Value;
            config.ScanInterval = Duration(StrictJson.OptionalString(root, "actorScanInterval", "/dapr/config") ?? "30s", "actorScanInterval")!.Value;
            Duration(StrictJson.OptionalString(root, "drainOngoingCallTimeout", "/dapr/config") ?? "60s", "drainOngoingCallTimeout");
            if (root.TryGetProperty("drainRebalancedActors", out JsonElement drain) && drain.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new BadRequestException("/dapr/config.drainRebalancedActors must be a boolean");
            }

            config._reentrancy = ReadReentrancy(root, "/dapr/config") ?? config._reentrancy;
            if (root.TryGetProperty("entitiesConfig", out JsonElement perType))
            {
                StrictJson.Kind(perType, JsonValueKind.Array, "/dapr/config.entitiesConfig");
                foreach (JsonElement entry in perType.EnumerateArray())
                {
                    StrictJson.Fields(entry, "entitiesConfig[]", "entities", "actorIdleTimeout", "drainOngoingCallTimeout", "drainRebalancedActors", "reentrancy");
                    Duration(StrictJson.OptionalString(entry, "drainOngoingCallTimeout", "entitiesConfig[]") ?? "0", "entitiesConfig[].drainOngoingCallTimeout");
                    (bool, int)? reentrancy = ReadReentrancy(entry, "entitiesConfig[]");
                    TimeSpan? idle = StrictJson.OptionalString(entry, "actorIdleTimeout", "entitiesConfig[]") is string text ? Duration(text, "entitiesConfig[].actorIdleTimeout") : null;
                    foreach (string entity in Strings(entry, "entities", "entitiesConfig[]"))
                    {
                        if (!config._entities.Contains(entity))
                        {
                            throw new BadRequestException($"entitiesConfig names '{entity}', which is not in entities");
                        }

                        if (idle is TimeSpan t)
                        {
                            config._idleByType[entity] = t;
                        }

                        if (reentrancy is (bool, int) r)
                        {
                            config._reentrancyByType[entity] = r;
                        }
                    }
                }
            }

            return config;
        }

        private static (bool Enabled, int MaxStackDepth)? ReadReentrancy(JsonElement parent, string what)
        {
            if (!parent.TryGetProperty("reentrancy", out JsonElement reentrancy))
            {
                return null;
            }

            StrictJson.Fields(reentrancy, $"{what}.reentrancy", "enabled", "maxStackDepth");
            int d = 32;
            if (reentrancy.TryGetProperty("maxStackDepth", out JsonElement depth) && (depth.ValueKind != JsonValueKind.Number || !depth.TryGetInt32(out d) || d < 1))
            {
                throw new BadRequestException($"{what}.reentrancy.maxStackDepth must be a positive integer");
            }

            bool enabled = false;
            if (reentrancy.TryGetProperty("enabled", out JsonElement on))
            {
                enabled = on.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new BadRequestException($"{what}.reentrancy.enabled must be a boolean"),
                };
            }

            return (enabled, d);
        }

        private static IEnumerable<string> Strings(JsonElement parent, string name, string what)
        {
            if (!parent.TryGetProperty(name, out JsonElement list))
            {
                yield break;
            }

            StrictJson.Kind(list, JsonValueKind.Array, $"{what}.{name}");
            foreach (JsonElement item in list.EnumerateArray())
            {
                StrictJson.Kind(item, JsonValueKind.String, $"{what}.{name}[]");
                yield return item.GetString()!;
            }
        }
    }
}
