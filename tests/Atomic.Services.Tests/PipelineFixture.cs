using System.Collections.Concurrent;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Runtime;
using Atomic.Runtime.Embedded.PubSub;
using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.PubSub;
using Atomic.Runtime.State;
using Atomic.Services.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Services.Tests;

/// <summary>
/// The gateway and verifier on the embedded runtime, in process: <c>txstore</c> with its outbox, a durable
/// <c>pubsub</c> in it, the sample chain's roots as the chain tracker, and a probe that records every event.
/// </summary>
internal sealed class PipelineFixture : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IAsyncDisposable _probe;

    private PipelineFixture(WebApplication app, DurablePubSub pubsub, IAsyncDisposable probe)
    {
        _app = app;
        PubSub = pubsub;
        _probe = probe;
        Client = app.GetTestClient();
    }

    public HttpClient Client { get; }

    public DurablePubSub PubSub { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Every event seen, per topic, in arrival order.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<CloudEvent>> Events { get; } = new();

    public static string Samples(string file)
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Atomic.Dapr.sln")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        return Path.Combine(root, "samples", file);
    }

    public static async Task<PipelineFixture> StartAsync(IChainTracker? tracker = null, bool verifier = true)
    {
        var txstore = new InMemoryStateStore(Names.TxStore);
        DurablePubSub pubsub = await DurablePubSub.OpenAsync(Names.PubSub, txstore);
        var blocks = new BuildingBlocks(
            new Dictionary<string, IStateStore>
            {
                [Names.TxStore] = new OutboxStateStore(txstore, pubsub, Names.Topics.BeefSubmitted),
                [Names.StateStore] = new InMemoryStateStore(Names.StateStore),
            },
            new Dictionary<string, IPubSub> { [Names.PubSub] = pubsub });

        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Atomic:Pipeline:Verifier"] = verifier ? "true" : "false",
            ["Atomic:Pipeline:Broadcaster"] = "false",
            ["Atomic:Gateway:MaxBeefBytes"] = "100000",
        });
        builder.Services.AddSingleton(blocks);
        builder.Services.AddSingleton(tracker ?? StaticChainTracker.FromFile(Samples("roots.json")));
        builder.Services.AddAtomicPipeline(builder.Configuration);
        WebApplication app = builder.Build();
        app.MapGatewayApi();
        await app.StartAsync();

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

        fixture = new PipelineFixture(app, pubsub, new Probes(probes));
        return fixture;
    }

    public async ValueTask DisposeAsync()
    {
        await _probe.DisposeAsync();
        await _app.StopAsync();
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
