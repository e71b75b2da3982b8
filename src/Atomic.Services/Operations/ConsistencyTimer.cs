using Atomic.Services.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// Runs <see cref="ConsistencyChecker"/> every <see cref="ConsistencyOptions.Interval"/> in the app that hosts the
/// overlay (one app of a split deployment; the all-in-one server).
/// </summary>
/// <remarks>
/// A plain timer rather than an actor reminder: the check only reads, so two replicas running it at once cost a
/// second read and nothing else, and it must keep running when the actor runtime it would be scheduled by is the
/// thing at fault. Violations surface as the <c>atomic.consistency.violations</c> counter and a warning each.
/// </remarks>
public sealed partial class ConsistencyTimer(
    ConsistencyChecker checker, IOptions<ConsistencyOptions> options, IOptions<PipelineOptions> stages, TimeProvider time, ILogger<ConsistencyTimer> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TimeSpan interval = options.Value.Interval;
        if (interval <= TimeSpan.Zero || !stages.Value.Overlay)
        {
            return;
        }

        ConsistencyChecker.ExposeSeries(); // the series exist from start: a first check's violations are an increase
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                ConsistencyReport report = await checker.CheckAsync(cancellationToken: stoppingToken).ConfigureAwait(false);
                LogChecked(logger, report.Records, report.Outputs, report.Violations.Count);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "consistency check: {Records} records, {Outputs} outputs, {Violations} violations")]
    private static partial void LogChecked(ILogger logger, int records, int outputs, int violations);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the consistency check could not run")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
