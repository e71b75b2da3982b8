using Atomic.DevChain.Chain;
using Atomic.Runtime.State;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Atomic.Server.Hosting;

/// <summary>The actor runtime has started (and so have the components it runs on).</summary>
internal sealed class ActorRuntimeCheck(EmbeddedRuntimeHost runtime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(runtime.ActorsStarted
            ? HealthCheckResult.Healthy($"embedded, {runtime.Components.StateStores.Count} state stores and {runtime.Components.PubSubs.Count} pub/subs loaded, actor types: {string.Join(", ", runtime.ActorTypes.DefaultIfEmpty("(none)"))}")
            : HealthCheckResult.Unhealthy("the actor runtime has not started"));
}

/// <summary>One state store answers a read (of a key nobody writes).</summary>
internal sealed class StateStoreCheck(IStateStore store) : IHealthCheck
{
    private const string ProbeKey = "health||probe";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await store.GetAsync(ProbeKey, timeout.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy("answers reads");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"a read failed: {e.Message}");
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
