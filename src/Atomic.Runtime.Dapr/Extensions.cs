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

    /// <summary>The service key of the sidecar's <see cref="HttpClient"/>.</summary>
    public const string DaprSidecarKey = "dapr-sidecar";
}
