using System.ComponentModel.DataAnnotations;

namespace Atomic.Services.Operations;

/// <summary>
/// <c>GET /v1/status</c> and the dashboard (section <c>Atomic:Operations</c>): the windows its numbers cover, and the
/// thresholds of the alerts it evaluates, which default to those of <c>deploy/monitoring/atomic-alerts.yaml</c>.
/// </summary>
public sealed class OperationsOptions
{
    public const string Section = "Atomic:Operations";

    /// <summary>Seconds the rates and latencies cover.</summary>
    [Range(1, RollingCounters.Seconds)]
    public int WindowSeconds { get; set; } = 60;

    /// <summary>Seconds the alerts' ratios cover (the rules' <c>[5m]</c>).</summary>
    [Range(1, RollingCounters.Seconds)]
    public int AlertWindowSeconds { get; set; } = 300;

    /// <summary>How long a condition must hold before its alert fires (the rules' <c>for: 5m</c>); 0 fires at once.</summary>
    [Range(0, 86_400)]
    public int AlertForSeconds { get; set; } = 300;

    /// <summary>Seconds between two evaluations of the alerts when nobody reads the status (Prometheus' evaluation interval).</summary>
    [Range(1, 3600)]
    public int AlertEvaluationSeconds { get; set; } = 15;

    /// <summary>How many transactions the recent list holds.</summary>
    [Range(1, 10_000)]
    public int RecentTransactions { get; set; } = 50;

    public AlertThresholds Alerts { get; set; } = new();
}

/// <summary>The alert rules' thresholds; a value above (or, for acceptance, below) its threshold is a firing condition.</summary>
public sealed class AlertThresholds
{
    /// <summary><c>AtomicProcessingSlow</c>: mean seconds from acceptance to broadcast.</summary>
    public double ProcessingSeconds { get; set; } = 5;

    /// <summary><c>AtomicValidationFailureRateHigh</c>: rejected SPV verifications over all.</summary>
    public double ValidationFailureRate { get; set; } = 0.01;

    /// <summary><c>AtomicNetworkAcceptanceLow</c>: ARC's accepted verdicts over all but pending ones.</summary>
    public double NetworkAcceptance { get; set; } = 0.95;

    /// <summary><c>AtomicBroadcastSlow</c>: the 99th percentile of one ARC broadcast call, in seconds.</summary>
    public double BroadcastP99Seconds { get; set; } = 10;

    /// <summary><c>AtomicPubSubBacklog</c>: deliveries pending for one pub/sub, topic and consumer.</summary>
    public long PubSubBacklog { get; set; } = 1000;
}
