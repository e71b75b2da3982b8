using System.Diagnostics;
using Atomic.Services.Operations;
using Atomic.Services.Pipeline;

namespace Atomic.Services.Tests.Operations;

public sealed class PipelineMonitorTests
{
    /// <summary>A clock stopped at one second of the year 2100, which no other test's measurements are counted at.</summary>
    private sealed class StoppedClock : TimeProvider
    {
        public static readonly DateTimeOffset At = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => At;
    }

    [Fact]
    public void The_monitor_counts_the_pipelines_measurements_by_their_tags()
    {
        using var monitor = new PipelineMonitor(new StoppedClock());
        Telemetry.BeefAccepted.Add(1, new TagList { { "route", "/v1/beef" } });
        Telemetry.SpvOutcomes.Add(1, new KeyValuePair<string, object?>("outcome", "rejected"), new KeyValuePair<string, object?>("code", "SCRIPT_FAILED"));
        Telemetry.ProcessingDuration.Record(2.0, new KeyValuePair<string, object?>("stage", "broadcast"));
        Telemetry.BroadcastOutcomes.Add(1, new KeyValuePair<string, object?>("verdict", "Accepted"));
        Telemetry.BroadcastDuration.Record(0.2, new KeyValuePair<string, object?>("verdict", "Accepted"));
        Telemetry.TopicAdmissions.Add(1, new TagList { { "topic", "tm_monitor_test" }, { "outcome", "admitted" } });

        Span<long> sum = stackalloc long[RollingCounters.Width];
        monitor.Counters.Sum(StoppedClock.At.ToUnixTimeSeconds(), 1, sum);

        // The meter is the process's: other tests running now may add to these, never take away.
        sum[(int)RollingCounters.Field.Accepted].Should().BeGreaterThanOrEqualTo(1);
        sum[(int)RollingCounters.Field.Rejected].Should().BeGreaterThanOrEqualTo(1);
        sum[(int)RollingCounters.Field.Broadcast].Should().BeGreaterThanOrEqualTo(1);
        sum[(int)RollingCounters.Field.ProcessingMicros].Should().BeGreaterThanOrEqualTo(2_000_000);
        sum[RollingCounters.ProcessingBuckets + RollingCounters.Bucket(2.0)].Should().BeGreaterThanOrEqualTo(1);
        sum[(int)RollingCounters.Field.ArcAccepted].Should().BeGreaterThanOrEqualTo(1);
        sum[RollingCounters.ArcBuckets + RollingCounters.Bucket(0.2)].Should().BeGreaterThanOrEqualTo(1);
        monitor.Topics().Should().ContainSingle(t => t.Topic == "tm_monitor_test").Which.Admitted.Should().Be(1);
    }

    [Fact]
    public void Without_the_hosts_gauge_the_monitor_reads_no_queues()
    {
        using var monitor = new PipelineMonitor(TimeProvider.System);

        monitor.Queues().Should().BeEmpty("the pending gauge belongs to Atomic.Server, which this test does not load");
    }
}
