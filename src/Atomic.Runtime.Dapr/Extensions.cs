using Atomic.Runtime.Actors;
using Atomic.Runtime.Dapr.Actors;
using Atomic.Runtime.Dapr.PubSub;
using Atomic.Runtime.Dapr.State;
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

    /// <summary>The service key of the sidecar's <see cref="HttpClient"/>.</summary>
    public const string DaprSidecarKey = "dapr-sidecar";
}
