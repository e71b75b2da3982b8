using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Workflow;

/// <summary>Workflows: the durable task backend the Dapr.Workflow worker and client connect to, and the HTTP management API.</summary>
internal sealed class WorkflowFeature : ISidecarFeature
{
    public void AddServices(IServiceCollection services, SidecarOptions options)
    {
        services.AddSingleton(sp => new WorkflowBackend(
            sp.GetRequiredService<SidecarOptions>(), sp.GetRequiredService<SidecarComponents>(), sp.GetService<ILoggerFactory>()));
        services.AddSingleton(sp => new WorkflowGrpcService(sp.GetRequiredService<SidecarOptions>(), sp.GetRequiredService<WorkflowBackend>()));
    }

    public void Map(WebApplication app)
    {
        app.MapGrpcService<WorkflowGrpcService>();
        app.MapWorkflowApi();
    }

    /// <summary>Resumes every unfinished instance kept in the actor state store.</summary>
    public Task StartAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        services.GetRequiredService<WorkflowBackend>().StartAsync(cancellationToken);

    /// <summary>Ends the workers' streams and the blocking waits so the host stops at once.</summary>
    public async ValueTask StopAsync(IServiceProvider services) =>
        await services.GetRequiredService<WorkflowBackend>().StopAsync().ConfigureAwait(false);
}
