using System.Collections.Concurrent;
using System.Text.Json;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Services.Pipeline;
using Atomic.Sidecar;
using Atomic.Sidecar.Hosting;
using Dapr;
using Dapr.Actors.Client;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Tests;

/// <summary>One event the probe app received: its CloudEvent attributes as forwarded, and its data.</summary>
internal sealed record ProbeEvent(string Topic, string Id, string? Subject, byte[] Data, string? Type = null, string? Source = null);

/// <summary>
/// The pipeline as a Dapr app on Kestrel (<c>AddAtomicPipeline</c>, <c>MapAtomicPipeline</c>, the overlay's actors)
/// beside the embedded sidecar, over in-memory components written as Dapr YAML: <c>txstore</c> with its outbox,
/// a durable <c>pubsub</c> in it, <c>statestore</c> holding the actors; the sample chain's roots as the chain tracker.
/// A second app, <c>probe</c>, with its own sidecar on the same components, records every event. The broadcaster is off.
/// </summary>
internal sealed class PipelineFixture : IAsyncDisposable
{
    private static readonly string[] ProbedTopics =
        [Names.Topics.BeefSubmitted, Names.Topics.BeefVerified, Names.Topics.BeefRejected, Names.Topics.TxBroadcast, Names.Topics.TxFailed, Names.Topics.TxMined,
            Atomic.Services.Identity.CertificateRevoker.Topic];

    private readonly List<IAsyncDisposable> _owned;
    private readonly string _directory;

    private PipelineFixture(WebApplication app, Uri baseUrl, List<IAsyncDisposable> owned, string directory, ConcurrentDictionary<string, ConcurrentQueue<ProbeEvent>> events)
    {
        Services = app.Services;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = baseUrl };
        _owned = owned;
        _directory = directory;
        Events = events;
    }

    public HttpClient Client { get; }

    /// <summary>The app's Kestrel address.</summary>
    public Uri BaseUrl { get; }

    public IServiceProvider Services { get; }

    /// <summary>The app's own SDK client, pointed at its sidecar.</summary>
    public DaprClient Dapr => Services.GetRequiredService<DaprClient>();

    /// <summary>The app's actor proxies, through its sidecar.</summary>
    public IActorProxyFactory Actors => Services.GetRequiredService<IActorProxyFactory>();

    /// <summary>Every event the probe received, per topic, in arrival order.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<ProbeEvent>> Events { get; }

    /// <summary>The directory holding Atomic.Dapr.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            string root = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(root, "Atomic.Dapr.sln")))
            {
                root = Path.GetDirectoryName(root)!;
            }

            return root;
        }
    }

    public static string Samples(string file) => Path.Combine(RepositoryRoot, "samples", file);

    /// <param name="services">More registrations for the overlay app (an observer of its topics, say).</param>
    /// <param name="settings">More configuration for the overlay app.</param>
    public static async Task<PipelineFixture> StartAsync(IChainTracker? tracker = null, bool verifier = true, bool overlay = true,
        Action<IServiceCollection>? services = null, IDictionary<string, string?>? settings = null)
    {
        string directory = Directory.CreateTempSubdirectory("atomic-services-").FullName;
        WriteComponents(directory);
        var owned = new List<IAsyncDisposable>();
        try
        {
            var network = new SidecarNetwork();
            var resources = new SidecarOptions { ResourcesPath = directory, BaseDirectory = directory };
            SidecarComponents components = await SidecarComponents.LoadAsync(resources);
            owned.Add(components);

            var events = new ConcurrentDictionary<string, ConcurrentQueue<ProbeEvent>>();
            (WebApplication app, Uri url) = await StartAppAsync(Names.Apps.Overlay, components, network, resources, owned, builder =>
            {
                builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Atomic:Pipeline:Verifier"] = verifier ? "true" : "false",
                    ["Atomic:Pipeline:Broadcaster"] = "false",
                    ["Atomic:Pipeline:Overlay"] = overlay ? "true" : "false",
                    ["Atomic:Gateway:MaxBeefBytes"] = "100000",
                    ["Atomic:Overlay:MaxJsonBytes"] = "65536",
                });
                if (settings is not null)
                {
                    builder.Configuration.AddInMemoryCollection(settings);
                }

                builder.Services.AddSingleton(tracker ?? StaticChainTracker.FromFile(Samples("roots.json")));
                builder.Services.AddAtomicPipeline(builder.Configuration);
                builder.Services.AddPipelineActors();
                services?.Invoke(builder.Services);
            }, app =>
            {
                app.MapAtomicPipeline();
                app.MapActorsHandlers();
            });

            await StartAppAsync("probe", components, network, resources, owned, _ => { }, app =>
            {
                foreach (string topic in ProbedTopics)
                {
                    app.MapPost("/probe/" + topic, async (HttpRequest request) =>
                    {
                        using var body = new MemoryStream();
                        await request.Body.CopyToAsync(body);
                        events.GetOrAdd(topic, _ => new ConcurrentQueue<ProbeEvent>()).Enqueue(new ProbeEvent(
                            topic, request.Headers["Cloudevent.id"].ToString(), request.Headers["Cloudevent.subject"].FirstOrDefault(), body.ToArray(),
                            request.Headers["Cloudevent.type"].FirstOrDefault(), request.Headers["Cloudevent.source"].FirstOrDefault()));
                        return Results.Ok();
                    }).WithTopic(Names.PubSub, topic);
                }
            });

            return new PipelineFixture(app, url, owned, directory, events);
        }
        catch
        {
            await DisposeAllAsync(owned);
            throw;
        }
    }

    /// <summary>
    /// One Dapr app on Kestrel and its own sidecar over the shared components; the sidecar reads the app once it listens.
    /// The app's port is chosen before its sidecar starts (each must know the other's address), so another test may take
    /// it in between: then both start again on another port.
    /// </summary>
    private static async Task<(WebApplication App, Uri Url)> StartAppAsync(
        string appId, SidecarComponents components, SidecarNetwork network, SidecarOptions resources, List<IAsyncDisposable> owned,
        Action<WebApplicationBuilder> configure, Action<WebApplication> map)
    {
        for (int attempt = 1; ; attempt++)
        {
            var started = new List<IAsyncDisposable>();
            try
            {
                (WebApplication App, Uri Url) app = await TryStartAppAsync(appId, components, network, resources, started, configure, map);
                owned.InsertRange(0, started);
                return app;
            }
            catch (IOException) when (attempt < 3)
            {
                await DisposeAllAsync(started); // the port was taken between the probe and the bind
            }
            catch
            {
                await DisposeAllAsync(started);
                throw;
            }
        }
    }

    private static async Task<(WebApplication App, Uri Url)> TryStartAppAsync(
        string appId, SidecarComponents components, SidecarNetwork network, SidecarOptions resources, List<IAsyncDisposable> owned,
        Action<WebApplicationBuilder> configure, Action<WebApplication> map)
    {
        var url = new Uri($"http://127.0.0.1:{SidecarRunner.FreePort()}/");
        EmbeddedSidecar sidecar = await EmbeddedSidecar.ListenAsync(
            resources with { AppId = appId, AppAddress = url, HttpPort = 0, GrpcPort = 0, Network = network }, components);
        owned.Add(sidecar);

        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls(url.AbsoluteUri);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DAPR_HTTP_ENDPOINT"] = sidecar.HttpAddress.AbsoluteUri.TrimEnd('/'),
            ["DAPR_GRPC_ENDPOINT"] = sidecar.GrpcAddress.AbsoluteUri.TrimEnd('/'),
        });
        configure(builder);
        WebApplication app = builder.Build();
        app.UseCloudEvents(new CloudEventsMiddlewareOptions { ForwardCloudEventPropertiesAsHeaders = true });
        app.MapSubscribeHandler();
        map(app);
        owned.Insert(0, app); // stopped before its sidecar
        await app.StartAsync();
        await sidecar.ConnectAppAsync();
        return (app, url);
    }

    private static void WriteComponents(string directory)
    {
        File.WriteAllText(Path.Combine(directory, "statestore.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: statestore
            spec:
              type: state.in-memory
              version: v1
              metadata:
              - name: actorStateStore
                value: "true"
            """);
        File.WriteAllText(Path.Combine(directory, "txstore.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: txstore
            spec:
              type: state.in-memory
              version: v1
              metadata:
              - name: keyPrefix
                value: "name"
              - name: outboxPublishPubsub
                value: "pubsub"
              - name: outboxPublishTopic
                value: "beef.submitted"
            """);
        File.WriteAllText(Path.Combine(directory, "pubsub.yaml"), """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
              version: v1
              metadata:
              - name: stateStore
                value: "txstore"
            """);
    }

    /// <summary>The data of the one event of <paramref name="topic"/>, as JSON.</summary>
    public static JsonElement Data(ProbeEvent e) => JsonDocument.Parse(e.Data).RootElement;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await DisposeAllAsync(_owned);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a temp directory left behind
        }
    }

    private static async Task DisposeAllAsync(List<IAsyncDisposable> owned)
    {
        foreach (IAsyncDisposable item in owned)
        {
            if (item is WebApplication app)
            {
                await app.StopAsync();
            }

            await item.DisposeAsync();
        }
    }
}
