using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Actors;

/// <summary>Virtual actors: the actor API, the app's actor callbacks, turns, reentrancy, timers and durable reminders.</summary>
internal sealed class ActorsFeature : ISidecarFeature
{
    public void AddServices(IServiceCollection services, SidecarOptions options)
    {
    }

    public void Map(WebApplication app)
    {
    }

    public Task StartAsync(IServiceProvider services, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask StopAsync(IServiceProvider services) => ValueTask.CompletedTask;
}
