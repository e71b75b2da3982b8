using Atomic.Runtime.Actors;
using Atomic.Runtime.Dapr.Actors;
using Atomic.Runtime.Dapr.PubSub;
using Atomic.Runtime.Dapr.State;
using Atomic.Runtime.Dapr.Workflow;
using Atomic.Runtime.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Atomic.Runtime.Dapr;

public static class Extensions
{
    /// <summary>
    /// Registers the sidecar's state stores and pub/subs as <see cref="BuildingBlocks"/>, with the options read from the
    /// environment (unless given), the one sidecar <see cref="HttpClient"/> and the <see cref="DaprSubscriptionTable"/>
    /// that <see cref="DaprAppCallbacks.MapDaprPubSub"/> serves.
    /// </summary>
    public static IServiceCollection AddDaprBuildingBlocks(
        this IServiceCollection services,
        IReadOnlyDictionary<string, DaprStateStoreOptions?> stateStores,
        IEnumerable<string> pubSubs,
        DaprOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        List<string> pubSubNames = [.. pubSubs];
        services.TryAddSingleton(options ?? DaprOptions.FromEnvironment());
        services.TryAddSingleton<DaprSubscriptionTable>();
        services.TryAddKeyedSingleton(DaprSidecarKey, (sp, _) => DaprSidecar.CreateHttpClient(sp.GetRequiredService<DaprOptions>()));
        services.AddSingleton(sp => DaprBuildingBlocks.Create(
            sp.GetRequiredKeyedService<HttpClient>(DaprSidecarKey), sp.GetRequiredService<DaprSubscriptionTable>(), stateStores, pubSubNames));
        return services;
    }

    /// <summary>
    /// Registers the <see cref="DaprActorRuntime"/> of <paramref name="appId"/> (served by
    /// <see cref="DaprActorCallbacks.MapDaprActors"/>) and makes it the <see cref="IActorClient"/>;
    /// <paramref name="configure"/> registers the actor types, with the built service provider at hand.
    /// </summary>
    public static IServiceCollection AddDaprActors(
        this IServiceCollection services,
        string appId,
        Action<ActorRuntimeOptions, IServiceProvider>? configure = null,
        DaprOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(appId);
        services.TryAddSingleton(options ?? DaprOptions.FromEnvironment());
        services.TryAddKeyedSingleton(DaprSidecarKey, (sp, _) => DaprSidecar.CreateHttpClient(sp.GetRequiredService<DaprOptions>()));
        services.TryAddSingleton(sp =>
        {
            var actorOptions = new ActorRuntimeOptions { AppId = appId };
            configure?.Invoke(actorOptions, sp);
            return new DaprActorRuntime(actorOptions, sp.GetRequiredKeyedService<HttpClient>(DaprSidecarKey), sp.GetService<TimeProvider>());
        });
        services.TryAddSingleton<IActorClient>(sp => sp.GetRequiredService<DaprActorRuntime>());
        return services;
    }

    /// <summary>
    /// Registers workflows on the sidecar: the <see cref="DaprWorkflowWorker"/> (a hosted service on the gRPC port,
    /// <c>DAPR_GRPC_PORT</c>) running the workflows and activities <paramref name="configure"/> registers, and the
    /// <see cref="DaprWorkflowClient"/> as <see cref="IWorkflowClient"/>.
    /// </summary>
    public static IServiceCollection AddDaprWorkflows(
        this IServiceCollection services,
        Action<WorkflowRegistry, IServiceProvider> configure,
        DaprOptions? options = null,
        DaprWorkflowWorkerOptions? workerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(options ?? DaprOptions.FromEnvironment());
        services.TryAddKeyedSingleton(DaprSidecarKey, (sp, _) => DaprSidecar.CreateHttpClient(sp.GetRequiredService<DaprOptions>()));
        services.TryAddSingleton(sp =>
        {
            DaprOptions dapr = sp.GetRequiredService<DaprOptions>();
            return new GrpcClient(new Uri($"http://{dapr.HttpEndpoint.Host}:{dapr.GrpcPort}/"), dapr.ApiToken);
        });
        services.TryAddSingleton(sp =>
        {
            var registry = new WorkflowRegistry();
            configure(registry, sp);
            return registry;
        });
        services.AddHostedService(sp => new DaprWorkflowWorker(sp.GetRequiredService<GrpcClient>(), sp.GetRequiredService<WorkflowRegistry>(), workerOptions));
        services.TryAddSingleton<IWorkflowClient>(sp => new DaprWorkflowClient(sp.GetRequiredKeyedService<HttpClient>(DaprSidecarKey), grpc: sp.GetRequiredService<GrpcClient>()));
        return services;
    }

    /// <summary>The service key of the sidecar's <see cref="HttpClient"/>.</summary>
    public const string DaprSidecarKey = "dapr-sidecar";
}
