using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar;

/// <summary>
/// One building block of the sidecar beyond state and pub/sub (actors, workflows, service invocation): its services,
/// its routes and gRPC services, and what it starts once the APIs listen and stops before they close.
/// </summary>
internal interface ISidecarFeature
{
    /// <summary>Registers the feature's services.</summary>
    void AddServices(IServiceCollection services, SidecarOptions options);

    /// <summary>Maps the feature's HTTP routes and gRPC services.</summary>
    void Map(WebApplication app);

    /// <summary>Starts the feature's background work (after the APIs listen and the app channel has read the app).</summary>
    Task StartAsync(IServiceProvider services, CancellationToken cancellationToken);

    /// <summary>Stops the feature's background work (before the APIs close); must not hang.</summary>
    ValueTask StopAsync(IServiceProvider services);
}
