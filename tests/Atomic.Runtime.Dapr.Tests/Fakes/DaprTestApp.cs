using Atomic.Runtime.Dapr.PubSub;
using Atomic.Runtime.Dapr.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Runtime.Dapr.Tests.Fakes;

/// <summary>
/// An app on Kestrel serving <see cref="DaprAppCallbacks.MapDaprPubSub"/>, its <see cref="FakeSidecar"/>, and the
/// sidecar client the Dapr implementations use: the whole Dapr arrangement of one service, in process.
/// </summary>
public sealed class DaprTestApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DaprTestApp(WebApplication app, FakeSidecar sidecar, HttpClient client, DaprSubscriptionTable subscriptions, Uri appAddress)
    {
        _app = app;
        Sidecar = sidecar;
        Client = client;
        Subscriptions = subscriptions;
        AppAddress = appAddress;
    }

    public FakeSidecar Sidecar { get; }

    /// <summary>The app's client to its sidecar (<see cref="DaprSidecar.CreateHttpClient"/>).</summary>
    public HttpClient Client { get; }

    public DaprSubscriptionTable Subscriptions { get; }

    public Uri AppAddress { get; }

    /// <summary>Starts the app and then its sidecar; the two tokens go to both sides, as daprd and the app read the same variables.</summary>
    public static async Task<DaprTestApp> StartAsync(FakeSidecarOptions? sidecarOptions = null)
    {
        sidecarOptions ??= new FakeSidecarOptions();
        var subscriptions = new DaprSubscriptionTable();
        (WebApplication app, Uri appAddress) = await LoopbackApp.StartAsync(
            services =>
            {
                services.AddSingleton(subscriptions);
                services.AddSingleton(new DaprOptions { AppApiToken = sidecarOptions.AppApiToken });
            },
            app => app.MapDaprPubSub());

        FakeSidecar sidecar = await FakeSidecar.StartAsync(sidecarOptions with { App = appAddress });
        HttpClient client = DaprSidecar.CreateHttpClient(new DaprOptions { HttpEndpoint = sidecar.Address, ApiToken = sidecarOptions.ApiToken });
        return new DaprTestApp(app, sidecar, client, subscriptions, appAddress);
    }

    public DaprPubSub PubSub(string name = "pubsub") => new(Client, name, Subscriptions);

    public DaprStateStore StateStore(string name = "statestore", DaprStateStoreOptions? options = null) => new(Client, name, options);

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Client.Dispose();
    }
}
