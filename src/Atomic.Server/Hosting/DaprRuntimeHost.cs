using Atomic.Runtime.Dapr;
using Atomic.Runtime.Dapr.State;
using Atomic.Runtime.Embedded.Components;
using Atomic.Server.Apis;
using Atomic.Services;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Atomic.Server.Hosting;

/// <summary>
/// The Dapr runtime: the sidecar's components (<c>statestore</c>, <c>txstore</c> with its outbox to
/// <c>beef.submitted</c>, <c>pubsub</c>; daprd reads their files, this server does not) as <see cref="Runtime.BuildingBlocks"/>,
/// and the Dapr actor runtime as the <see cref="Runtime.Actors.IActorClient"/>, hosting the pipeline's actor types in the
/// apps that own them. Readiness asks the sidecar.
/// </summary>
internal static class DaprRuntimeHost
{
    public static void AddDaprRuntime(IServiceCollection services, ServerSettings settings, IHealthChecksBuilder health)
    {
        DaprOptions dapr = settings.Dapr!;
        services.AddSingleton<IReadOnlyList<ComponentDefinition>>([]);
        services.AddDaprBuildingBlocks(
            new Dictionary<string, DaprStateStoreOptions?>
            {
                [Names.StateStore] = null,
                [Names.TxStore] = new DaprStateStoreOptions(OutboxTopic: Names.Topics.BeefSubmitted),
            },
            [Names.PubSub],
            dapr);
        services.AddDaprActors(settings.AppId, (actors, sp) =>
        {
            if (settings.Role.HostsActors)
            {
                actors.Actors.AddPipelineActors(sp);
            }
        }, dapr);
        health.Add(new HealthCheckRegistration("sidecar", sp => new SidecarCheck(sp.GetRequiredKeyedService<HttpClient>(Runtime.Dapr.Extensions.DaprSidecarKey)), null, [HealthApi.Ready]));
    }

    /// <summary>What the banner says of the runtime.</summary>
    public static string Describe(ServerSettings settings) =>
        $"dapr, sidecar {settings.Dapr!.HttpEndpoint.AbsoluteUri.TrimEnd('/')}, components statestore, {Names.TxStore} (outbox → {Names.PubSub}/{Names.Topics.BeefSubmitted}), {Names.PubSub} (read by daprd)";
}

/// <summary>
/// The sidecar is reachable and its components are ready: <c>GET /v1.0/healthz/outbound</c> answers 204 (Dapr's
/// health API: the outbound check, which does not wait for the app itself to be healthy).
/// </summary>
internal sealed class SidecarCheck(HttpClient sidecar) : IHealthCheck
{
    public const string Path = "v1.0/healthz/outbound";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            using HttpResponseMessage response = await sidecar.GetAsync(Path, timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy($"the sidecar at {sidecar.BaseAddress} is ready")
                : HealthCheckResult.Unhealthy($"the sidecar at {sidecar.BaseAddress} answered {(int)response.StatusCode} to GET /{Path}");
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return HealthCheckResult.Unhealthy($"the sidecar at {sidecar.BaseAddress} is not reachable: {e.Message}");
        }
    }
}
