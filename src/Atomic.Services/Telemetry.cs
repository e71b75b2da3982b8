using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Atomic.Services;

/// <summary>
/// The pipeline's metrics and traces (meter and activity source <c>Atomic.Services</c>); a host exports them with
/// OpenTelemetry. Names follow OpenTelemetry's conventions: dotted, lower case, units in UCUM.
/// </summary>
public static class Telemetry
{
    public const string Name = "Atomic.Services";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>BEEFs durably accepted by the gateway (tag <c>route</c>: <c>/v1/beef</c> or <c>/submit</c>).</summary>
    public static readonly Counter<long> BeefAccepted = Meter.CreateCounter<long>("atomic.beef.accepted", "{beef}", "BEEFs durably accepted");

    /// <summary>Submissions refused before acceptance (tag <c>code</c>).</summary>
    public static readonly Counter<long> BeefRefused = Meter.CreateCounter<long>("atomic.beef.refused", "{beef}", "BEEFs refused by the gateway");

    /// <summary>SPV outcomes (tag <c>outcome</c>: <c>verified</c> or <c>rejected</c>, and <c>code</c> when rejected).</summary>
    public static readonly Counter<long> SpvOutcomes = Meter.CreateCounter<long>("atomic.spv.outcomes", "{tx}", "SPV verifications by outcome");

    public static readonly Histogram<double> SpvDuration = Meter.CreateHistogram<double>("atomic.spv.duration", "s", "time to verify one BEEF by SPV");

    /// <summary>Time from acceptance to a stage's outcome (tag <c>stage</c>: <c>verified</c>, <c>broadcast</c>, <c>mined</c>).</summary>
    public static readonly Histogram<double> ProcessingDuration = Meter.CreateHistogram<double>("atomic.tx.processing.duration", "s", "time from acceptance to each stage");

    /// <summary>Broadcast calls by verdict (tags <c>verdict</c>, <c>endpoint</c>).</summary>
    public static readonly Counter<long> BroadcastOutcomes = Meter.CreateCounter<long>("atomic.broadcast.outcomes", "{call}", "ARC broadcast calls by verdict");

    public static readonly Histogram<double> BroadcastDuration = Meter.CreateHistogram<double>("atomic.broadcast.duration", "s", "time of one ARC broadcast call");

    /// <summary>Records <see cref="ProcessingDuration"/> for a record that has just reached <paramref name="stage"/>: its last step's time minus its first's.</summary>
    /// <summary>
    /// Handles one delivery of <paramref name="cloudEvent"/> inside a consumer span named after its topic, tagged with
    /// the message id and the delivery's answer.
    /// </summary>
    internal static async Task<Runtime.PubSub.DeliveryResult> TraceDeliveryAsync(
        Runtime.PubSub.CloudEvent cloudEvent, Func<Activity?, Task<Runtime.PubSub.DeliveryResult>> handle)
    {
        using Activity? activity = Source.StartActivity(cloudEvent.Topic + " process", ActivityKind.Consumer);
        activity?.SetTag("messaging.destination.name", cloudEvent.Topic);
        activity?.SetTag("messaging.message.id", cloudEvent.Id);
        Runtime.PubSub.DeliveryResult outcome = await handle(activity).ConfigureAwait(false);
        activity?.SetTag("atomic.delivery", outcome.ToString());
        return outcome;
    }

    internal static void RecordStage(Transactions.TxRecord record, string stage)
    {
        if (record.History.Count < 2)
        {
            return;
        }

        double seconds = Math.Max(0, (record.History[^1].At - record.History[0].At).TotalSeconds);
        ProcessingDuration.Record(seconds, new KeyValuePair<string, object?>("stage", stage));
    }

    /// <summary>Topic admissions (tags <c>topic</c>, <c>outcome</c>: <c>admitted</c> or <c>none</c>).</summary>
    public static readonly Counter<long> TopicAdmissions = Meter.CreateCounter<long>("atomic.topic.admissions", "{tx}", "transactions examined by topic managers");
}
