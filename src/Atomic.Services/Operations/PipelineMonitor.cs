using System.Diagnostics.Metrics;
using System.Text.Json.Serialization;
using Atomic.Services.Pipeline;

namespace Atomic.Services.Operations;

/// <summary>Deliveries held and not yet settled for one pub/sub, topic and consumer (the gauge <c>atomic.pubsub.pending</c>).</summary>
public sealed record QueueDepth(
    [property: JsonPropertyName("pubsub")] string PubSub,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("consumer")] string Consumer,
    [property: JsonPropertyName("pending")] long Pending);

/// <summary>Transactions a topic manager examined, and admitted, since this process started.</summary>
public sealed record TopicCount(
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("examined")] long Examined,
    [property: JsonPropertyName("admitted")] long Admitted);

/// <summary>
/// Listens to the pipeline's own meter (<see cref="Telemetry"/>, what <c>GET /metrics</c> exports) and keeps the last
/// minutes of it per second (<see cref="RollingCounters"/>), for <c>GET /v1/status</c>. The meter is the process's, so
/// these are the process's numbers, as <c>/metrics</c>' are. The listener's callbacks run on the pipeline's path: they
/// read the tags without allocating and take one short lock.
/// </summary>
public sealed class PipelineMonitor : IDisposable
{
    /// <summary>The gauge the host owns (<c>Atomic.Server</c>'s telemetry), on the pipeline's meter.</summary>
    public const string PendingGauge = "atomic.pubsub.pending";

    private readonly MeterListener _listener = new();
    private readonly RollingCounters _counters = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, long[]> _topics = new(StringComparer.Ordinal);
    private readonly Lock _collecting = new();
    private List<QueueDepth>? _queues;

    public PipelineMonitor(TimeProvider time)
    {
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Telemetry.Name && Reads(instrument))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnLong);
        _listener.SetMeasurementEventCallback<double>(OnDouble);
        _listener.SetMeasurementEventCallback<int>(OnInt);
        _listener.Start();
    }

    internal RollingCounters Counters => _counters;

    /// <summary>The current second, as the counters number them.</summary>
    public long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Reads the pending-deliveries gauge now (empty where the host has none, as under an outside sidecar).</summary>
    public IReadOnlyList<QueueDepth> Queues()
    {
        lock (_collecting)
        {
            _queues = [];
            _listener.RecordObservableInstruments();
            List<QueueDepth> queues = _queues;
            _queues = null;
            return queues;
        }
    }

    /// <summary>The topics seen examining transactions, by name.</summary>
    public IReadOnlyList<TopicCount> Topics()
    {
        var topics = new List<TopicCount>();
        lock (_topics)
        {
            foreach ((string topic, long[] counts) in _topics)
            {
                topics.Add(new TopicCount(topic, counts[0], counts[1]));
            }
        }

        topics.Sort((a, b) => string.CompareOrdinal(a.Topic, b.Topic));
        return topics;
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>
    /// The instruments the status reads; the others (the SPV duration, say) cost it nothing. By name: an instrument is
    /// published while <see cref="Telemetry"/>'s static fields are still being assigned, before its field holds it.
    /// </summary>
    private static bool Reads(Instrument instrument) => instrument.Name is
        "atomic.beef.accepted" or "atomic.spv.outcomes" or "atomic.broadcast.outcomes" or "atomic.broadcast.duration"
        or "atomic.tx.processing.duration" or "atomic.topic.admissions" or PendingGauge;

    private void OnLong(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        long now = Now;
        if (ReferenceEquals(instrument, Telemetry.BeefAccepted))
        {
            _counters.Add(now, RollingCounters.Field.Accepted, value);
        }
        else if (ReferenceEquals(instrument, Telemetry.SpvOutcomes))
        {
            _counters.Add(now, Tag(tags, "outcome") == "rejected" ? RollingCounters.Field.Rejected : RollingCounters.Field.Verified, value);
        }
        else if (ReferenceEquals(instrument, Telemetry.BroadcastOutcomes))
        {
            string? verdict = Tag(tags, "verdict");
            if (verdict != "Pending")
            {
                _counters.Add(now, RollingCounters.Field.ArcDecided, value);
            }

            if (verdict == "Accepted")
            {
                _counters.Add(now, RollingCounters.Field.ArcAccepted, value);
            }
        }
        else if (ReferenceEquals(instrument, Telemetry.TopicAdmissions) && Tag(tags, "topic") is string topic)
        {
            lock (_topics)
            {
                if (!_topics.TryGetValue(topic, out long[]? counts))
                {
                    _topics[topic] = counts = new long[2];
                }

                counts[0] += value;
                if (Tag(tags, "outcome") == "admitted")
                {
                    counts[1] += value;
                }
            }
        }
    }

    private void OnDouble(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        long now = Now;
        if (ReferenceEquals(instrument, Telemetry.ProcessingDuration))
        {
            switch (Tag(tags, "stage"))
            {
                case "broadcast":
                    _counters.Add(now, RollingCounters.Field.Broadcast);
                    _counters.Add(now, RollingCounters.Field.ProcessingMicros, (long)(value * 1_000_000));
                    _counters.Observe(now, RollingCounters.ProcessingBuckets, value);
                    break;
                case "mined":
                    _counters.Add(now, RollingCounters.Field.Mined);
                    break;
            }
        }
        else if (ReferenceEquals(instrument, Telemetry.BroadcastDuration))
        {
            _counters.Observe(now, RollingCounters.ArcBuckets, value);
        }
    }

    private void OnInt(Instrument instrument, int value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        // Called only inside Queues(), which holds _collecting.
        if (instrument.Name == PendingGauge && _queues is List<QueueDepth> queues)
        {
            queues.Add(new QueueDepth(Tag(tags, "pubsub") ?? "", Tag(tags, "topic") ?? "", Tag(tags, "consumer") ?? "", value));
        }
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == key)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
