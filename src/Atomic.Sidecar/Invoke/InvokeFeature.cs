using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Invoke;

/// <summary>Service invocation by app id and to HTTPEndpoint resources.</summary>
internal sealed class InvokeFeature : ISidecarFeature
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
