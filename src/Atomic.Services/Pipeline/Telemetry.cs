using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Atomic.Services.Pipeline;

/// <summary>
/// The pipeline's metrics and traces (meter and activity source <c>Atomic.Services</c>); a host exports them with
/// OpenTelemetry. Names follow OpenTelemetry's conventions: dotted, lower case, units in UCUM.
/// </summary>
public static class Telemetry
{
    public const string Name = "Atomic.Services";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>
    /// Bucket bounds for the durations, in seconds, from 5 ms to an hour (a block's wait): OpenTelemetry's default bounds
    /// (0 to 10,000) are milliseconds', which put every SPV check and broadcast call in the first bucket above 0.
    /// </summary>
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800, 3600],
    };

    /// <summary>BEEFs durably accepted by the gateway (tag <c>route</c>: <c>/v1/beef</c> or <c>/submit</c>).</summary>
    public static readonly Counter<long> BeefAccepted = Meter.CreateCounter<long>("atomic.beef.accepted", "{beef}", "BEEFs durably accepted");

    /// <summary>Submissions refused before acceptance (tag <c>code</c>).</summary>
    public static readonly Counter<long> BeefRefused = Meter.CreateCounter<long>("atomic.beef.refused", "{beef}", "BEEFs refused by the gateway");

    /// <summary>SPV outcomes (tag <c>outcome</c>: <c>verified</c> or <c>rejected</c>, and <c>code</c> when rejected).</summary>
    public static readonly Counter<long> SpvOutcomes = Meter.CreateCounter<long>("atomic.spv.outcomes", "{tx}", "SPV verifications by outcome");

    public static readonly Histogram<double> SpvDuration = Meter.CreateHistogram("atomic.spv.duration", "s", "time to verify one BEEF by SPV", advice: Seconds);

    /// <summary>Time from acceptance to a stage's outcome (tag <c>stage</c>: <c>verified</c>, <c>broadcast</c>, <c>mined</c>).</summary>
    public static readonly Histogram<double> ProcessingDuration = Meter.CreateHistogram("atomic.tx.processing.duration", "s", "time from acceptance to each stage", advice: Seconds);

    /// <summary>Broadcast calls by verdict (tags <c>verdict</c>, <c>endpoint</c>).</summary>
    public static readonly Counter<long> BroadcastOutcomes = Meter.CreateCounter<long>("atomic.broadcast.outcomes", "{call}", "ARC broadcast calls by verdict");

    /// <summary>An ARC endpoint's circuit breaker changing state (tags <c>endpoint</c>, <c>state</c>: <c>open</c>, <c>half-open</c>, <c>closed</c>).</summary>
    public static readonly Counter<long> ArcCircuit = Meter.CreateCounter<long>("atomic.arc.circuit", "{transition}", "ARC circuit breaker transitions by new state");

    public static readonly Histogram<double> BroadcastDuration = Meter.CreateHistogram("atomic.broadcast.duration", "s", "time of one ARC broadcast call", advice: Seconds);

    /// <summary>Records <see cref="ProcessingDuration"/> for a record that has just reached <paramref name="stage"/>: its last step's time minus its first's.</summary>
    /// <summary>Counts a BEEF a route refused (<see cref="BeefRefused"/>), tagged with the route and the problem's reason code.</summary>
    internal static void RecordRefusal(string route, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult problem) =>
        BeefRefused.Add(1, new KeyValuePair<string, object?>("route", route),
            new KeyValuePair<string, object?>("code", problem.ProblemDetails.Extensions.TryGetValue("code", out object? code) ? code : null));

    /// <summary>
    /// Starts the span of a batch that takes several callers' work to the sidecar in one call. The sidecar gives every
    /// item of one call that call's trace, as daprd does, so the batch begins a trace of its own, linked to each caller's
    /// span, rather than going on in the trace of whichever caller came first. It clears the ambient span of the method
    /// that calls it: call it from the async method that makes the batch's call, whose own context that is.
    /// </summary>
    internal static Activity? StartBatch<T>(string name, ActivityKind kind, IReadOnlyList<T> items, Func<T, ActivityContext> traceOf)
    {
        var links = new List<ActivityLink>(items.Count);
        foreach (T item in items)
        {
            ActivityContext trace = traceOf(item);
            if (trace != default)
            {
                links.Add(new ActivityLink(trace));
            }
        }

        Activity.Current = null;
        return Source.StartActivity(kind, default(ActivityContext), links: links, name: name);
    }

    internal static void RecordStage(TxRecord record, string stage)
    {
        if (record.History.Count < 2)
        {
            return;
        }

        double seconds = Math.Max(0, (record.History[^1].At - record.History[0].At).TotalSeconds);
        ProcessingDuration.Record(seconds, new KeyValuePair<string, object?>("stage", stage));
        if (record.Status is TxStatus.Mined or TxStatus.Failed)
        {
            Outcomes.Add(1, new KeyValuePair<string, object?>("status", stage), new KeyValuePair<string, object?>("code", record.Code));
        }
    }

    /// <summary>Topic admissions (tags <c>topic</c>, <c>outcome</c>: <c>admitted</c> or <c>none</c>).</summary>
    /// <summary>Transactions reaching the end of the pipeline: <c>status</c> mined or failed (with its <c>code</c>).</summary>
    public static readonly Counter<long> Outcomes = Meter.CreateCounter<long>("atomic.tx.outcomes", "{tx}", "transactions reaching mined or failed");

    public static readonly Counter<long> TopicAdmissions = Meter.CreateCounter<long>("atomic.topic.admissions", "{tx}", "transactions examined by topic managers");
}
