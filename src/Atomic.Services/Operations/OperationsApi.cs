using Atomic.Services.Contracts;
using Atomic.Services.Identity;
using Dapr.Actors;
using Dapr.Actors.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// Operations' routes (issue #18): <c>GET /v1/status</c>, the pipeline's numbers, recent transactions and the alerts
/// firing, as JSON; and <c>GET /dashboard</c>, one self-contained page that polls it.
/// </summary>
public static class OperationsApi
{
    public const string StatusRoute = "/v1/status";

    public const string DashboardRoute = "/dashboard";

    /// <summary>How long the status waits for a basket's actor to count its outputs.</summary>
    internal static readonly TimeSpan BasketTimeout = TimeSpan.FromSeconds(2);

    private static readonly Lazy<string> Page = new(ReadPage);

    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        _ = app.ServiceProvider.GetRequiredService<PipelineMonitor>(); // listening from start, not from the first status
        app.RequireBsvAuthWhen(BsvAuthExtensions.RequireForOperationsKey, BsvAuthExtensions.OperationsPolicyKey,
            app.MapGet(StatusRoute, GetStatusAsync),
            app.MapGet(DashboardRoute, GetDashboard).ExcludeFromDescription());
        return app;
    }

    internal static async Task<Ok<StatusReport>> GetStatusAsync(StatusReporter reporter, CancellationToken cancellationToken) =>
        TypedResults.Ok(await reporter.ReportAsync(cancellationToken).ConfigureAwait(false));

    internal static ContentHttpResult GetDashboard() => TypedResults.Content(Page.Value, "text/html; charset=utf-8");

    private static string ReadPage()
    {
        using Stream stream = typeof(OperationsApi).Assembly.GetManifestResourceStream("Atomic.Services.Operations.dashboard.html")
            ?? throw new InvalidOperationException("the dashboard page is not embedded in Atomic.Services");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>
/// Writes <c>GET /v1/status</c>'s report from the monitor, the recent transactions, the sessions, the alerts' state and
/// the basket actors.
/// </summary>
public sealed class StatusReporter(
    PipelineMonitor monitor,
    RecentTransactions recent,
    AlertTracker alerts,
    SessionTally sessions,
    PaymentTally payments,
    IActorProxyFactory actors,
    IOptions<OperationsOptions> options,
    TimeProvider time,
    ILogger<StatusReporter> logger,
    SidecarHealth? sidecar = null,
    ConsistencyChecker? checker = null)
{
    public async Task<StatusReport> ReportAsync(CancellationToken cancellationToken)
    {
        OperationsOptions settings = options.Value;
        long now = monitor.Now;
        Span<long> window = stackalloc long[RollingCounters.Width];
        monitor.Counters.Sum(now, settings.WindowSeconds, window);
        double seconds = settings.WindowSeconds;
        var rates = new PipelineRates(
            Rate(window, RollingCounters.Field.Accepted, seconds),
            Rate(window, RollingCounters.Field.Verified, seconds),
            Rate(window, RollingCounters.Field.Rejected, seconds),
            Rate(window, RollingCounters.Field.Broadcast, seconds),
            Rate(window, RollingCounters.Field.Mined, seconds));
        long broadcasts = window[(int)RollingCounters.Field.Broadcast];
        ReadOnlySpan<long> processing = window.Slice(RollingCounters.ProcessingBuckets, RollingCounters.Buckets);
        var latency = new LatencyView(
            RollingCounters.Quantile(0.5, processing),
            RollingCounters.Quantile(0.99, processing),
            broadcasts == 0 ? null : window[(int)RollingCounters.Field.ProcessingMicros] / 1e6 / broadcasts,
            broadcasts);

        IReadOnlyList<QueueDepth> queues = monitor.Queues();
        long pending = 0;
        foreach (QueueDepth queue in queues)
        {
            pending += queue.Pending;
        }

        IReadOnlyList<AlertView> firing = Evaluate(now, queues, out BroadcastCallsView calls);
        DateTimeOffset at = time.GetUtcNow();

        IReadOnlyList<BasketSize> baskets = await BasketSizesAsync(recent.Baskets(), cancellationToken).ConfigureAwait(false);
        return new StatusReport(
            at, settings.WindowSeconds, settings.AlertWindowSeconds, rates, latency,
            calls,
            new PubSubView(pending, queues), recent.Snapshot(), monitor.Topics(), baskets, sessions.Snapshot(), payments.Snapshot(), firing);
    }

    /// <summary>Evaluates the alert rules now (as <see cref="AlertLoop"/> does between status reads).</summary>
    public IReadOnlyList<AlertView> EvaluateAlerts() => Evaluate(monitor.Now, monitor.Queues(), out _);

    /// <summary>The rules over the alert window up to <paramref name="now"/>, through the tracker's <c>for</c>.</summary>
    private IReadOnlyList<AlertView> Evaluate(long now, IReadOnlyList<QueueDepth> queues, out BroadcastCallsView calls)
    {
        OperationsOptions settings = options.Value;
        Span<long> window = stackalloc long[RollingCounters.Width];
        monitor.Counters.Sum(now, settings.AlertWindowSeconds, window);
        long decided = window[(int)RollingCounters.Field.ArcDecided];
        long accepted = window[(int)RollingCounters.Field.ArcAccepted];
        double? arcP99 = RollingCounters.Quantile(0.99, window.Slice(RollingCounters.ArcBuckets, RollingCounters.Buckets));
        calls = new BroadcastCallsView(decided, decided == 0 ? null : (double)accepted / decided, arcP99);
        var inputs = new AlertInputs(
            window[(int)RollingCounters.Field.Broadcast],
            window[(int)RollingCounters.Field.ProcessingMicros] / 1e6,
            window[(int)RollingCounters.Field.Verified],
            window[(int)RollingCounters.Field.Rejected],
            accepted,
            decided,
            arcP99,
            queues,
            checker?.LastViolations,
            sidecar?.Up);
        return alerts.Update(AlertRules.Evaluate(inputs, settings.Alerts), time.GetUtcNow(), TimeSpan.FromSeconds(settings.AlertForSeconds));
    }

    private static double Rate(ReadOnlySpan<long> window, RollingCounters.Field field, double seconds) => window[(int)field] / seconds;

    /// <summary>Each basket's outputs, asked of its actor; one that does not answer in time is reported without a size.</summary>
    private async Task<IReadOnlyList<BasketSize>> BasketSizesAsync(IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var sizes = new Task<BasketSize>[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            sizes[i] = SizeAsync(names[i]);
        }

        return await Task.WhenAll(sizes).ConfigureAwait(false);

        async Task<BasketSize> SizeAsync(string name)
        {
            try
            {
                IBasketManager basket = actors.CreateActorProxy<IBasketManager>(new ActorId(name), IBasketManager.TypeName);
                ListResult listed = await basket.List(new ListRequest(Limit: 1, IncludeReserved: true))
                    .WaitAsync(OperationsApi.BasketTimeout, cancellationToken).ConfigureAwait(false);
                return new BasketSize(name, listed.TotalOutputs);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogDebug(e, "The status could not count the outputs of basket {Basket}", name);
                return new BasketSize(name, null);
            }
        }
    }
}
