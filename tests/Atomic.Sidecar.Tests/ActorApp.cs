using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Dapr.Actors;
using Dapr.Actors.Client;
using Dapr.Actors.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Tests;

/// <summary>A reminder to register from inside the actor, through the SDK's <c>RegisterReminderAsync</c>.</summary>
public sealed record ReminderSpec(string Name, int DueMilliseconds, int PeriodMilliseconds, int Repetitions = 0);

/// <summary>A timer to register from inside the actor, through the SDK's <c>RegisterTimerAsync</c>.</summary>
public sealed record TimerSpec(string Name, int PeriodMilliseconds);

/// <summary>The actor interface the tests call through the SDK's <c>ActorProxy</c>.</summary>
public interface ICounter : IActor
{
    /// <summary>Adds to the <c>count</c> state (kept through <c>StateManager</c>) and returns it.</summary>
    Task<int> IncrementAsync(int by);

    Task<int> GetAsync();

    /// <summary>Holds the turn for a while, recording whether another call ran on this actor meanwhile.</summary>
    Task SlowAsync(int milliseconds);

    /// <summary>Waits (10 s at most) until <paramref name="count"/> calls are inside the app at once; true if they were.</summary>
    Task<bool> RendezvousAsync(int count);

    Task ScheduleReminderAsync(ReminderSpec spec);

    Task StartTimerAsync(TimerSpec spec);

    Task StopTimerAsync(string name);

    /// <summary>Calls actor <paramref name="otherId"/>'s <see cref="CallBackAsync"/>, which calls this actor back.</summary>
    Task<string> PingOtherAsync(string otherId);

    /// <summary>Calls <paramref name="callerId"/>'s <see cref="EchoAsync"/> (1.5 s timeout): its answer, <c>blocked</c> on the timeout, <c>refused</c> on an error.</summary>
    Task<string> CallBackAsync(string callerId);

    Task<string> EchoAsync();

    /// <summary>Throws <see cref="InvalidOperationException"/> with <paramref name="message"/>.</summary>
    Task FailAsync(string message);
}

/// <summary>What the actors of one app did: events in order, overlapping turns, calls inside the app at once.</summary>
public sealed class ActorLog
{
    private readonly ConcurrentQueue<string> _events = new();
    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);
    private int _overlaps;
    private int _concurrent;
    private int _mostConcurrent;

    /// <summary>Events such as <c>activate:a</c>, <c>reminder:a:r1</c>, <c>timer:a:t1</c>, <c>deactivate:a</c>, in order.</summary>
    public IReadOnlyList<string> Events => [.. _events];

    /// <summary>Calls to <see cref="ICounter.SlowAsync"/> that found another call of the same actor running.</summary>
    public int Overlaps => Volatile.Read(ref _overlaps);

    /// <summary>The sidecar address the actors' own proxies use.</summary>
    public string SidecarEndpoint { get; set; } = string.Empty;

    public bool Json { get; set; } = true;

    public string? ApiToken { get; set; }

    public int Concurrent => Volatile.Read(ref _concurrent);

    /// <summary>
    /// The most calls that were inside the app at once so far. A rendezvous waits for this rather than for
    /// <see cref="Concurrent"/>: a waiter the scheduler wakes late still sees that the others were there with it.
    /// </summary>
    public int MostConcurrent => Volatile.Read(ref _mostConcurrent);

    public int Count(string @event) => _events.Count(e => e == @event);

    public void Add(string @event) => _events.Enqueue(@event);

    public void Enter(string actorId)
    {
        if (_inFlight.AddOrUpdate(actorId, 1, (_, n) => n + 1) > 1)
        {
            Interlocked.Increment(ref _overlaps);
        }
    }

    public void Exit(string actorId) => _inFlight.AddOrUpdate(actorId, 0, (_, n) => n - 1);

    public void Arrive()
    {
        int now = Interlocked.Increment(ref _concurrent);
        for (int most = Volatile.Read(ref _mostConcurrent); now > most; most = Volatile.Read(ref _mostConcurrent))
        {
            if (Interlocked.CompareExchange(ref _mostConcurrent, now, most) == most)
            {
                break;
            }
        }
    }

    public void Depart() => Interlocked.Decrement(ref _concurrent);
}

/// <summary>The actor, written as any app writes one with <c>Dapr.Actors</c>: state, reminders, timers, calls to other actors.</summary>
public sealed class CounterActor(ActorHost host, ActorLog log) : Actor(host), ICounter, IRemindable
{
    private string MyId => Id.GetId();

    protected override Task OnActivateAsync()
    {
        log.Add($"activate:{MyId}");
        return Task.CompletedTask;
    }

    protected override Task OnDeactivateAsync()
    {
        log.Add($"deactivate:{MyId}");
        return Task.CompletedTask;
    }

    public async Task<int> IncrementAsync(int by)
    {
        ConditionalValue<int> current = await StateManager.TryGetStateAsync<int>("count");
        int value = (current.HasValue ? current.Value : 0) + by;
        await StateManager.SetStateAsync("count", value);
        return value;
    }

    public async Task<int> GetAsync()
    {
        ConditionalValue<int> current = await StateManager.TryGetStateAsync<int>("count");
        return current.HasValue ? current.Value : 0;
    }

    public async Task SlowAsync(int milliseconds)
    {
        log.Enter(MyId);
        try
        {
            await Task.Delay(milliseconds);
        }
        finally
        {
            log.Exit(MyId);
        }
    }

    public async Task<bool> RendezvousAsync(int count)
    {
        log.Arrive();
        try
        {
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (log.MostConcurrent < count)
            {
                if (patience.IsCancellationRequested)
                {
                    return false;
                }

                await Task.Delay(10);
            }

            return true;
        }
        finally
        {
            log.Depart();
        }
    }

    public Task ScheduleReminderAsync(ReminderSpec spec)
    {
        byte[] state = Encoding.UTF8.GetBytes(spec.Name);
        TimeSpan due = TimeSpan.FromMilliseconds(spec.DueMilliseconds);
        TimeSpan period = spec.PeriodMilliseconds > 0 ? TimeSpan.FromMilliseconds(spec.PeriodMilliseconds) : Timeout.InfiniteTimeSpan;
        return spec.Repetitions > 0
            ? RegisterReminderAsync(spec.Name, state, due, period, spec.Repetitions)
            : RegisterReminderAsync(spec.Name, state, due, period);
    }

    public Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        log.Add($"reminder:{MyId}:{reminderName}:{Encoding.UTF8.GetString(state)}");
        return Task.CompletedTask;
    }

    public Task StartTimerAsync(TimerSpec spec) =>
        RegisterTimerAsync(spec.Name, nameof(OnTimerAsync), Encoding.UTF8.GetBytes(spec.Name), TimeSpan.FromMilliseconds(spec.PeriodMilliseconds), TimeSpan.FromMilliseconds(spec.PeriodMilliseconds));

    public Task OnTimerAsync(byte[] state)
    {
        log.Add($"timer:{MyId}:{Encoding.UTF8.GetString(state)}");
        return Task.CompletedTask;
    }

    public Task StopTimerAsync(string name) => UnregisterTimerAsync(name);

    public async Task<string> PingOtherAsync(string otherId)
    {
        log.Add($"ping-start:{MyId}");
        string answer = await Proxy(otherId, TimeSpan.FromSeconds(30)).CallBackAsync(MyId);
        log.Add($"ping-end:{MyId}");
        return answer;
    }

    public async Task<string> CallBackAsync(string callerId)
    {
        try
        {
            return $"{MyId}>{await Proxy(callerId, TimeSpan.FromSeconds(1.5)).EchoAsync()}";
        }
        catch (OperationCanceledException)
        {
            return $"{MyId}>blocked"; // timed out waiting
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"{MyId}>refused"; // the sidecar answered with an error
        }
    }

    public Task<string> EchoAsync()
    {
        log.Add($"echo:{MyId}");
        return Task.FromResult($"{MyId}:echo");
    }

    public Task FailAsync(string message) => throw new InvalidOperationException(message);

    private ICounter Proxy(string actorId, TimeSpan timeout) => ActorProxy.Create<ICounter>(new ActorId(actorId), nameof(CounterActor), new ActorProxyOptions
    {
        HttpEndpoint = log.SidecarEndpoint,
        UseJsonSerialization = log.Json,
        RequestTimeout = timeout,
        DaprApiToken = log.ApiToken,
    });
}

/// <summary>How the actor app registers its actors (the SDK's <c>AddActors</c> options).</summary>
public sealed record ActorAppSettings(
    bool Reentrant = false, TimeSpan? IdleTimeout = null, TimeSpan? ScanInterval = null, bool Json = true, string? ApiToken = null, int MaxStackDepth = 32);

/// <summary>
/// A real ASP.NET Core app on 127.0.0.1 (a free port) hosting <see cref="CounterActor"/> with the official SDK,
/// <c>Dapr.Actors.AspNetCore</c>: <c>AddActors</c> and <c>MapActorsHandlers</c>, pointed at the sidecar's HTTP port.
/// It records the <c>dapr-api-token</c> of every call it receives.
/// </summary>
public sealed class ActorApp : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _tokens = new();
    private WebApplication? _app;

    private ActorApp(ActorLog log)
    {
        Log = log;
    }

    /// <summary>The app's base address (the sidecar's <c>AppAddress</c>).</summary>
    public Uri Address { get; private set; } = null!;

    public ActorLog Log { get; }

    /// <summary>The <c>dapr-api-token</c> of each actor call received (empty when none was sent).</summary>
    public IReadOnlyList<string> Tokens => [.. _tokens];

    /// <summary>Starts the app; it listens before the sidecar starts, which reads its <c>/dapr/config</c>.</summary>
    /// <param name="routes">More routes of the app, beside its actors (an app invoked by app id too).</param>
    public static async Task<ActorApp> StartAsync(int sidecarHttpPort, ActorAppSettings settings, Action<WebApplication>? routes = null)
    {
        string endpoint = $"http://127.0.0.1:{sidecarHttpPort}";
        var log = new ActorLog { SidecarEndpoint = endpoint, Json = settings.Json, ApiToken = settings.ApiToken };
        var actorApp = new ActorApp(log);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(log);
        builder.Services.AddActors(options =>
        {
            options.Actors.RegisterActor<CounterActor>();
            options.HttpEndpoint = endpoint;
            options.UseJsonSerialization = settings.Json;
            options.ReentrancyConfig = new ActorReentrancyConfig { Enabled = settings.Reentrant, MaxStackDepth = settings.MaxStackDepth };
            if (settings.IdleTimeout is TimeSpan idle)
            {
                options.ActorIdleTimeout = idle;
            }

            if (settings.ScanInterval is TimeSpan scan)
            {
                options.ActorScanInterval = scan;
            }

            if (settings.ApiToken is not null)
            {
                options.DaprApiToken = settings.ApiToken;
            }
        });
        WebApplication app = builder.Build();
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/actors"))
            {
                actorApp._tokens.Enqueue(context.Request.Headers["dapr-api-token"].ToString());
            }

            return next(context);
        });
        app.MapActorsHandlers();
        routes?.Invoke(app);
        await app.StartAsync();
        actorApp._app = app;
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        actorApp.Address = new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal));
        return actorApp;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
