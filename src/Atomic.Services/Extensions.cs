using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Overlay;
using Atomic.Overlay.Revocation;
using Atomic.Overlay.Tokens;
using Atomic.Runtime;
using Atomic.Runtime.Actors;
using Atomic.Services.Broadcaster;
using Atomic.Services.Gateway;
using Atomic.Services.Overlay;
using Atomic.Services.Transactions;
using Atomic.Services.Verifier;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services;

/// <summary>Registers the pipeline's services; the host registers <see cref="BuildingBlocks"/> and an <see cref="IChainTracker"/>.</summary>
public static class Extensions
{
    public static IServiceCollection AddAtomicPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection("Atomic:Gateway"));
        services.AddOptions<PipelineOptions>().Bind(configuration.GetSection("Atomic:Pipeline"));
        services.AddOptions<OverlayOptions>().Bind(configuration.GetSection("Atomic:Overlay"));
        var broadcaster = new BroadcasterOptions();
        configuration.GetSection("Atomic:Broadcaster").Bind(broadcaster);
        services.AddSingleton(broadcaster);

        services.TryAddTimeProvider();
        services.AddSingleton<ITopicManager, TokenTopicManager>();
        services.AddSingleton<ITopicManager, RevocationTopicManager>();
        services.AddSingleton<ILookupService, TokenLookupService>();
        services.AddSingleton<ILookupService, RevocationLookupService>();
        services.AddSingleton<TopicCatalog>();

        services.AddSingleton(sp => new TxRecords(sp.GetRequiredService<BuildingBlocks>().StateStore(Names.TxStore), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<GatewayServices>();
        services.AddSingleton(sp => new SpvVerifier(sp.GetRequiredService<IChainTracker>()));
        services.AddSingleton(sp => new VerifierService(
            sp.GetRequiredService<SpvVerifier>(), sp.GetRequiredService<TxRecords>(),
            sp.GetRequiredService<BuildingBlocks>().PubSub(Names.PubSub), sp.GetRequiredService<ILogger<VerifierService>>()));
        services.AddHttpClient(nameof(ArcClient));
        services.AddSingleton(sp => new ArcClient(sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(ArcClient)), broadcaster, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new BroadcasterService(
            sp.GetRequiredService<ArcClient>(), broadcaster, sp.GetRequiredService<TxRecords>(),
            sp.GetRequiredService<BuildingBlocks>().PubSub(Names.PubSub), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<BroadcasterService>>()));
        services.AddSingleton<OverlayService>();
        services.AddHostedService<PipelineHost>();
        return services;
    }

    /// <summary>
    /// Maps every route of the pipeline this process serves: the gateway (<c>/v1/beef</c>, <c>/v1/tx/{txid}</c>), the
    /// overlay (BRC-22 <c>/submit</c>, BRC-24 <c>/lookup</c>, baskets) and ARC's callback.
    /// </summary>
    public static IEndpointRouteBuilder MapAtomicPipeline(this IEndpointRouteBuilder app)
    {
        app.MapAtomicGateway();
        app.MapAtomicBroadcaster();
        return app;
    }

    /// <summary>
    /// The <c>atomic-gateway</c> app's routes: <c>/v1/beef</c>, <c>/v1/tx/{txid}</c>, and the overlay's BRC-22
    /// <c>/submit</c>, BRC-24 <c>/lookup</c> and baskets, which call the <c>atomic-overlay</c> app's actors.
    /// </summary>
    public static IEndpointRouteBuilder MapAtomicGateway(this IEndpointRouteBuilder app)
    {
        app.MapGatewayApi();
        app.MapOverlayApi();
        return app;
    }

    /// <summary>The <c>atomic-broadcaster</c> app's route: ARC's callback.</summary>
    public static IEndpointRouteBuilder MapAtomicBroadcaster(this IEndpointRouteBuilder app)
    {
        app.MapArcCallbackApi();
        return app;
    }

    /// <summary>
    /// Registers the pipeline's actor types (<c>TopicManager</c>, <c>BasketManager</c>) with the host's actor runtime,
    /// built from <paramref name="services"/>. The host also registers the runtime's <see cref="Runtime.Actors.IActorClient"/>.
    /// </summary>
    public static ActorRegistrationCollection AddPipelineActors(this ActorRegistrationCollection actors, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(actors);
        ArgumentNullException.ThrowIfNull(services);

        // Resolved when an actor is activated, not now: the host may build its actor runtime before its service provider is complete.
        actors.RegisterActor(TopicManagerActor.TypeName, host => new TopicManagerActor(
            host, services.GetRequiredService<TopicCatalog>(), services.GetRequiredService<IOptions<OverlayOptions>>().Value));
        actors.RegisterActor(BasketManagerActor.TypeName, host => new BasketManagerActor(
            host, services.GetRequiredService<IOptions<OverlayOptions>>().Value));
        return actors;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}

/// <summary>Which stages this process runs and how wide (section <c>Atomic:Pipeline</c>): all of them in the all-in-one server.</summary>
public sealed class PipelineOptions
{
    public bool Verifier { get; set; } = true;

    public bool Broadcaster { get; set; } = true;

    /// <summary>Topic and basket admission from <c>beef.verified</c> (the <c>atomic-overlay</c> app).</summary>
    public bool Overlay { get; set; } = true;

    /// <summary>
    /// Deliveries handled at once by the verifier and the overlay stage. Most of a delivery's time is spent waiting for
    /// its writes to commit, and the store commits waiting writes together, so it is wider than the core count.
    /// </summary>
    public int Concurrency { get; set; } = 64;

    /// <summary>
    /// Deliveries the broadcaster handles at once: it mostly waits on ARC over the network, so it runs wider than the
    /// CPU-bound stages.
    /// </summary>
    public int BroadcasterConcurrency { get; set; } = 64;
}

/// <summary>
/// Subscribes the enabled stages at start-up (in <see cref="StartAsync"/>, before the server serves: daprd reads the
/// app's subscriptions once), runs the MINED poller, and unsubscribes at shutdown.
/// </summary>
internal sealed class PipelineHost(
    BuildingBlocks blocks,
    IOptions<PipelineOptions> options,
    IServiceProvider services) : BackgroundService
{
    private readonly List<IAsyncDisposable> _subscriptions = [];

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Runtime.PubSub.IPubSub pubsub = blocks.PubSub(Names.PubSub);
        PipelineOptions o = options.Value;
        if (o.Verifier)
        {
            _subscriptions.Add(pubsub.Subscribe(services.GetRequiredService<VerifierService>().Subscription(o.Concurrency)));
        }

        if (o.Overlay)
        {
            _subscriptions.Add(pubsub.Subscribe(services.GetRequiredService<OverlayService>().Subscription(o.Concurrency)));
        }

        if (o.Broadcaster)
        {
            BroadcasterService broadcaster = services.GetRequiredService<BroadcasterService>();
            _subscriptions.Add(pubsub.Subscribe(broadcaster.Subscription(o.BroadcasterConcurrency)));
            _subscriptions.Add(pubsub.Subscribe(broadcaster.DeadLetterSubscription()));
        }

        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.Broadcaster ? services.GetRequiredService<BroadcasterService>().RunPollerAsync(stoppingToken) : Task.CompletedTask;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (IAsyncDisposable subscription in _subscriptions)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }
}
