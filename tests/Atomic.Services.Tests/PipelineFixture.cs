using System.Collections.Concurrent;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Runtime;
using Atomic.Runtime.Actors;
using Atomic.Runtime.Embedded.Actors;
using Atomic.Runtime.Embedded.PubSub;
using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.PubSub;
using Atomic.Runtime.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Services.Tests;

/// <summary>
/// The pipeline on the embedded runtime, in process: <c>txstore</c> with its outbox, a durable <c>pubsub</c> in it,
/// <c>statestore</c> holding the actors (an <see cref="EmbeddedActorRuntime"/> serving the pipeline's actor types), the
/// sample chain's roots as the chain tracker, every route of <c>MapAtomicPipeline</c>, and a probe that records every
/// event. The broadcaster is off. On a test server by default, or on Kestrel at 127.0.0.1 for clients in other processes.
/// </summary>
internal sealed class PipelineFixture : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly EmbeddedActorRuntime _actors;
    private readonly IAsyncDisposable _probe;

    private PipelineFixture(WebApplication app, EmbeddedActorRuntime actors, DurablePubSub pubsub, IAsyncDisposable probe, Uri? baseUrl)
    {
        _app = app;
        _actors = actors;
        PubSub = pubsub;
        _probe = probe;
        BaseUrl = baseUrl;
        Client = baseUrl is null ? app.GetTestClient() : new HttpClient { BaseAddress = baseUrl };
    }

    public HttpClient Client { get; }

    /// <summary>The Kestrel address, when started with <c>kestrel: true</c>.</summary>
    public Uri? BaseUrl { get; }

    public DurablePubSub PubSub { get; }

    public IActorClient Actors => _actors;

    public IServiceProvider Services => _app.Services;

    /// <summary>Every event seen, per topic, in arrival order.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<CloudEvent>> Events { get; } = new();

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

    public static async Task<PipelineFixture> StartAsync(IChainTracker? tracker = null, bool verifier = true, bool overlay = true, bool kestrel = false)
    {
        var txstore = new InMemoryStateStore(Names.TxStore);
        var statestore = new InMemoryStateStore(Names.StateStore);
        DurablePubSub pubsub = await DurablePubSub.OpenAsync(Names.PubSub, txstore);
        var blocks = new BuildingBlocks(
            new Dictionary<string, IStateStore>
            {
                [Names.TxStore] = new OutboxStateStore(txstore, pubsub, Names.Topics.BeefSubmitted),
                [Names.StateStore] = statestore,
            },
            new Dictionary<string, IPubSub> { [Names.PubSub] = pubsub });

        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        if (kestrel)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Atomic:Pipeline:Verifier"] = verifier ? "true" : "false",
            ["Atomic:Pipeline:Broadcaster"] = "false",
            ["Atomic:Pipeline:Overlay"] = overlay ? "true" : "false",
            ["Atomic:Gateway:MaxBeefBytes"] = "100000",
            ["Atomic:Overlay:MaxJsonBytes"] = "65536",
        });
        builder.Services.AddSingleton(blocks);
        builder.Services.AddSingleton(tracker ?? StaticChainTracker.FromFile(Samples("roots.json")));

        // The host contract: the runtime's actor client; the runtime itself is started once the provider exists.
        EmbeddedActorRuntime? runtime = null;
        builder.Services.AddSingleton<IActorClient>(_ => runtime ?? throw new InvalidOperationException("the actor runtime is not started yet"));
        builder.Services.AddAtomicPipeline(builder.Configuration);
        WebApplication app = builder.Build();
        app.MapAtomicPipeline();

        var actorOptions = new ActorRuntimeOptions { AppId = Names.Apps.Overlay };
        actorOptions.Actors.AddPipelineActors(app.Services);
        runtime = await EmbeddedActorRuntime.StartAsync(actorOptions, statestore);
        await app.StartAsync();

        Uri? baseUrl = kestrel
            ? new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First())
            : null;

        PipelineFixture? fixture = null;
        var probes = new List<IAsyncDisposable>();
        foreach (string topic in new[] { Names.Topics.BeefSubmitted, Names.Topics.BeefVerified, Names.Topics.BeefRejected })
        {
            probes.Add(pubsub.Subscribe(new Subscription(Names.PubSub, topic, (e, _) =>
            {
                fixture!.Events.GetOrAdd(e.Topic, _ => new ConcurrentQueue<CloudEvent>()).Enqueue(e);
                return Task.FromResult(DeliveryResult.Success);
            }, Consumer: "probe")));
        }

        fixture = new PipelineFixture(app, runtime, pubsub, new Probes(probes), baseUrl);
        return fixture;
    }

    public async ValueTask DisposeAsync()
    {
        if (BaseUrl is not null)
        {
            Client.Dispose();
        }

        await _probe.DisposeAsync();
        await _app.StopAsync();
        await _actors.DisposeAsync();
        await _app.DisposeAsync();
        await PubSub.DisposeAsync();
    }

    private sealed class Probes(List<IAsyncDisposable> probes) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (IAsyncDisposable probe in probes)
            {
                await probe.DisposeAsync();
            }
        }
    }
}
