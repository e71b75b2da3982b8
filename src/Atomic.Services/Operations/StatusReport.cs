using System.Text.Json.Serialization;

namespace Atomic.Services.Operations;

/// <summary>
/// <c>GET /v1/status</c>'s answer: how the pipeline is doing in this process now. Rates and latencies cover the last
/// <see cref="WindowSeconds"/>; the alerts' ratios the last <see cref="AlertWindowSeconds"/>.
/// </summary>
public sealed record StatusReport(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("windowSeconds")] int WindowSeconds,
    [property: JsonPropertyName("alertWindowSeconds")] int AlertWindowSeconds,
    [property: JsonPropertyName("rates")] PipelineRates Rates,
    [property: JsonPropertyName("latency")] LatencyView Latency,
    [property: JsonPropertyName("broadcastCalls")] BroadcastCallsView BroadcastCalls,
    [property: JsonPropertyName("pubsub")] PubSubView PubSub,
    [property: JsonPropertyName("recent")] IReadOnlyList<RecentTransaction> Recent,
    [property: JsonPropertyName("topics")] IReadOnlyList<TopicCount> Topics,
    [property: JsonPropertyName("baskets")] IReadOnlyList<BasketSize> Baskets,
    [property: JsonPropertyName("sessions")] SessionsView Sessions,
    [property: JsonPropertyName("payments")] PaymentsView Payments,
    [property: JsonPropertyName("alerts")] IReadOnlyList<AlertView> Alerts);

/// <summary>Per second over the window: BEEFs accepted, SPV verdicts, and records reaching broadcast and mined.</summary>
public sealed record PipelineRates(
    [property: JsonPropertyName("accepted")] double Accepted,
    [property: JsonPropertyName("verified")] double Verified,
    [property: JsonPropertyName("rejected")] double Rejected,
    [property: JsonPropertyName("broadcast")] double Broadcast,
    [property: JsonPropertyName("mined")] double Mined);

/// <summary>Seconds from acceptance to broadcast over the window: its percentiles (from the histogram's buckets) and mean.</summary>
public sealed record LatencyView(
    [property: JsonPropertyName("submitToBroadcastP50")] double? P50,
    [property: JsonPropertyName("submitToBroadcastP99")] double? P99,
    [property: JsonPropertyName("submitToBroadcastMean")] double? Mean,
    [property: JsonPropertyName("count")] long Count);

/// <summary>ARC calls over the alert window: the share accepted (of those not pending), and the 99th percentile of one call.</summary>
public sealed record BroadcastCallsView(
    [property: JsonPropertyName("decided")] long Decided,
    [property: JsonPropertyName("acceptance")] double? Acceptance,
    [property: JsonPropertyName("p99Seconds")] double? P99Seconds);

/// <summary>Pending deliveries, in all and per pub/sub, topic and consumer.</summary>
public sealed record PubSubView(
    [property: JsonPropertyName("pending")] long Pending,
    [property: JsonPropertyName("queues")] IReadOnlyList<QueueDepth> Queues);

/// <summary>Outputs a basket holds (unspent, reserved included); null when its actor did not answer in time.</summary>
public sealed record BasketSize(
    [property: JsonPropertyName("basket")] string Basket,
    [property: JsonPropertyName("outputs")] int? Outputs);
