using Atomic.Runtime.Actors;
using Atomic.Runtime.Dapr.Actors;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Runtime.Dapr.Tests.Fakes;

/// <summary>
/// An app on Kestrel hosting actors on Dapr (<see cref="DaprActorRuntime"/> behind <see cref="DaprActorCallbacks.MapDaprActors"/>)
/// and attached to a <see cref="FakeSidecar"/> that outlives it, so a test can stop the app and start another, as a
/// restarted process would, while the sidecar keeps state and reminders.
/// </summary>
public sealed class DaprActorApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly FakeSidecar _sidecar;
    private readonly Lazy<Task> _stopped;

    private DaprActorApp(WebApplication app, FakeSidecar sidecar, DaprActorRuntime runtime, HttpClient client, Uri address)
    {
        _app = app;
        _sidecar = sidecar;
        Runtime = runtime;
        Client = client;
        Address = address;
        _stopped = new Lazy<Task>(StopAsync);
    }

    public DaprActorRuntime Runtime { get; }

    /// <summary>The app's client to its sidecar.</summary>
    public HttpClient Client { get; }

    public Uri Address { get; }

    public static async Task<DaprActorApp> StartAsync(FakeSidecar sidecar, ActorRuntimeOptions options, TimeProvider? time = null)
    {
        HttpClient client = DaprSidecar.CreateHttpClient(new DaprOptions { HttpEndpoint = sidecar.Address, ApiToken = sidecar.Options.ApiToken });
        var runtime = new DaprActorRuntime(options, client, time);
        (WebApplication app, Uri address) = await LoopbackApp.StartAsync(
            services =>
            {
                services.AddSingleton(runtime);
                services.AddSingleton(new DaprOptions { AppApiToken = sidecar.Options.AppApiToken });
            },
            app => app.MapDaprActors());
        await sidecar.AttachActorAppAsync(address);
        return new DaprActorApp(app, sidecar, runtime, client, address);
    }

    /// <summary>Shuts the app down once: its actors are deactivated (writing through the sidecar), then it leaves the sidecar and stops.</summary>
    public ValueTask DisposeAsync() => new(_stopped.Value);

    private async Task StopAsync()
    {
        await Runtime.DisposeAsync();
        await _sidecar.DetachActorAppAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Client.Dispose();
    }
}
