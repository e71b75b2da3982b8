using System.Text;
using Atomic.Runtime.Actors;

namespace Atomic.Runtime.Tests.Actors;

/// <summary>
/// The actor conformance suite: turn-based concurrency, state committed per turn, timers, durable reminders, idle
/// deactivation and reentrancy, run against every actor runtime (the embedded one on every state store, and the Dapr
/// one through its sidecar). Time is a <see cref="ManualTimeProvider"/>, so schedules fire exactly when the test moves
/// the clock. What the suite looks at behind a runtime (stored state, stored reminders, store traffic) it asks of the
/// implementation through the abstract members.
/// </summary>
public abstract class ActorConformance : IAsyncLifetime
{
    protected const string AppId = "atomic-test";
    private const string Test = "Test";
    private const string Reentrant = "Reentrant";

    private readonly List<ActorRuntimeUnderTest> _runtimes = [];

    private protected ManualTimeProvider Clock { get; } = new();

    private protected ActorProbe Probe { get; } = new();

    /// <summary>
    /// Starts a runtime serving <paramref name="options"/>' actor types on <paramref name="time"/>; a runtime started
    /// later in the same test finds what the earlier ones committed and registered, as a restarted process would.
    /// </summary>
    protected abstract Task<ActorRuntimeUnderTest> StartRuntimeAsync(ActorRuntimeOptions options, TimeProvider time);

    /// <summary>The JSON stored for actor state under its Dapr key (<c>{appId}||{type}||{id}||{key}</c>), or null.</summary>
    protected abstract Task<string?> StoredStateAsync(string key);

    /// <summary>How many actor state reads and transactions the store has seen so far.</summary>
    protected abstract (int Reads, int Transactions) StateTraffic();

    /// <summary>The reminders stored now, as <c>{type}||{id}||{name}</c> in ordinal order.</summary>
    protected abstract Task<IReadOnlyList<string>> StoredRemindersAsync();

    /// <summary>Checks the stored schedule of a periodic reminder: when it fires next, when it last fired, its period and data.</summary>
    protected abstract Task AssertStoredScheduleAsync(string actorType, string actorId, string name, DateTimeOffset dueAt, DateTimeOffset lastFiredAt, TimeSpan period, byte[] data);

    /// <summary>Whether an actor's exception reaches its caller from another process, as its type name and message only (no inner exception).</summary>
    protected virtual bool FailuresCrossAProcess => false;

    /// <summary>Releases what the runtimes used, after every runtime has stopped.</summary>
    protected virtual Task CloseAsync() => Task.CompletedTask;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (ActorRuntimeUnderTest runtime in _runtimes)
        {
            await runtime.DisposeAsync();
        }

        await CloseAsync();
    }

    [Fact]
    public async Task A_method_called_by_name_answers_its_JSON_response()
    {
        ActorRuntimeUnderTest runtime = await StartAsync();

        (await runtime.InvokeAsync<EchoRequest, EchoResponse>(Test, "a", "EchoAsync", new EchoRequest("ab", 3))).Should().Be(new EchoResponse("ababab", "a"));
        (await runtime.InvokeAsync<EchoRequest, EchoResponse>(Test, "a", "Echo", new EchoRequest("x", 1))).Text.Should().Be("x", "the Async suffix may be left off");
        (await runtime.InvokeAsync<int, int>(Test, "a", "Add", 5)).Should().Be(5);
        (await runtime.InvokeAsync<int>(Test, "a", "GetCount")).Should().Be(5);

        ReadOnlyMemory<byte> raw = await runtime.InvokeMethodAsync(Test, "a", "Echo", Encoding.UTF8.GetBytes("""{"text":"q","times":2}"""));
        Encoding.UTF8.GetString(raw.Span).Should().Be("""{"text":"qq","actorId":"a"}""");
        (await runtime.InvokeMethodAsync(Test, "a", "Add", Encoding.UTF8.GetBytes("1"))).Length.Should().BeGreaterThan(0);
        (await runtime.InvokeMethodAsync(Test, "a", "StopTimer", Encoding.UTF8.GetBytes("\"none\""))).IsEmpty.Should().BeTrue("a method returning Task answers nothing");
    }

    [Fact]
    public async Task Concurrent_calls_to_one_actor_never_overlap()
    {
        ActorRuntimeUnderTest runtime = await StartAsync();
        const int Calls = 200;

        int[] results = await Task.WhenAll(Enumerable.Range(0, Calls).Select(_ => Task.Run(() => runtime.InvokeAsync<int>(Test, "one", "Serial"))));

        Probe.MaxRunning.Should().Be(1, "two turns of one actor must never run at once");
        results.Should().BeEquivalentTo(Enumerable.Range(1, Calls), "each turn sees every earlier turn's committed state");
    }

    [Fact]
    public async Task Calls_to_different_actors_run_in_parallel()
    {
        ActorRuntimeUnderTest runtime = await StartAsync();

        // Each call waits until another call is running at the same time, so this completes only if they overlap.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => runtime.InvokeAsync(Test, $"p{i}", "Overlap"))));

        Probe.MaxRunning.Should().BeGreaterThanOrEqualTo(2);
    }

    [Fact]
    public async Task State_is_committed_at_the_end_of_the_turn_under_Dapr_keys_and_a_new_runtime_reads_it()
    {
        ActorRuntimeUnderTest first = await StartAsync();
        await first.InvokeAsync(Test, "a", "Add", 2);
        await first.InvokeAsync(Test, "a", "Add", 3);

        (await StoredStateAsync($"{AppId}||{Test}||a||count")).Should().Be("5");
        await first.DisposeAsync();

        ActorRuntimeUnderTest second = await StartAsync();
        (await second.InvokeAsync<int>(Test, "a", "GetCount")).Should().Be(5);
        Probe.Count($"activate:{Test}/a").Should().Be(2);
    }

    [Fact]
    public async Task The_state_manager_keeps_dictionary_rules_and_values_round_trip_as_JSON()
    {
        ActorRuntimeUnderTest first = await StartAsync();

        (await first.InvokeAsync<string>(Test, "a", "StateRules")).Should().Be(
            "contains:False tryAdd:True tryAddAgain:False get:v1 getOrAdd:v1 update:v1+ tryRemove:True tryRemoveAgain:False tryGet:False getMissing:KeyNotFound addExisting:InvalidOperation");
        await first.DisposeAsync();

        ActorRuntimeUnderTest second = await StartAsync();
        (await second.InvokeAsync<EchoRequest>(Test, "a", "GetKept")).Should().Be(new EchoRequest("kept", 2));
    }

    [Fact]
    public async Task A_throwing_turn_discards_its_state_changes_and_the_caller_sees_the_exception()
    {
        ActorRuntimeUnderTest first = await StartAsync();
        await first.InvokeAsync(Test, "a", "Add", 1);

        ActorInvocationException error = (await FluentActions.Invoking(() => first.InvokeAsync(Test, "a", "AddThenFail", 10))
            .Should().ThrowAsync<ActorInvocationException>()).Which;
        if (!FailuresCrossAProcess)
        {
            error.InnerException.Should().BeOfType<InvalidOperationException>();
        }

        error.ErrorType.Should().Be(typeof(InvalidOperationException).FullName);
        error.ErrorMessage.Should().Be("boom");
        error.Method.Should().Be("AddThenFail");
        error.ActorType.Should().Be(Test);
        error.ActorId.Should().Be("a");

        (await first.InvokeAsync<int>(Test, "a", "GetCount")).Should().Be(1);
        (await StoredStateAsync($"{AppId}||{Test}||a||note")).Should().BeNull();
        await first.DisposeAsync();

        ActorRuntimeUnderTest second = await StartAsync();
        (await second.InvokeAsync<int>(Test, "a", "GetCount")).Should().Be(1);
    }

    [Fact]
    public async Task An_active_actor_reads_each_key_once_and_a_turn_that_changes_nothing_writes_nothing()
    {
        ActorRuntimeUnderTest runtime = await StartAsync();

        await runtime.InvokeAsync(Test, "a", "Add", 1);
        StateTraffic().Should().Be((1, 1));

        for (int i = 0; i < 10; i++)
        {
            await runtime.InvokeAsync<int>(Test, "a", "GetCount");
            await runtime.InvokeAsync<EchoRequest, EchoResponse>(Test, "a", "Echo", new EchoRequest("x", 1));
        }

        StateTraffic().Should().Be((1, 1));
        await runtime.InvokeAsync(Test, "a", "Add", 1);
        StateTraffic().Should().Be((1, 2));
    }

    [Fact]
    public async Task Timers_fire_as_turns_until_unregistered_and_a_one_shot_timer_fires_once()
    {
        ActorRuntimeUnderTest runtime = await StartAsync();
        await runtime.InvokeAsync(Test, "a", "StartTimer", new TimerRequest("t", 10, 10));
        await runtime.InvokeAsync(Test, "a", "StartTimer", new TimerRequest("once", 5, null));

        Clock.Advance(TimeSpan.FromSeconds(5));
        await Probe.WaitForAsync("tick:a:once");
        Clock.Advance(TimeSpan.FromSeconds(5));
        await Probe.WaitForAsync("tick:a:t", 1);
        Clock.Advance(TimeSpan.FromSeconds(10));
        await Probe.WaitForAsync("tick:a:t", 2);

        await runtime.InvokeAsync(Test, "a", "StopTimer", "t");
        Clock.Advance(TimeSpan.FromSeconds(60));

        // Each firing was a turn that committed its state change.
        (await runtime.InvokeAsync<int>(Test, "a", "GetTicks")).Should().Be(3);
        Probe.Count("tick:a:t").Should().Be(2);
        Probe.Count("tick:a:once").Should().Be(1);
    }

    [Fact]
    public async Task Timers_stop_when_their_actor_is_deactivated()
    {
        ActorRuntimeUnderTest runtime = await StartAsync(type => type.IdleTimeout = TimeSpan.FromSeconds(10));
        await runtime.InvokeAsync(Test, "a", "StartTimer", new TimerRequest("t", 4, 20));
        Clock.Advance(TimeSpan.FromSeconds(4));
        await Probe.WaitForAsync("tick:a:t");
        (await runtime.InvokeAsync<int>(Test, "a", "GetTicks")).Should().Be(1); // after the timer's turn; last use now

        Clock.Advance(TimeSpan.FromSeconds(11));
        await Probe.WaitForAsync($"deactivate:{Test}/a");
        Clock.Advance(TimeSpan.FromSeconds(60));

        (await runtime.InvokeAsync<int>(Test, "a", "GetTicks")).Should().Be(1);
        Probe.Count("tick:a:t").Should().Be(1);
    }

    [Fact]
    public async Task Reminders_fire_periodic_ones_repeat_and_unregistering_stops_them()
    {
        ActorRuntimeUnderTest runtime = await StartAsync();
        await runtime.InvokeAsync(Test, "a", "Remind", new ReminderRequest("once", 5, null, "x"));
        await runtime.InvokeAsync(Test, "a", "Remind", new ReminderRequest("every", 10, 10, "y"));
        (await StoredRemindersAsync()).Should().Equal($"{Test}||a||every", $"{Test}||a||once");
        (await runtime.GetReminderAsync(Test, "a", "every"))!.Period.Should().Be(TimeSpan.FromSeconds(10));

        Clock.Advance(TimeSpan.FromSeconds(5));
        await Probe.WaitForAsync("remind:a:once:x");
        Clock.Advance(TimeSpan.FromSeconds(5));
        await Probe.WaitForAsync("remind:a:every:y", 1);
        Clock.Advance(TimeSpan.FromSeconds(10));
        await Probe.WaitForAsync("remind:a:every:y", 2);

        await runtime.InvokeAsync(Test, "a", "Forget", "every");
        (await runtime.GetReminderAsync(Test, "a", "every")).Should().BeNull();
        Clock.Advance(TimeSpan.FromSeconds(60));
        await runtime.DisposeAsync(); // drains deliveries in flight

        Probe.Count("remind:a:every:y").Should().Be(2);
        Probe.Count("remind:a:once:x").Should().Be(1);
        (await StoredRemindersAsync()).Should().BeEmpty("a fired one-shot reminder and an unregistered one are deleted");
    }

    [Fact]
    public async Task An_overdue_reminder_fires_once_after_a_restart()
    {
        ActorRuntimeUnderTest first = await StartAsync();
        await first.InvokeAsync(Test, "a", "Remind", new ReminderRequest("later", 60, null, "z"));
        await first.DisposeAsync();
        Probe.Count("remind:a:later:z").Should().Be(0);

        Clock.Advance(TimeSpan.FromMinutes(5));
        ActorRuntimeUnderTest second = await StartAsync();
        await Probe.WaitForAsync("remind:a:later:z");
        await second.DisposeAsync();

        Probe.Count("remind:a:later:z").Should().Be(1);
        (await StoredRemindersAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_periodic_reminder_fires_once_for_the_periods_missed_while_stopped_and_then_keeps_its_schedule()
    {
        DateTimeOffset registeredAt = Clock.GetUtcNow();
        ActorRuntimeUnderTest first = await StartAsync();
        await first.InvokeAsync(Test, "a", "Remind", new ReminderRequest("beat", 60, 60, "b"));
        await first.DisposeAsync();

        Clock.Advance(TimeSpan.FromSeconds(330));
        ActorRuntimeUnderTest second = await StartAsync();
        await Probe.WaitForAsync("remind:a:beat:b", 1);
        Clock.Advance(TimeSpan.FromSeconds(30));
        await Probe.WaitForAsync("remind:a:beat:b", 2);
        await second.DisposeAsync();

        Probe.Count("remind:a:beat:b").Should().Be(2);
        await AssertStoredScheduleAsync(Test, "a", "beat", registeredAt + TimeSpan.FromMinutes(7), registeredAt + TimeSpan.FromMinutes(6), TimeSpan.FromMinutes(1), "b"u8.ToArray());
    }

    [Fact]
    public async Task An_idle_actor_is_deactivated_and_a_later_call_reactivates_it_with_its_state()
    {
        ActorRuntimeUnderTest runtime = await StartAsync(configure: options => options.IdleTimeout = TimeSpan.FromSeconds(10));
        await runtime.InvokeAsync(Test, "a", "Add", 7);
        await runtime.InvokeAsync(Test, "b", "Add", 1);
        Clock.Advance(TimeSpan.FromSeconds(5));
        await runtime.InvokeAsync(Test, "b", "Add", 1);

        Clock.Advance(TimeSpan.FromSeconds(6));
        await Probe.WaitForAsync($"deactivate:{Test}/a");
        Probe.Count($"deactivate:{Test}/b").Should().Be(0, "b was used 6 seconds ago");

        (await runtime.InvokeAsync<int>(Test, "a", "GetCount")).Should().Be(7);
        Probe.Count($"activate:{Test}/a").Should().Be(2);
        Probe.Count($"activate:{Test}/b").Should().Be(1);
    }

    [Fact]
    public virtual async Task A_call_chain_back_into_a_waiting_actor_fails_when_reentrancy_is_off()
    {
        ActorRuntimeUnderTest runtime = await StartAsync();

        ActorReentrancyException error = (await FluentActions.Invoking(() => runtime.InvokeAsync<string[], string>(Test, "a", "Relay", [$"{Test}/b", $"{Test}/a"]))
            .Should().ThrowAsync<ActorReentrancyException>()).Which;
        error.CallChain.Should().Be($"{Test}/a -> {Test}/b");
        await FluentActions.Invoking(() => runtime.InvokeAsync<string[], string>(Test, "a", "Relay", [$"{Test}/a"]))
            .Should().ThrowAsync<ActorReentrancyException>();

        // Nothing is left locked, and a chain that does not come back is fine.
        (await runtime.InvokeAsync<string[], string>(Test, "a", "Relay", [$"{Test}/b", $"{Test}/c"])).Should().Be($"{Test}/a<-{Test}/b<-{Test}/c");
    }

    [Fact]
    public virtual async Task A_call_chain_may_reenter_an_actor_whose_type_allows_it_up_to_the_maximum_depth()
    {
        ActorRuntimeUnderTest runtime = await StartAsync();

        (await runtime.InvokeAsync<string[], string>(Reentrant, "a", "Relay", [$"{Reentrant}/b", $"{Reentrant}/a"]))
            .Should().Be($"{Reentrant}/a<-{Reentrant}/b<-{Reentrant}/a");

        // Reentrant allows chains of 4: a -> b -> a -> b is fine, one more re-entry is not.
        (await runtime.InvokeAsync<string[], string>(Reentrant, "a", "Relay", [$"{Reentrant}/b", $"{Reentrant}/a", $"{Reentrant}/b"])).Should().NotBeNull();
        await FluentActions.Invoking(() => runtime.InvokeAsync<string[], string>(Reentrant, "a", "Relay", [$"{Reentrant}/b", $"{Reentrant}/a", $"{Reentrant}/b", $"{Reentrant}/a"]))
            .Should().ThrowAsync<ActorReentrancyException>().WithMessage("*more than the 4 allowed*");
    }

    [Fact]
    public async Task Unknown_types_and_methods_and_bad_input_are_clear_errors_that_leave_the_actor_usable()
    {
        ActorRuntimeUnderTest runtime = await StartAsync();

        (await FluentActions.Invoking(() => runtime.InvokeAsync(Test, "a", "Nope")).Should().ThrowAsync<ActorMethodNotFoundException>())
            .Which.Method.Should().Be("Nope");
        await FluentActions.Invoking(() => runtime.InvokeAsync(Test, "a", "NotAnActorMethod")).Should().ThrowAsync<ActorMethodNotFoundException>().WithMessage("*returns Int32*");
        await FluentActions.Invoking(() => runtime.InvokeAsync(Test, "a", "OnTickAsync")).Should().ThrowAsync<ActorMethodNotFoundException>("timer callbacks are not public methods");
        await FluentActions.Invoking(() => runtime.InvokeAsync(Test, "a", "ReceiveReminderAsync")).Should().ThrowAsync<ActorMethodNotFoundException>();
        await FluentActions.Invoking(() => runtime.InvokeAsync("Nobody", "a", "Echo")).Should().ThrowAsync<ActorTypeNotRegisteredException>().WithMessage("*Nobody*");
        await FluentActions.Invoking(() => runtime.InvokeAsync(Test, "", "Echo")).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Invoking(() => runtime.InvokeAsync(Test, "a||b", "Echo")).Should().ThrowAsync<ArgumentException>().WithMessage("*||*");
        await FluentActions.Invoking(() => runtime.InvokeMethodAsync(Test, "a", "Add", Encoding.UTF8.GetBytes("{not json"))).Should().ThrowAsync<ActorRequestException>();
        await FluentActions.Invoking(() => runtime.InvokeAsync(Test, "a", "StartTimer", new TimerRequest("t", 1, null, "Missing")))
            .Should().ThrowAsync<ActorMethodNotFoundException>().WithMessage("*Missing*");
        await FluentActions.Invoking(() => runtime.RegisterTimerAsync(Test, "a", new ActorTimer("t", "Missing", default, TimeSpan.Zero)))
            .Should().ThrowAsync<ActorMethodNotFoundException>();
        await FluentActions.Invoking(() => runtime.RegisterReminderAsync(Test, "a", new ActorReminder("r", default, TimeSpan.FromSeconds(-1))))
            .Should().ThrowAsync<ArgumentOutOfRangeException>();

        (await runtime.InvokeAsync<int, int>(Test, "a", "Add", 1)).Should().Be(1);
    }

    [Fact]
    public async Task Timers_reminders_and_idle_deactivation_also_run_on_the_real_clock()
    {
        ActorRuntimeUnderTest runtime = await StartAsync(
            type => type.IdleTimeout = TimeSpan.FromSeconds(3), // longer than the timer's period, which keeps a active
            options => options.ScanInterval = TimeSpan.FromMilliseconds(100),
            TimeProvider.System);
        await runtime.InvokeAsync(Test, "a", "StartTimer", new TimerRequest("t", 0, 1));
        await runtime.InvokeAsync(Test, "b", "Remind", new ReminderRequest("r", 0, 1, "x"));

        await Probe.WaitForAsync("tick:a:t", 2);
        await Probe.WaitForAsync("remind:b:r:x", 2);
        await runtime.InvokeAsync(Test, "b", "Forget", "r");
        await runtime.InvokeAsync(Test, "c", "Add", 1);
        await Probe.WaitForAsync($"deactivate:{Test}/c");
    }

    [Fact]
    public async Task Disposing_deactivates_active_actors_and_later_calls_are_refused()
    {
        ActorRuntimeUnderTest runtime = await StartAsync();
        await runtime.InvokeAsync(Test, "a", "Add", 1);

        await runtime.DisposeAsync();

        Probe.Count($"deactivate:{Test}/a").Should().Be(1);
        await FluentActions.Invoking(() => runtime.InvokeAsync(Test, "a", "Add", 1)).Should().ThrowAsync<ObjectDisposedException>();
    }

    private async Task<ActorRuntimeUnderTest> StartAsync(Action<ActorTypeOptions>? testType = null, Action<ActorRuntimeOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new ActorRuntimeOptions { AppId = AppId, ScanInterval = TimeSpan.FromSeconds(1) };
        options.Actors.RegisterActor(Test, host => new TestActor(host, Probe), testType);
        options.Actors.RegisterActor(Reentrant, host => new TestActor(host, Probe), type => type.Reentrancy = new ActorReentrancyOptions { Enabled = true, MaxStackDepth = 4 });
        configure?.Invoke(options);
        ActorRuntimeUnderTest runtime = await StartRuntimeAsync(options, time ?? Clock);
        _runtimes.Add(runtime);
        return runtime;
    }
}

/// <summary>A started runtime as the suite drives it: the actor ports, and stopping it (a process shutting down).</summary>
public sealed class ActorRuntimeUnderTest(IActorClient client, IActorReminders reminders, IActorTimers timers, Func<ValueTask> stop) : IActorClient, IActorReminders, IActorTimers, IAsyncDisposable
{
    private readonly Lazy<Task> _stopped = new(() => stop().AsTask());

    /// <summary>A runtime that is all of that in one object.</summary>
    public static ActorRuntimeUnderTest Of<T>(T runtime)
        where T : IActorClient, IActorReminders, IActorTimers, IAsyncDisposable => new(runtime, runtime, runtime, runtime.DisposeAsync);

    public Task<ReadOnlyMemory<byte>> InvokeMethodAsync(string actorType, string actorId, string method, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        client.InvokeMethodAsync(actorType, actorId, method, body, cancellationToken);

    public Task RegisterReminderAsync(string actorType, string actorId, ActorReminder reminder, CancellationToken cancellationToken = default) =>
        reminders.RegisterReminderAsync(actorType, actorId, reminder, cancellationToken);

    public Task UnregisterReminderAsync(string actorType, string actorId, string reminderName, CancellationToken cancellationToken = default) =>
        reminders.UnregisterReminderAsync(actorType, actorId, reminderName, cancellationToken);

    public Task<ActorReminder?> GetReminderAsync(string actorType, string actorId, string reminderName, CancellationToken cancellationToken = default) =>
        reminders.GetReminderAsync(actorType, actorId, reminderName, cancellationToken);

    public Task RegisterTimerAsync(string actorType, string actorId, ActorTimer timer, CancellationToken cancellationToken = default) =>
        timers.RegisterTimerAsync(actorType, actorId, timer, cancellationToken);

    public Task UnregisterTimerAsync(string actorType, string actorId, string timerName, CancellationToken cancellationToken = default) =>
        timers.UnregisterTimerAsync(actorType, actorId, timerName, cancellationToken);

    /// <summary>Stops the runtime once; stopping again waits for the first stop.</summary>
    public ValueTask DisposeAsync() => new(_stopped.Value);
}
