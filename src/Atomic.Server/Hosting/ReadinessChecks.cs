using Atomic.DevChain.Chain;
using Dapr.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Atomic.Server.Hosting;

/// <summary>
/// The sidecar is reachable and its components are ready: <c>GET /v1.0/healthz/outbound</c> answers 204 (Dapr's health
/// API: the outbound check, which does not wait for the app itself to be healthy); the embedded sidecar must also have
/// read the app (its subscriptions deliver, its actor types are placed).
/// </summary>
internal sealed class SidecarCheck(HttpClient sidecar, IServiceProvider services) : IHealthCheck
{
    public const string HttpClientName = "sidecar";

    public const string Path = "v1.0/healthz/outbound";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            using HttpResponseMessage response = await sidecar.GetAsync(Path, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return HealthCheckResult.Unhealthy($"the sidecar at {sidecar.BaseAddress} answered {(int)response.StatusCode} to GET /{Path}");
            }
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return HealthCheckResult.Unhealthy($"the sidecar at {sidecar.BaseAddress} is not reachable: {e.Message}");
        }

        return services.GetService<EmbeddedSidecarHost>() is { Connected: false }
            ? HealthCheckResult.Unhealthy($"the embedded sidecar at {sidecar.BaseAddress} has not read the app yet")
            : HealthCheckResult.Healthy($"the sidecar at {sidecar.BaseAddress} is ready");
    }
}

/// <summary>
/// One state store answers a read of a key nobody writes, asked through the sidecar as the services ask it: the
/// sidecar, the component and its database must all answer.
/// </summary>
internal sealed class StateStoreCheck(DaprClient dapr, string store) : IHealthCheck
{
    private const string ProbeKey = "health|probe";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await dapr.GetByteStateAsync(store, ProbeKey, cancellationToken: timeout.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy("answers reads");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"a read failed: {(e.InnerException ?? e).Message}");
        }
    }
}

/// <summary>The dev chain's database is open and has a tip.</summary>
internal sealed class DevChainCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            LocalChain chain = services.GetRequiredService<LocalChain>();
            return Task.FromResult(HealthCheckResult.Healthy($"tip {chain.Tip.Height}, {chain.MempoolCount} in the mempool"));
        }
        catch (Exception e)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"the dev chain did not open: {e.Message}"));
        }
    }
}
