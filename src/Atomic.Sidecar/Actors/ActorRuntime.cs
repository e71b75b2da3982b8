using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Actors;

/// <summary>One actor type and how many of its actors are active now (daprd's metadata <c>activeActors</c>).</summary>
public sealed record ActiveActorCount(string Type, int Count);

/// <summary>One call to an actor in the app: <c>PUT {app}/actors/{type}/{id}/{path}</c>.</summary>
internal sealed record ActorCall(
    string ActorType,
    string ActorId,
    string Path,
    byte[] Body,
    string? ContentType,
    IReadOnlyList<KeyValuePair<string, string[]>> Headers,
    string? ReentrancyId = null,
    string? Query = null);

/// <summary>What the app answered to an actor call.</summary>
internal sealed record ActorAnswer(int Status, byte[] Body, string? ContentType, IReadOnlyList<KeyValuePair<string, string[]>> Headers);

/// <summary>
/// The actor runtime of one app, as daprd runs it for the actor types the app registers: it reads the app's
/// <c>GET /dapr/config</c> at start, places every hosted type here (one app: placement is trivial), runs one call at a
/// time per actor (a turn: a semaphore per active actor, waiters served in order), lets a call of the turn's own
/// reentrancy chain in when the type has reentrancy on, deactivates idle actors (<c>DELETE {app}/actors/{type}/{id}</c>),
/// runs timers in memory and reminders from the actor state store.
/// </summary>
public sealed partial class ActorRuntime : IAsyncDisposable
{
    /// <summary>The header that carries a reentrancy chain's id, to the app and back.</summary>
    public const string ReentrancyHeader = "Dapr-Reentrancy-Id";

    /// <summary>How long start-up waits for the app to accept connections before it goes on without actors.</summary>
    public static readonly TimeSpan AppStartTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The most shutdown waits for turns in flight (less when the app's <c>drainOngoingCallTimeout</c> is shorter).</summary>
    public static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(5);

    private const string ApiTokenHeader = "dapr-api-token";

    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "TE", "Trailer", "Proxy-Connection", "Expect",
        "Content-Length", "Content-Type", ApiTokenHeader, ReentrancyHeader,
    };

    private readonly SidecarOptions _options;
    private readonly SidecarComponents _components;
    private readonly ILogger<ActorRuntime> _logger;
    private readonly HttpClient _http;
    private readonly Uri? _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Type, string Id), ActorEntry> _actors = [];
    private ActorAppConfig _config = ActorAppConfig.None;
    private ITimer? _scanTimer;
    private int _scanning;
    private int _callsInFlight;
    private bool _started;
    private bool _stopped;

    public ActorRuntime(SidecarOptions options, SidecarComponents components, ILogger<ActorRuntime> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _components = components;
        _logger = logger;
        _app = options.AppAddress is Uri app ? (app.AbsoluteUri.EndsWith('/') ? app : new Uri(app.AbsoluteUri + "/")) : null;
        _http = options.CreateAppClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        }); // no timeout of its own: per call, through a token
    }

    /// <summary>The app's actor configuration, as read at start (no types before, or when the app has no actors).</summary>
    public ActorAppConfig Config => Volatile.Read(ref _config);

    /// <summary>The actor types the app registered (daprd's metadata <c>actors</c> and <c>actorRuntime.activeActors</c> types).</summary>
    public IReadOnlyList<string> RegisteredTypes => Config.Entities;

    /// <summary>daprd's <c>actorRuntime.runtimeStatus</c>: RUNNING once started with an actor state store, DISABLED without one, INITIALIZING before.</summary>
    public string RuntimeStatus => _components.ActorStateStore is null ? "DISABLED" : Volatile.Read(ref _started) ? "RUNNING" : "INITIALIZING";

    /// <summary>daprd's <c>actorRuntime.hostReady</c>: the app registered at least one actor type.</summary>
    public bool HostReady => Volatile.Read(ref _started) && Config.Entities.Count > 0;

    /// <summary>Every registered type with its number of active actors (zero included), in registration order.</summary>
    public IReadOnlyList<ActiveActorCount> ActiveActors
    {
        get
        {
            ActorAppConfig config = Config;
            var counts = config.Entities.ToDictionary(t => t, _ => 0, StringComparer.Ordinal);
            lock (_lock)
            {
                foreach (((string type, _), ActorEntry entry) in _actors)
                {
                    if (entry.Active && counts.TryGetValue(type, out int n))
                    {
                        counts[type] = n + 1;
                    }
                }
            }

            return [.. config.Entities.Select(t => new ActiveActorCount(t, counts[t]))];
        }
    }

    /// <summary>Whether the app hosts <paramref name="actorType"/>.</summary>
    internal bool Hosts(string actorType) => Config.Hosts(actorType);

    /// <summary>Reads the app's actor configuration, starts the idle scan and schedules every kept reminder of a hosted type.</summary>
    internal async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_app is null)
        {
            Volatile.Write(ref _started, true);
            return;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        ActorAppConfig config = await ReadConfigAsync(linked.Token).ConfigureAwait(false);
        Volatile.Write(ref _config, config);
        if (config.Entities.Count > 0)
        {
            LogHosting(_logger, string.Join(", ", config.Entities), config.IdleTimeout, config.Reentrancy.Enabled);
            lock (_lock)
            {
                if (!_stopped)
                {
                    _scanTimer = _options.Time.CreateTimer(_ => RequestScan(), null, config.ScanInterval, config.ScanInterval);
                }
            }

            await LoadRemindersAsync(linked.Token).ConfigureAwait(false);
        }

        Volatile.Write(ref _started, true);
    }

    /// <summary>
    /// Stops the scan, timers and reminders, waits (briefly) for turns in flight, deactivates the active actors in the
    /// app and cancels what is still running. Never hangs: the whole stop is bounded by <see cref="StopPatience"/> twice.
    /// </summary>
    internal async ValueTask StopAsync()
    {
        List<(string Type, string Id)> active;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            _scanTimer?.Dispose();
            _scanTimer = null;
            foreach (ActorEntry entry in _actors.Values)
            {
                foreach (ScheduledCall timer in entry.Timers.Values)
                {
                    timer.Cancel();
                }

                entry.Timers.Clear();
            }

            active = [.. _actors.Where(a => a.Value.Active).Select(a => a.Key)];
        }

        StopReminders();
        TimeSpan drain = Config.DrainOngoingCallTimeout < StopPatience ? Config.DrainOngoingCallTimeout : StopPatience;
        DateTimeOffset deadline = DateTimeOffset.UtcNow + drain;
        while (Volatile.Read(ref _callsInFlight) > 0 && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }

        if (_app is not null && active.Count > 0)
        {
            using var patience = new CancellationTokenSource(StopPatience);
            await Task.WhenAll(active.Select(a => DeactivateInAppAsync(a.Type, a.Id, patience.Token))).ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _http.Dispose(); // _stopping stays undisposed: late background work may still read its token
    }

    /// <summary>
    /// One call to the app on an actor, as a turn: after the actor's earlier calls (in order), or at once inside the turn
    /// in progress when the type has reentrancy on and the call carries that turn's chain id (up to <c>maxStackDepth</c>
    /// nested calls). The actor is active from its first call until it is deactivated.
    /// </summary>
    internal async Task<ActorAnswer> CallAsync(ActorCall call, CancellationToken cancellationToken)
    {
        if (_app is not Uri app || !Hosts(call.ActorType))
        {
            throw ActorErrors.NoAddress(call.ActorType, call.ActorId);
        }

        ActorReentrancy reentrancy = Config.ReentrancyOf(call.ActorType);
        string? chainId = reentrancy.Enabled ? (string.IsNullOrWhiteSpace(call.ReentrancyId) ? Guid.NewGuid().ToString() : call.ReentrancyId) : null;
        ActorEntry entry = Enter(call.ActorType, call.ActorId);
        Interlocked.Increment(ref _callsInFlight);
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            bool reentered = false;
            lock (_lock)
            {
                if (chainId is not null && entry.HolderId == chainId)
                {
                    if (entry.Depth >= reentrancy.MaxStackDepth)
                    {
                        throw ActorErrors.Invoke("maximum stack depth exceeded");
                    }

                    entry.Depth++;
                    reentered = true;
                }
            }

            if (!reentered)
            {
                await entry.Turn.WaitAsync(linked.Token).ConfigureAwait(false);
                lock (_lock)
                {
                    entry.HolderId = chainId;
                    entry.Depth = 1;
                    entry.Active = true;
                }
            }

            try
            {
                return await SendAsync(app, call, chainId, linked.Token).ConfigureAwait(false);
            }
            finally
            {
                lock (_lock)
                {
                    entry.LastUsed = _options.Time.GetUtcNow();
                    if (reentered)
                    {
                        entry.Depth--;
                    }
                    else
                    {
                        entry.HolderId = null;
                        entry.Depth = 0;
                    }
                }

                if (!reentered)
                {
                    entry.Turn.Release();
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _callsInFlight);
            Leave(call.ActorType, call.ActorId, entry);
        }
    }

    private async Task<ActorAnswer> SendAsync(Uri app, ActorCall call, string? chainId, CancellationToken cancellationToken)
    {
        string path = $"actors/{Uri.EscapeDataString(call.ActorType)}/{Uri.EscapeDataString(call.ActorId)}/{call.Path}{call.Query}";
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(app, path)) { Content = new ByteArrayContent(call.Body) };
        if (call.ContentType is { Length: > 0 } contentType && MediaTypeHeaderValue.TryParse(contentType, out MediaTypeHeaderValue? parsed))
        {
            request.Content.Headers.ContentType = parsed;
        }

        foreach ((string name, string[] values) in call.Headers)
        {
            if (NotForwarded.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, values))
            {
                request.Content.Headers.TryAddWithoutValidation(name, values);
            }
        }

        if (chainId is not null)
        {
            request.Headers.TryAddWithoutValidation(ReentrancyHeader, chainId);
        }

        if (_options.AppApiToken is { Length: > 0 } token)
        {
            request.Headers.TryAddWithoutValidation(ApiTokenHeader, token);
        }

        using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var headers = new List<KeyValuePair<string, string[]>>();
        foreach ((string name, IEnumerable<string> values) in response.Headers)
        {
            if (!NotForwarded.Contains(name) && !name.Equals("Date", StringComparison.OrdinalIgnoreCase) && !name.Equals("Server", StringComparison.OrdinalIgnoreCase))
            {
                headers.Add(new(name, [.. values]));
            }
        }

        return new ActorAnswer((int)response.StatusCode, body, response.Content.Headers.ContentType?.ToString(), headers);
    }

    /// <summary>The actor's entry, created on first use; counted as pending so that it is not forgotten under the call.</summary>
    private ActorEntry Enter(string actorType, string actorId)
    {
        lock (_lock)
        {
            if (_stopped)
            {
                throw ActorErrors.Invoke("the actor runtime is shutting down");
            }

            if (!_actors.TryGetValue((actorType, actorId), out ActorEntry? entry))
            {
                entry = new ActorEntry { LastUsed = _options.Time.GetUtcNow() };
                _actors[(actorType, actorId)] = entry;
            }

            entry.Pending++;
            return entry;
        }
    }

    /// <summary>The call or deactivation is over; an inactive actor nobody waits on is forgotten.</summary>
    private void Leave(string actorType, string actorId, ActorEntry entry)
    {
        lock (_lock)
        {
            entry.Pending--;
            if (entry.Pending == 0 && !entry.Active && entry.Timers.Count == 0
                && _actors.TryGetValue((actorType, actorId), out ActorEntry? current) && current == entry)
            {
                _actors.Remove((actorType, actorId));
            }
        }
    }

    /// <summary>Starts an idle scan unless one is running.</summary>
    private void RequestScan()
    {
        if (Interlocked.Exchange(ref _scanning, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await ScanForIdleActorsAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogScanFailed(_logger, e);
            }
            finally
            {
                Volatile.Write(ref _scanning, 0);
            }
        });
    }

    /// <summary>Deactivates every actor idle longer than its type's timeout: its timers stop and the app gets <c>DELETE /actors/{type}/{id}</c>.</summary>
    private async Task ScanForIdleActorsAsync()
    {
        ActorAppConfig config = Config;
        DateTimeOffset now = _options.Time.GetUtcNow();
        List<(string Type, string Id, ActorEntry Entry)> idle = [];
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            foreach (((string type, string id), ActorEntry entry) in _actors)
            {
                if (entry.Active && entry.Pending == 0 && now - entry.LastUsed >= config.IdleTimeoutOf(type))
                {
                    entry.Pending++; // held by the scan: not forgotten under it
                    idle.Add((type, id, entry));
                }
            }
        }

        foreach ((string type, string id, ActorEntry entry) in idle)
        {
            try
            {
                if (!await entry.Turn.WaitAsync(0).ConfigureAwait(false))
                {
                    continue; // a call got in first: not idle after all
                }

                try
                {
                    lock (_lock)
                    {
                        if (_stopped || !entry.Active || entry.Pending > 1 || _options.Time.GetUtcNow() - entry.LastUsed < config.IdleTimeoutOf(type))
                        {
                            continue;
                        }

                        entry.Active = false;
                        foreach (ScheduledCall timer in entry.Timers.Values)
                        {
                            timer.Cancel();
                        }

                        entry.Timers.Clear();
                    }

                    await DeactivateInAppAsync(type, id, _stopping.Token).ConfigureAwait(false);
                }
                finally
                {
                    entry.Turn.Release();
                }
            }
            finally
            {
                Leave(type, id, entry);
            }
        }
    }

    private async Task DeactivateInAppAsync(string actorType, string actorId, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(_app!, $"actors/{Uri.EscapeDataString(actorType)}/{Uri.EscapeDataString(actorId)}"));
            if (_options.AppApiToken is { Length: > 0 } token)
            {
                request.Headers.TryAddWithoutValidation(ApiTokenHeader, token);
            }

            using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                LogDeactivated(_logger, actorType, actorId);
            }
            else
            {
                LogDeactivationRefused(_logger, actorType, actorId, (int)response.StatusCode);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            LogDeactivationFailed(_logger, actorType, actorId, e.Message);
        }
    }

    /// <summary>
    /// <c>GET {app}/dapr/config</c>, retried while the app does not accept connections yet (up to
    /// <see cref="AppStartTimeout"/>). A 404, another failure or a body it cannot read means no actors, as in daprd.
    /// </summary>
    private async Task<ActorAppConfig> ReadConfigAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset deadline = DateTimeOffset.UtcNow + AppStartTimeout;
        while (true)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_app!, "dapr/config"));
                if (_options.AppApiToken is { Length: > 0 } token)
                {
                    request.Headers.TryAddWithoutValidation(ApiTokenHeader, token);
                }

                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                using HttpResponseMessage response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                byte[] body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return ActorAppConfig.None;
                }

                if (!response.IsSuccessStatusCode)
                {
                    LogConfigRefused(_logger, (int)response.StatusCode, Encoding.UTF8.GetString(body));
                    return ActorAppConfig.None;
                }

                try
                {
                    return ActorAppConfig.Parse(body);
                }
                catch (System.Text.Json.JsonException e)
                {
                    LogConfigUnreadable(_logger, e.Message);
                    return ActorAppConfig.None;
                }
            }
            catch (HttpRequestException e) when (DateTimeOffset.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                LogAppNotUp(_logger, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogConfigUnreadable(_logger, e.Message);
                return ActorAppConfig.None;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Hosting actor types {Types} (idle timeout {IdleTimeout}, reentrancy {Reentrancy})")]
    private static partial void LogHosting(ILogger logger, string types, TimeSpan idleTimeout, bool reentrancy);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The app does not accept connections yet: {Reason}")]
    private static partial void LogAppNotUp(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The app answered GET /dapr/config with {Status}: {Body}; no actors are hosted")]
    private static partial void LogConfigRefused(ILogger logger, int status, string body);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The app's GET /dapr/config could not be read: {Reason}; no actors are hosted")]
    private static partial void LogConfigUnreadable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Deactivated actor {ActorType}/{ActorId}")]
    private static partial void LogDeactivated(ILogger logger, string actorType, string actorId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The app answered the deactivation of actor {ActorType}/{ActorId} with {Status}")]
    private static partial void LogDeactivationRefused(ILogger logger, string actorType, string actorId, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The deactivation of actor {ActorType}/{ActorId} failed: {Reason}")]
    private static partial void LogDeactivationFailed(ILogger logger, string actorType, string actorId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The idle actor scan failed")]
    private static partial void LogScanFailed(ILogger logger, Exception exception);

    /// <summary>One actor: its turn, the reentrancy chain holding it, its use and its timers.</summary>
    private sealed class ActorEntry
    {
        public SemaphoreSlim Turn { get; } = new(1, 1);

        /// <summary>The reentrancy chain id of the turn in progress (null: none, or reentrancy off).</summary>
        public string? HolderId { get; set; }

        /// <summary>Calls of the holding chain running on the actor now.</summary>
        public int Depth { get; set; }

        /// <summary>Activated in the app and not deactivated since.</summary>
        public bool Active { get; set; }

        /// <summary>Calls (and scans) holding the entry now.</summary>
        public int Pending { get; set; }

        public DateTimeOffset LastUsed { get; set; }

        /// <summary>The actor's timers by name (in memory only, as daprd's).</summary>
        public Dictionary<string, ScheduledCall> Timers { get; } = new(StringComparer.Ordinal);
    }
}
