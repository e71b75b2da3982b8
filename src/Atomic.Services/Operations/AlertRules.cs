using System.Globalization;
using System.Text.Json.Serialization;

namespace Atomic.Services.Operations;

/// <summary>What the alert rules read, over the alert window: the in-process counterparts of their PromQL.</summary>
/// <param name="BroadcastCount">Transactions that reached broadcast.</param>
/// <param name="ProcessingSeconds">Their seconds from acceptance to broadcast, summed.</param>
/// <param name="Verified">SPV verifications that passed.</param>
/// <param name="Rejected">SPV verifications that failed.</param>
/// <param name="ArcAccepted">ARC calls answered Accepted.</param>
/// <param name="ArcDecided">ARC calls answered anything but Pending.</param>
/// <param name="BroadcastP99Seconds">The 99th percentile of one ARC call; null without calls.</param>
/// <param name="Queues">Deliveries pending per pub/sub, topic and consumer.</param>
/// <param name="ConsistencyViolations">Violations the last consistency check found; null before the first.</param>
/// <param name="SidecarUp">Whether the sidecar answered its last health probe; null before the first.</param>
public sealed record AlertInputs(
    long BroadcastCount,
    double ProcessingSeconds,
    long Verified,
    long Rejected,
    long ArcAccepted,
    long ArcDecided,
    double? BroadcastP99Seconds,
    IReadOnlyList<QueueDepth> Queues,
    int? ConsistencyViolations = null,
    bool? SidecarUp = null);

/// <summary>One alert whose condition holds: <c>pending</c> until it has held for the rule's <c>for</c>, then <c>firing</c>.</summary>
public sealed record AlertView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("severity")] string Severity,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("threshold")] double Threshold,
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("since")] DateTimeOffset Since);

/// <summary>A condition of a rule that holds now (before its <c>for</c> is applied).</summary>
/// <param name="HoldFor">This rule's own <c>for</c>, when it is not the tracker's (Prometheus' rule file says the same).</param>
public sealed record AlertCondition(string Name, string Severity, double Value, double Threshold, string Summary, TimeSpan? HoldFor = null);

/// <summary>
/// The rules of <c>deploy/monitoring/atomic-alerts.yaml</c>, evaluated over this process's numbers with the same
/// comparisons: a ratio over no traffic is 0/0, and fires nothing, as in Prometheus.
/// </summary>
public static class AlertRules
{
    public const string ProcessingSlow = "AtomicProcessingSlow";
    public const string ValidationFailureRateHigh = "AtomicValidationFailureRateHigh";
    public const string NetworkAcceptanceLow = "AtomicNetworkAcceptanceLow";
    public const string BroadcastSlow = "AtomicBroadcastSlow";
    public const string PubSubBacklog = "AtomicPubSubBacklog";
    public const string ConsistencyViolation = "AtomicConsistencyViolation";
    public const string SidecarDown = "AtomicSidecarDown";

    /// <summary>The conditions that hold for <paramref name="inputs"/> under <paramref name="thresholds"/>.</summary>
    public static IReadOnlyList<AlertCondition> Evaluate(AlertInputs inputs, AlertThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(thresholds);
        var holding = new List<AlertCondition>();
        if (inputs.BroadcastCount > 0
            && inputs.ProcessingSeconds / inputs.BroadcastCount is double mean && mean > thresholds.ProcessingSeconds)
        {
            holding.Add(new(ProcessingSlow, "warning", mean, thresholds.ProcessingSeconds,
                Text($"transactions take {mean:0.##} s on average from acceptance to broadcast (over {thresholds.ProcessingSeconds} s)")));
        }

        long verifications = inputs.Verified + inputs.Rejected;
        if (verifications > 0 && (double)inputs.Rejected / verifications is double failures && failures > thresholds.ValidationFailureRate)
        {
            holding.Add(new(ValidationFailureRateHigh, "warning", failures, thresholds.ValidationFailureRate,
                Text($"{failures:P1} of SPV verifications are rejected (over {thresholds.ValidationFailureRate:P0})")));
        }

        if (inputs.ArcDecided > 0
            && (double)inputs.ArcAccepted / inputs.ArcDecided is double acceptance && acceptance < thresholds.NetworkAcceptance)
        {
            holding.Add(new(NetworkAcceptanceLow, "critical", acceptance, thresholds.NetworkAcceptance,
                Text($"ARC accepts {acceptance:P1} of broadcasts (under {thresholds.NetworkAcceptance:P0})")));
        }

        if (inputs.BroadcastP99Seconds is double p99 && p99 > thresholds.BroadcastP99Seconds)
        {
            holding.Add(new(BroadcastSlow, "warning", p99, thresholds.BroadcastP99Seconds,
                Text($"the 99th percentile of ARC broadcast calls is {p99:0.##} s (over {thresholds.BroadcastP99Seconds} s)")));
        }

        foreach (QueueDepth queue in inputs.Queues)
        {
            if (queue.Pending > thresholds.PubSubBacklog)
            {
                string name = $"{PubSubBacklog}:{queue.PubSub}/{queue.Topic}/{queue.Consumer}";
                holding.Add(new(name, "warning", queue.Pending, thresholds.PubSubBacklog,
                    Text($"{queue.Pending} deliveries of {queue.Topic} pending for {queue.Consumer} (over {thresholds.PubSubBacklog})")));
            }
        }

        // Any violation fires at once (for: 0m), until a check finds none.
        if (inputs.ConsistencyViolations is int violations && violations > 0)
        {
            holding.Add(new(ConsistencyViolation, "critical", violations, 0,
                Text($"the last consistency check found {violations} violation(s): GET /v1/check for them"), TimeSpan.Zero));
        }

        if (inputs.SidecarUp is false)
        {
            holding.Add(new(SidecarDown, "critical", 0, 1, "the sidecar does not answer its health endpoint (/v1.0/healthz)", TimeSpan.FromMinutes(1)));
        }

        return holding;
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Applies the rules' <c>for</c>: a condition is pending from the first evaluation that finds it until it has held
/// for <c>for</c>, then firing; an evaluation that does not find it forgets it. Evaluations happen when the status is
/// read and every <see cref="OperationsOptions.AlertEvaluationSeconds"/> (<see cref="AlertLoop"/>); the time between two
/// counts as held, as between two of Prometheus' evaluations.
/// </summary>
public sealed class AlertTracker
{
    private readonly Dictionary<string, DateTimeOffset> _since = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public IReadOnlyList<AlertView> Update(IReadOnlyList<AlertCondition> holding, DateTimeOffset now, TimeSpan holdFor)
    {
        ArgumentNullException.ThrowIfNull(holding);
        var views = new List<AlertView>(holding.Count);
        lock (_gate)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (AlertCondition condition in holding)
            {
                seen.Add(condition.Name);
                if (!_since.TryGetValue(condition.Name, out DateTimeOffset since))
                {
                    _since[condition.Name] = since = now;
                }

                string state = now - since >= (condition.HoldFor ?? holdFor) ? "firing" : "pending";
                views.Add(new AlertView(
                    condition.Name, state, condition.Severity, condition.Value, condition.Threshold, condition.Summary, since));
            }

            foreach (string name in _since.Keys.Where(n => !seen.Contains(n)).ToList())
            {
                _since.Remove(name);
            }
        }

        return views;
    }
}
