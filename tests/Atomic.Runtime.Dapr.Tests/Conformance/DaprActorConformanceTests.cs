using Atomic.Runtime.Actors;
using Atomic.Runtime.Dapr.Tests.Fakes;
using Atomic.Runtime.Tests.Actors;

namespace Atomic.Runtime.Dapr.Tests.Conformance;

/// <summary>
/// The actor conformance suite, unchanged, against <see cref="Actors.DaprActorRuntime"/>: each start is a new app on
/// Kestrel attached to one <see cref="FakeSidecar"/> (on the suite's clock) that keeps actor state and reminders across
/// app restarts, places the actors, fires timers and reminders, deactivates idle actors and lets a call chain re-enter
/// an actor by its <c>Dapr-Reentrancy-Id</c>.
/// </summary>
public sealed class DaprActorConformanceTests : ActorConformance
{
    private FakeSidecar? _sidecar;

    /// <summary>The actor runs behind the sidecar: its exception arrives as a problem body (type name and message).</summary>
    protected override bool FailuresCrossAProcess => true;

    private FakeSidecar Sidecar => _sidecar ?? throw new InvalidOperationException("no runtime was started");

    protected override async Task<ActorRuntimeUnderTest> StartRuntimeAsync(ActorRuntimeOptions options, TimeProvider time)
    {
        _sidecar ??= await FakeSidecar.StartAsync(new FakeSidecarOptions { Time = time, AppId = options.AppId, ApiToken = "sidecar-token", AppApiToken = "app-token" });
        DaprActorApp app = await DaprActorApp.StartAsync(_sidecar, options, time);
        return new ActorRuntimeUnderTest(app.Runtime, app.Runtime, app.Runtime, app.DisposeAsync);
    }

    protected override Task<string?> StoredStateAsync(string key) => Task.FromResult(Sidecar.StoredJson(Sidecar.Options.ActorStateStore, key));

    protected override (int Reads, int Transactions) StateTraffic() => (Sidecar.ActorStateReads, Sidecar.ActorStateTransactions);

    protected override async Task<IReadOnlyList<string>> StoredRemindersAsync()
    {
        await Sidecar.WhenActorCallsSettledAsync(ActorProbe.Patience);
        return Sidecar.ReminderNames();
    }

    protected override async Task AssertStoredScheduleAsync(string actorType, string actorId, string name, DateTimeOffset dueAt, DateTimeOffset lastFiredAt, TimeSpan period, byte[] data)
    {
        await Sidecar.WhenActorCallsSettledAsync(ActorProbe.Patience);
        (DateTimeOffset DueAt, DateTimeOffset? LastFiredAt, TimeSpan? Period, string? DataJson) schedule = Sidecar.ReminderSchedule(actorType, actorId, name)!.Value;
        schedule.DueAt.Should().Be(dueAt);
        schedule.LastFiredAt.Should().Be(lastFiredAt);
        schedule.Period.Should().Be(period);
        schedule.DataJson.Should().Be($"{{\"atomic.base64\":\"{Convert.ToBase64String(data)}\"}}", "bytes that are not JSON travel wrapped, as state values do");
    }

    protected override async Task CloseAsync()
    {
        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }
    }
}
