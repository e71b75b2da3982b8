using Atomic.Services.Operations;

namespace Atomic.Services.Tests.Operations;

/// <summary>The alert rules of deploy/monitoring/atomic-alerts.yaml, evaluated in process, at and just past each threshold.</summary>
public sealed class AlertRulesTests
{
    private static readonly AlertThresholds Defaults = new();

    private static AlertInputs Quiet => new(0, 0, 0, 0, 0, 0, null, []);

    private static IEnumerable<string> Holding(AlertInputs inputs) => AlertRules.Evaluate(inputs, Defaults).Select(c => c.Name);

    [Fact]
    public void With_no_traffic_nothing_fires()
    {
        Holding(Quiet).Should().BeEmpty("a ratio over no traffic is 0/0, as in Prometheus");
    }

    [Fact]
    public void Any_consistency_violation_fires_at_once_and_a_clean_check_clears_it()
    {
        Holding(Quiet with { ConsistencyViolations = 0 }).Should().BeEmpty();
        Holding(Quiet with { ConsistencyViolations = null }).Should().BeEmpty("no check has run yet");
        AlertCondition violation = AlertRules.Evaluate(Quiet with { ConsistencyViolations = 2 }, Defaults).Single();
        violation.Name.Should().Be(AlertRules.ConsistencyViolation);
        violation.Severity.Should().Be("critical");
        var tracker = new AlertTracker();
        DateTimeOffset t0 = DateTimeOffset.UnixEpoch;
        tracker.Update([violation], t0, TimeSpan.FromMinutes(5)).Single().State.Should().Be("firing", "its rule's for is 0m");
        tracker.Update([], t0.AddMinutes(10), TimeSpan.FromMinutes(5)).Should().BeEmpty();
    }

    [Fact]
    public void A_sidecar_that_does_not_answer_fires_after_a_minute()
    {
        Holding(Quiet with { SidecarUp = true }).Should().BeEmpty();
        Holding(Quiet with { SidecarUp = null }).Should().BeEmpty("not probed yet");
        AlertCondition down = AlertRules.Evaluate(Quiet with { SidecarUp = false }, Defaults).Single();
        down.Name.Should().Be(AlertRules.SidecarDown);
        var tracker = new AlertTracker();
        DateTimeOffset t0 = DateTimeOffset.UnixEpoch;
        tracker.Update([down], t0, TimeSpan.FromMinutes(5)).Single().State.Should().Be("pending");
        tracker.Update([down], t0.AddSeconds(59), TimeSpan.FromMinutes(5)).Single().State.Should().Be("pending");
        tracker.Update([down], t0.AddMinutes(1), TimeSpan.FromMinutes(5)).Single().State.Should().Be("firing", "its rule's for is 1m, not the others' 5m");
    }

    [Fact]
    public void Processing_fires_above_five_seconds_on_average_not_at_five()
    {
        Holding(Quiet with { BroadcastCount = 4, ProcessingSeconds = 20 }).Should().BeEmpty();
        Holding(Quiet with { BroadcastCount = 4, ProcessingSeconds = 20.01 }).Should().Equal(AlertRules.ProcessingSlow);
    }

    [Fact]
    public void Validation_failures_fire_above_one_percent_not_at_one()
    {
        Holding(Quiet with { Verified = 99, Rejected = 1 }).Should().BeEmpty();
        Holding(Quiet with { Verified = 98, Rejected = 2 }).Should().Equal(AlertRules.ValidationFailureRateHigh);
        AlertRules.Evaluate(Quiet with { Verified = 98, Rejected = 2 }, Defaults).Single().Value.Should().Be(0.02);
    }

    [Fact]
    public void Network_acceptance_fires_below_ninety_five_percent_not_at_it()
    {
        Holding(Quiet with { ArcAccepted = 95, ArcDecided = 100 }).Should().BeEmpty();
        Holding(Quiet with { ArcAccepted = 94, ArcDecided = 100 }).Should().Equal(AlertRules.NetworkAcceptanceLow);
        AlertRules.Evaluate(Quiet with { ArcAccepted = 0, ArcDecided = 1 }, Defaults).Single().Severity.Should().Be("critical");
    }

    [Fact]
    public void Broadcast_latency_fires_above_ten_seconds_at_the_99th_percentile_not_at_ten()
    {
        Holding(Quiet with { BroadcastP99Seconds = 10 }).Should().BeEmpty();
        Holding(Quiet with { BroadcastP99Seconds = 10.5 }).Should().Equal(AlertRules.BroadcastSlow);
    }

    [Fact]
    public void A_pubsub_backlog_fires_per_queue_above_a_thousand_not_at_it()
    {
        QueueDepth full = new("pubsub", "beef.submitted", "atomic-server", 1000);
        Holding(Quiet with { Queues = [full] }).Should().BeEmpty();

        AlertCondition backlog = AlertRules.Evaluate(Quiet with { Queues = [full, full with { Topic = "beef.verified", Pending = 1001 }] }, Defaults).Single();
        backlog.Name.Should().Be($"{AlertRules.PubSubBacklog}:pubsub/beef.verified/atomic-server");
        backlog.Value.Should().Be(1001);
    }

    [Fact]
    public void Thresholds_come_from_the_options()
    {
        var strict = new AlertThresholds { ProcessingSeconds = 1 };

        AlertRules.Evaluate(Quiet with { BroadcastCount = 1, ProcessingSeconds = 2 }, strict).Select(c => c.Name).Should().Equal(AlertRules.ProcessingSlow);
    }

    [Fact]
    public void An_alert_is_pending_until_its_condition_held_for_the_rules_for_then_firing_and_forgotten_when_it_stops()
    {
        var tracker = new AlertTracker();
        var start = new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
        IReadOnlyList<AlertCondition> slow = AlertRules.Evaluate(Quiet with { BroadcastP99Seconds = 11 }, Defaults);
        TimeSpan holdFor = TimeSpan.FromMinutes(5);

        tracker.Update(slow, start, holdFor).Single().State.Should().Be("pending");
        tracker.Update(slow, start.AddMinutes(4), holdFor).Single().State.Should().Be("pending");
        AlertView firing = tracker.Update(slow, start.AddMinutes(5), holdFor).Single();
        firing.State.Should().Be("firing");
        firing.Since.Should().Be(start);

        tracker.Update([], start.AddMinutes(6), holdFor).Should().BeEmpty();
        tracker.Update(slow, start.AddMinutes(7), holdFor).Single().State.Should().Be("pending", "a condition that stopped starts over");
    }
}

public sealed class AlertLoopTests
{
    private static AlertView View(string name, string state) => new(name, state, "warning", 1, 0, name, DateTimeOffset.UnixEpoch);

    [Fact]
    public void The_loop_reports_an_alert_once_when_it_starts_firing_and_once_when_it_stops()
    {
        var firing = new HashSet<string>();

        var first = AlertLoop.Changes(firing, [View("A", "firing"), View("B", "pending")]);
        first.Started.Select(v => v.Name).Should().Equal("A");
        first.Stopped.Should().BeEmpty();

        var again = AlertLoop.Changes(firing, [View("A", "firing"), View("B", "firing")]);
        again.Started.Select(v => v.Name).Should().Equal(new[] { "B" }, "A was reported already");

        var resolved = AlertLoop.Changes(firing, [View("B", "firing")]);
        resolved.Started.Should().BeEmpty();
        resolved.Stopped.Should().Equal("A");
    }
}
