using System.Text.Json;
using Dapr;
using Dapr.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// Evaluates the alert rules every <see cref="OperationsOptions.AlertEvaluationSeconds"/>, so that a rule's <c>for</c>
/// is measured between evaluations as close as Prometheus' are, whether or not anybody reads the status; and logs each
/// alert when it starts firing (a warning) and when it stops.
/// </summary>
public sealed class AlertLoop(
    StatusReporter reporter, IOptions<OperationsOptions> options, TimeProvider time, DaprClient dapr, ILogger<AlertLoop> logger, SidecarHealth? sidecar = null)
    : BackgroundService
{
    private readonly HashSet<string> _firing = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.AlertEvaluationSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                if (sidecar is not null)
                {
                    using var probe = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    probe.CancelAfter(TimeSpan.FromSeconds(5));
                    sidecar.Record(await ProbeAsync(probe.Token).ConfigureAwait(false));
                }

                (IReadOnlyList<AlertView> Started, IReadOnlyList<string> Stopped) changes = Changes(_firing, reporter.EvaluateAlerts());
                Log(changes);
                await NotifyAsync(changes, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "The alert rules could not be evaluated");
            }
        }
    }

    /// <summary>The sidecar's <c>/v1.0/healthz</c>: false when it answers otherwise, not at all, or not within the probe's time.</summary>
    private async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await dapr.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or DaprException)
        {
            return false;
        }
    }

    /// <summary>
    /// The alerts that started firing and those that stopped since <paramref name="firing"/>, which becomes the set
    /// firing now.
    /// </summary>
    internal static (IReadOnlyList<AlertView> Started, IReadOnlyList<string> Stopped) Changes(HashSet<string> firing, IReadOnlyList<AlertView> views)
    {
        var started = new List<AlertView>();
        var now = new HashSet<string>(StringComparer.Ordinal);
        foreach (AlertView view in views)
        {
            if (view.State != "firing")
            {
                continue;
            }

            now.Add(view.Name);
            if (!firing.Contains(view.Name))
            {
                started.Add(view);
            }
        }

        var stopped = new List<string>();
        foreach (string name in firing)
        {
            if (!now.Contains(name))
            {
                stopped.Add(name);
            }
        }

        firing.Clear();
        firing.UnionWith(now);
        return (started, stopped);
    }

    /// <summary>Tells <see cref="OperationsOptions.AlertBinding"/> of each change; a failed notice is logged, not retried here (the binding's Resiliency policy retries).</summary>
    private async Task NotifyAsync((IReadOnlyList<AlertView> Started, IReadOnlyList<string> Stopped) changes, CancellationToken cancellationToken)
    {
        if (options.Value.AlertBinding is not { Length: > 0 } binding)
        {
            return;
        }

        var notices = new List<AlertNotice>();
        DateTimeOffset at = time.GetUtcNow();
        foreach (AlertView alert in changes.Started)
        {
            notices.Add(new AlertNotice(alert.Name, "firing", alert.Severity, alert.Summary, at));
        }

        foreach (string name in changes.Stopped)
        {
            notices.Add(new AlertNotice(name, "resolved", null, null, at));
        }

        foreach (AlertNotice notice in notices)
        {
            try
            {
                var request = new BindingRequest(binding, "create") { Data = JsonSerializer.SerializeToUtf8Bytes(notice, JsonSerializerOptions.Web) };
                request.Metadata["Content-Type"] = "application/json";
                await dapr.InvokeBindingAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DaprException or HttpRequestException)
            {
                logger.LogWarning("Alert {Alert} ({State}) could not be sent through binding {Binding}: {Error}", notice.Alert, notice.State, binding, e.InnerException?.Message ?? e.Message);
            }
        }
    }

    /// <summary>What the alert binding receives for one change.</summary>
    internal sealed record AlertNotice(string Alert, string State, string? Severity, string? Summary, DateTimeOffset At);

    private void Log((IReadOnlyList<AlertView> Started, IReadOnlyList<string> Stopped) changes)
    {
        foreach (AlertView alert in changes.Started)
        {
            logger.LogWarning("Alert {Alert} is firing ({Severity}): {Summary}", alert.Name, alert.Severity, alert.Summary);
        }

        foreach (string name in changes.Stopped)
        {
            logger.LogInformation("Alert {Alert} is no longer firing", name);
        }
    }
}
