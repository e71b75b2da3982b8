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

    public void Map(WebApplication app)
    {
        app.MapActorApi();
        app.Use(async (context, next) =>
        {
            // Placement for one process: a call for an actor type that another app of the network hosts goes to that
            // app's sidecar, as daprd's placement sends it to the host that owns the actor.
            if (context.Request.Path.StartsWithSegments("/v1.0/actors", out Microsoft.AspNetCore.Http.PathString rest)
                && context.RequestServices.GetRequiredService<SidecarOptions>().Network is { } network
                && rest.Value?.Split('/', 3, StringSplitOptions.RemoveEmptyEntries) is [string escapedType, ..]
                && Uri.UnescapeDataString(escapedType) is string type
                && !context.RequestServices.GetRequiredService<ActorRuntime>().RegisteredTypes.Contains(type)
                && network.TryFindActorHost(type, out Uri sidecar))
            {
                await context.RequestServices.GetRequiredService<Invoke.Invoker>().ForwardToSidecarAsync(context, sidecar);
                return;
            }

            await next(context);
        });
    }

    public Task StartAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        services.GetRequiredService<ActorRuntime>().StartAsync(cancellationToken);

    public ValueTask StopAsync(IServiceProvider services) => services.GetRequiredService<ActorRuntime>().StopAsync();
}
