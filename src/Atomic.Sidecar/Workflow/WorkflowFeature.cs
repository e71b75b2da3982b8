using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Workflow;

/// <summary>Workflows: the durable task backend the Dapr.Workflow worker and client connect to, and the HTTP management API.</summary>
internal sealed class WorkflowFeature : ISidecarFeature
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
