using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Actors;

/// <summary>
/// Virtual actors: the actor API (<see cref="ActorApi"/>), the app's actor callbacks, turns, reentrancy, idle
/// deactivation, timers and durable reminders (<see cref="ActorRuntime"/>, registered as a singleton: metadata reads
/// its <see cref="ActorRuntime.ActiveActors"/>).
/// </summary>
internal sealed class ActorsFeature : ISidecarFeature
{
    public void AddServices(IServiceCollection services, SidecarOptions options) => services.AddSingleton<ActorRuntime>();

    public void Map(WebApplication app) => app.MapActorApi();

    public Task StartAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        services.GetRequiredService<ActorRuntime>().StartAsync(cancellationToken);

    public ValueTask StopAsync(IServiceProvider services) => services.GetRequiredService<ActorRuntime>().StopAsync();
}
