using Grpc.Net.Client;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Overlay;
using Atomic.Overlay.Revocation;
using Atomic.Overlay.Tokens;
using Atomic.Services.Baskets;
using Atomic.Services.Broadcaster;
using Atomic.Services.Gateway;
using Atomic.Services.Operations;
using Atomic.Services.Pipeline;
using Atomic.Services.Sessions;
using Atomic.Sessions;
using Atomic.Services.Topics;
using Atomic.Services.Verifier;
using Dapr;
using Dapr.Actors.Client;
using Dapr.Workflow;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Atomic.Services;

/// <summary>
/// Registers and maps the pipeline as an ordinary Dapr application: <c>DaprClient</c> for state and publishing, the
/// overlay's actors on <c>Dapr.Actors.AspNetCore</c>, subscriptions as routes marked <c>WithTopic</c>. The host adds
/// an <see cref="IChainTracker"/>, <c>UseCloudEvents</c> and <c>MapSubscribeHandler</c>.
/// </summary>
public static class Extensions
{
    public static IServiceCollection AddAtomicPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<GatewayOptions>().BindConfiguration("Atomic:Gateway").ValidateOnStart();
        services.AddOptions<PipelineOptions>().BindConfiguration("Atomic:Pipeline").ValidateOnStart();
        services.AddOptions<OverlayOptions>().BindConfiguration("Atomic:Overlay").ValidateOnStart();
        var broadcaster = new BroadcasterOptions();
        configuration.GetSection("Atomic:Broadcaster").Bind(broadcaster);
        services.AddSingleton(broadcaster);

        services.TryAddSingleton(TimeProvider.System);
        services.AddDaprClient((sp, client) =>
        {
            client.UseJsonSerializationOptions(TxRecords.Json);
            if (sp.GetService<DaprTransport>() is { } transport)
            {
                client.UseGrpcChannelOptions(new GrpcChannelOptions { ThrowOperationCanceledOnCancellation = true, HttpHandler = transport.Handler });
            }
        });
        services.TryAddSingleton<IActorProxyFactory>(sp => new ActorProxyFactory(
            Actors.ProxyOptions(DaprDefaults.GetDefaultHttpEndpoint(sp.GetService<IConfiguration>()), DaprDefaults.GetDefaultDaprApiToken(sp.GetService<IConfiguration>())),
            sp.GetService<DaprTransport>()?.Handler));

        services.AddSingleton<ITopicManager, TokenTopicManager>();
        services.AddSingleton<ITopicManager, RevocationTopicManager>();
        services.AddSingleton<ILookupService, TokenLookupService>();
        services.AddSingleton<ILookupService, RevocationLookupService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Topics.ITopicAdmissionObserver, Identity.RevocationMonitor>()); // a spent revocation output revokes
        services.AddSingleton<TopicCatalog>();

        services.AddSingleton<TxWatch>();
        services.AddSingleton<BeefHandOff>();
        services.AddSingleton<TxRecords>();
        services.AddSingleton<EventPublisher>();
        services.AddSingleton<GatewayServices>();
        services.AddSingleton(sp => new SpvVerifier(sp.GetRequiredService<IChainTracker>()));
        services.AddSingleton<VerifierHandler>();
        services.AddHttpClient(nameof(ArcClient));
        services.AddSingleton(sp => new ArcClient(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(ArcClient)), broadcaster, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ArcClient>>()));
        services.AddSingleton<WatchIndex>();
        services.AddSingleton<BasketCatalog>();
        services.AddSingleton<MinedRecorder>();
        services.AddSingleton<BroadcastHandler>();
        services.AddSingleton<OverlayAdmission>();
        services.AddHostedService<MinedPoller>();

        // GET /v1/status and the dashboard: the monitor listens to the pipeline's meter, TxRecords feeds the recent list.
        services.AddOptions<OperationsOptions>().BindConfiguration(OperationsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RecentTransactions>();
        services.AddSingleton<PipelineMonitor>();
        services.AddSingleton<AlertTracker>();
        services.AddSingleton<SessionTally>();
        services.AddSingleton<PaymentTally>();
        services.AddSingleton<StatusReporter>();
        services.AddSingleton<SidecarHealth>();
        services.AddHostedService<AlertLoop>();
        services.AddOptions<ErpOptions>().BindConfiguration(ErpOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        // POST /v1/check and its timer: the invariants over what the stores hold (docs/operations.md).
        services.AddOptions<ConsistencyOptions>().BindConfiguration(ConsistencyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ConsistencyChecker>();
        services.AddHostedService<ConsistencyTimer>();

        // GET /v1/audit: the hash-chained audit log, fed by TxRecords' moves, appended by one writer per process.
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<AuditStore>();
        services.AddSingleton<AuditAnchors>();
        services.AddHostedService<AuditWriter>();
        return services;
    }

    /// <summary>
    /// Multi-party sessions (the <c>atomic-orchestrator</c> app's part): their store, templates and service, and
    /// <see cref="SessionWorkflow"/> with its activities on <c>Dapr.Workflow</c>, whose worker connects to the sidecar's
    /// gRPC API. Needs <see cref="AddAtomicPipeline"/> (the finished transaction goes in through the gateway's path).
    /// </summary>
    public static IServiceCollection AddAtomicSessions(this IServiceCollection services)
    {
        services.AddOptions<SessionsOptions>().BindConfiguration("Atomic:Sessions").ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(SessionTemplates.Default);
        services.AddSingleton<SessionStore>();
        services.AddSingleton<SessionService>();
        services.AddSingleton<SessionBaskets>();
        services.AddDaprWorkflow(options =>
        {
            options.RegisterWorkflow<SessionWorkflow>();
            options.RegisterActivity<AdvanceSessionActivity>();
            options.RegisterActivity<AbortSessionActivity>();
            options.RegisterActivity<RefundSessionActivity>();
            options.RegisterActivity<PublishSessionEndActivity>();
        });
        return services;
    }

    /// <summary>
    /// Registers the overlay's actor types (<c>TopicManager</c>, <c>BasketManager</c>) with the Dapr actor runtime,
    /// with JSON bodies so that any language can call them.
    /// </summary>
    public static IServiceCollection AddPipelineActors(this IServiceCollection services)
    {
        services.AddActors(options =>
        {
            options.UseJsonSerialization = true;
            options.Actors.RegisterActor<TopicManagerActor>(TopicManagerActor.TypeName);
            options.Actors.RegisterActor<BasketManagerActor>(BasketManagerActor.TypeName);
        });
        return services;
    }

    /// <summary>
    /// Maps the routes of every stage <see cref="PipelineOptions"/> enables: the gateway's public routes
    /// (<c>/v1/beef</c>, <c>/v1/tx/{txid}</c>, BRC-22 <c>/submit</c>, BRC-24 <c>/lookup</c>, baskets) when
    /// <paramref name="gateway"/>, ARC's callback with the broadcaster, and each stage's subscriptions.
    /// </summary>
    public static IEndpointRouteBuilder MapAtomicPipeline(this IEndpointRouteBuilder app, bool gateway = true)
    {
        ArgumentNullException.ThrowIfNull(app);
        PipelineOptions stages = app.ServiceProvider.GetRequiredService<IOptions<PipelineOptions>>().Value;
        if (gateway)
        {
            app.MapGatewayApi();
            app.MapTopicsApi();
            app.MapBasketsApi();
            app.MapConsistencyApi();
            app.MapAuditApi();
        }

        if (stages.Verifier)
        {
            app.MapVerifierApi();
        }

        // Dapr gives an app one subscription per topic: an app running both beef.verified stages takes it on one route.
        bool shared = stages.Overlay && stages.Broadcaster;
        if (stages.Broadcaster)
        {
            app.MapArcCallbacks();
            app.MapBroadcasterApi(withBeefVerified: !shared);
        }

        if (shared)
        {
            app.MapPost(BeefVerifiedRoute, HandleBeefVerifiedAsync)
                .WithTopic(new TopicOptions { PubsubName = Names.PubSub, Name = Names.Topics.BeefVerified, DeadLetterTopic = BroadcasterApi.DeadLetterTopic })
                .WithBulk(Names.Topics.BeefVerified);
        }
        else if (stages.Overlay)
        {
            app.MapTopicsAdmission();
        }

        return app;
    }

    /// <summary>The route of <c>beef.verified</c> in an app that runs both the overlay stage and the broadcaster.</summary>
    public const string BeefVerifiedRoute = "/events/beef-verified";

    /// <summary>
    /// Both <c>beef.verified</c> stages at once; the event succeeds when both do. Each stage is idempotent, so a retry
    /// for one repeats nothing of the other. The broadcaster's attempt limit and dead letter apply (the dead letter
    /// fails only a record still verified, that is, never broadcast).
    /// </summary>
    internal static Task<IResult> HandleBeefVerifiedAsync(
        HttpRequest request, OverlayAdmission overlay, BroadcastHandler broadcaster, BroadcasterOptions options, CancellationToken cancellationToken) =>
        Deliveries.HandleEachAsync<BeefVerified>(request, Names.Topics.BeefVerified, options.DeliveryAttempts, async (verified, activity) =>
        {
            Delivery[] outcomes = await Task.WhenAll(overlay.HandleAsync(verified), broadcaster.HandleAsync(verified, activity, cancellationToken)).ConfigureAwait(false);
            return outcomes.Contains(Delivery.Retry) ? Delivery.Retry
                : outcomes.Contains(Delivery.Wait) ? Delivery.Wait
                : outcomes.Contains(Delivery.Drop) ? Delivery.Drop : Delivery.Success;
        }, cancellationToken);
}

/// <summary>Which stages this process runs (section <c>Atomic:Pipeline</c>): all of them in the all-in-one server.</summary>
public sealed class PipelineOptions
{
    public bool Verifier { get; set; } = true;

    public bool Broadcaster { get; set; } = true;

    /// <summary>Topic and basket admission from <c>beef.verified</c> (the <c>atomic-overlay</c> app).</summary>
    public bool Overlay { get; set; } = true;
}
