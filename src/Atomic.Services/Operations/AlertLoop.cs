using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// Evaluates the alert rules every <see cref="OperationsOptions.AlertEvaluationSeconds"/>, so that a rule's <c>for</c>
/// is measured between evaluations as close as Prometheus' are, whether or not anybody reads the status; and logs each
/// alert when it starts firing (a warning) and when it stops.
/// </summary>
public sealed class AlertLoop(StatusReporter reporter, IOptions<OperationsOptions> options, TimeProvider time, ILogger<AlertLoop> logger)
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
                Log(Changes(_firing, reporter.EvaluateAlerts()));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "The alert rules could not be evaluated");
            }
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
