using System.Text;
using System.Text.Json;
using Atomic.Runtime.Actors;
using Atomic.Runtime.Embedded.Actors;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Tests.Actors;

/// <summary>
/// The actor conformance suite: turn-based concurrency, state committed per turn, timers, durable reminders, idle
/// deactivation and reentrancy, run against the embedded runtime on every state store. Time is a
/// <see cref="ManualTimeProvider"/>, so schedules fire exactly when the test moves the clock.
/// </summary>
public abstract class ActorConformance : IAsyncLifetime
{
    private const string AppId = "atomic-test";
    private const string Test = "Test";
    private const string Reentrant = "Reentrant";

    private readonly List<EmbeddedActorRuntime> _runtimes = [];

    private protected ManualTimeProvider Clock { get; } = new();

    private protected ActorProbe Probe { get; } = new();

    /// <summary>The test's state store; opening it again reaches the same data, as a restarted process would.</summary>
    protected abstract IStateStore OpenStore(TimeProvider time);

    /// <summary>Releases what <see cref="OpenStore"/> opened, after every runtime has stopped.</summary>
    protected virtual Task CloseStoresAsync() => Task.CompletedTask;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (EmbeddedActorRuntime runtime in _runtimes)
        {
            await runtime.DisposeAsync();
        }

        await CloseStoresAsync();
    }

    [Fact]
    public async Task A_method_called_by_name_answers_its_JSON_response()
    {
        EmbeddedActorRuntime runtime = await StartAsync(OpenStore(Clock));

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
        EmbeddedActorRuntime runtime = await StartAsync(OpenStore(Clock));
        const int Calls = 200;

        int[] results = await Task.WhenAll(Enumerable.Range(0, Calls).Select(_ => Task.Run(() => runtime.InvokeAsync<int>(Test, "one", "Serial"))));

        Probe.MaxRunning.Should().Be(1, "two turns of one actor must never run at once");
        results.Should().BeEquivalentTo(Enumerable.Range(1, Calls), "each turn sees every earlier turn's committed state");
    }

    [Fact]
    public async Task Calls_to_different_actors_run_in_parallel()
    {
        EmbeddedActorRuntime runtime = await StartAsync(OpenStore(Clock));

        // Each call waits until another call is running at the same time, so this completes only if they overlap.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => runtime.InvokeAsync(Test, $"p{i}", "Overlap"))));

        Probe.MaxRunning.Should().BeGreaterThanOrEqualTo(2);
    }

    [Fact]
    public async Task State_is_committed_at_the_end_of_the_turn_under_Dapr_keys_and_a_new_runtime_reads_it()
    {
        IStateStore store = OpenStore(Clock);
        EmbeddedActorRuntime first = await StartAsync(store);
        await first.InvokeAsync(Test, "a", "Add", 2);
        await first.InvokeAsync(Test, "a", "Add", 3);

        StateItem? stored = await store.GetAsync($"{AppId}||{Test}||a||count");
        Encoding.UTF8.GetString(stored!.Value.Span).Should().Be("5");
        await first.DisposeAsync();

        EmbeddedActorRuntime second = await StartAsync(OpenStore(Clock));
        (await second.InvokeAsync<int>(Test, "a", "GetCount")).Should().Be(5);
        Probe.Count($"activate:{Test}/a").Should().Be(2);
    }

    [Fact]
    public async Task The_state_manager_keeps_dictionary_rules_and_values_round_trip_as_JSON()
    {
        EmbeddedActorRuntime first = await StartAsync(OpenStore(Clock));

        (await first.InvokeAsync<string>(Test, "a", "StateRules")).Should().Be(
            "contains:False tryAdd:True tryAddAgain:False get:v1 getOrAdd:v1 update:v1+ tryRemove:True tryRemoveAgain:False tryGet:False getMissing:KeyNotFound addExisting:InvalidOperation");
        await first.DisposeAsync();

        EmbeddedActorRuntime second = await StartAsync(OpenStore(Clock));
        (await second.InvokeAsync<EchoRequest>(Test, "a", "GetKept")).Should().Be(new EchoRequest("kept", 2));
    }

    [Fact]
    public async Task A_throwing_turn_discards_its_state_changes_and_the_caller_sees_the_exception()
    {
        IStateStore store = OpenStore(Clock);
        EmbeddedActorRuntime first = await StartAsync(store);
        await first.InvokeAsync(Test, "a", "Add", 1);

        ActorInvocationException error = (await FluentActions.Invoking(() => first.InvokeAsync(Test, "a", "AddThenFail", 10))
            .Should().ThrowAsync<ActorInvocationException>()).Which;
        error.InnerException.Should().BeOfType<InvalidOperationException>();
        error.ErrorType.Should().Be(typeof(InvalidOperationException).FullName);
        error.ErrorMessage.Should().Be("boom");
        error.Method.Should().Be("AddThenFail");
        error.ActorType.Should().Be(Test);
        error.ActorId.Should().Be("a");

        (await first.InvokeAsync<int>(Test, "a", "GetCount")).Should().Be(1);
        (await store.GetAsync($"{AppId}||{Test}||a||note")).Should().BeNull();
        await first.DisposeAsync();

        EmbeddedActorRuntime second = await StartAsync(OpenStore(Clock));
        (await second.InvokeAsync<int>(Test, "a", "GetCount")).Should().Be(1);
    }

    [Fact]
    public async Task An_active_actor_reads_each_key_once_and_a_turn_that_changes_nothing_writes_nothing()
    {
        var store = new CountingStateStore(OpenStore(Clock));
        EmbeddedActorRuntime runtime = await StartAsync(store);

        await runtime.InvokeAsync(Test, "a", "Add", 1);
        (store.Reads, store.Transactions).Should().Be((1, 1));

        for (int i = 0; i < 10; i++)
        {
            await runtime.InvokeAsync<int>(Test, "a", "GetCount");
            await runtime.InvokeAsync<EchoRequest, EchoResponse>(Test, "a", "Echo", new EchoRequest("x", 1));
        }

        (store.Reads, store.Transactions).Should().Be((1, 1));
        await runtime.InvokeAsync(Test, "a", "Add", 1);
        (store.Reads, store.Transactions).Should().Be((1, 2));
    }

    [Fact]
    public async Task Timers_fire_as_turns_until_unregistered_and_a_one_shot_timer_fires_once()
    {
        EmbeddedActorRuntime runtime = await StartAsync(OpenStore(Clock));
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
        EmbeddedActorRuntime runtime = await StartAsync(OpenStore(Clock), type => type.IdleTimeout = TimeSpan.FromSeconds(10));
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
        IStateStore store = OpenStore(Clock);
        EmbeddedActorRuntime runtime = await StartAsync(store);
        await runtime.InvokeAsync(Test, "a", "Remind", new ReminderRequest("once", 5, null, "x"));
        await runtime.InvokeAsync(Test, "a", "Remind", new ReminderRequest("every", 10, 10, "y"));
        (await ReminderKeys(store)).Should().Equal($"{AppId}||actors||reminders||{Test}||a||every", $"{AppId}||actors||reminders||{Test}||a||once");
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
        (await ReminderKeys(store)).Should().BeEmpty("a fired one-shot reminder and an unregistered one are deleted");
    }

    [Fact]
    public async Task An_overdue_reminder_fires_once_after_a_restart()
    {
        EmbeddedActorRuntime first = await StartAsync(OpenStore(Clock));
        await first.InvokeAsync(Test, "a", "Remind", new ReminderRequest("later", 60, null, "z"));
        await first.DisposeAsync();
        Probe.Count("remind:a:later:z").Should().Be(0);

        Clock.Advance(TimeSpan.FromMinutes(5));
        IStateStore store = OpenStore(Clock);
        EmbeddedActorRuntime second = await StartAsync(store);
        await Probe.WaitForAsync("remind:a:later:z");
        await second.DisposeAsync();

        Probe.Count("remind:a:later:z").Should().Be(1);
        (await ReminderKeys(store)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_periodic_reminder_fires_once_for_the_periods_missed_while_stopped_and_then_keeps_its_schedule()
    {
        DateTimeOffset registeredAt = Clock.GetUtcNow();
        EmbeddedActorRuntime first = await StartAsync(OpenStore(Clock));
        await first.InvokeAsync(Test, "a", "Remind", new ReminderRequest("beat", 60, 60, "b"));
        await first.DisposeAsync();

        Clock.Advance(TimeSpan.FromSeconds(330));
        IStateStore store = OpenStore(Clock);
        EmbeddedActorRuntime second = await StartAsync(store);
        await Probe.WaitForAsync("remind:a:beat:b", 1);
        Clock.Advance(TimeSpan.FromSeconds(30));
        await Probe.WaitForAsync("remind:a:beat:b", 2);
        await second.DisposeAsync();

        Probe.Count("remind:a:beat:b").Should().Be(2);
        StateItem record = (await store.GetAsync($"{AppId}||actors||reminders||{Test}||a||beat"))!;
        using JsonDocument json = JsonDocument.Parse(record.Value);
        json.RootElement.GetProperty("dueAt").GetDateTimeOffset().Should().Be(registeredAt + TimeSpan.FromMinutes(7));
        json.RootElement.GetProperty("lastFiredAt").GetDateTimeOffset().Should().Be(registeredAt + TimeSpan.FromMinutes(6));
        json.RootElement.GetProperty("period").GetString().Should().Be("00:01:00");
        json.RootElement.GetProperty("data").GetString().Should().Be(Convert.ToBase64String("b"u8));
    }

    [Fact]
    public async Task An_idle_actor_is_deactivated_and_a_later_call_reactivates_it_with_its_state()
    {
        EmbeddedActorRuntime runtime = await StartAsync(OpenStore(Clock), configure: options => options.IdleTimeout = TimeSpan.FromSeconds(10));
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
    public async Task A_call_chain_back_into_a_waiting_actor_fails_when_reentrancy_is_off()
    {
        EmbeddedActorRuntime runtime = await StartAsync(OpenStore(Clock));

        ActorReentrancyException error = (await FluentActions.Invoking(() => runtime.InvokeAsync<string[], string>(Test, "a", "Relay", [$"{Test}/b", $"{Test}/a"]))
            .Should().ThrowAsync<ActorReentrancyException>()).Which;
        error.CallChain.Should().Be($"{Test}/a -> {Test}/b");
        await FluentActions.Invoking(() => runtime.InvokeAsync<string[], string>(Test, "a", "Relay", [$"{Test}/a"]))
            .Should().ThrowAsync<ActorReentrancyException>();

        // Nothing is left locked, and a chain that does not come back is fine.
        (await runtime.InvokeAsync<string[], string>(Test, "a", "Relay", [$"{Test}/b", $"{Test}/c"])).Should().Be($"{Test}/a<-{Test}/b<-{Test}/c");
    }

    [Fact]
    public async Task A_call_chain_may_reenter_an_actor_whose_type_allows_it_up_to_the_maximum_depth()
    {
        EmbeddedActorRuntime runtime = await StartAsync(OpenStore(Clock));

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
        EmbeddedActorRuntime runtime = await StartAsync(OpenStore(Clock));

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
        EmbeddedActorRuntime runtime = await StartAsync(
            OpenStore(TimeProvider.System),
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
        EmbeddedActorRuntime runtime = await StartAsync(OpenStore(Clock));
        await runtime.InvokeAsync(Test, "a", "Add", 1);

        await runtime.DisposeAsync();

        Probe.Count($"deactivate:{Test}/a").Should().Be(1);
        await FluentActions.Invoking(() => runtime.InvokeAsync(Test, "a", "Add", 1)).Should().ThrowAsync<ObjectDisposedException>();
    }

    private static async Task<List<string>> ReminderKeys(IStateStore store)
    {
        var keys = new List<string>();
        await foreach ((string key, StateItem _) in store.ListAsync(ActorStateKeys.RemindersPrefix(AppId)))
        {
            keys.Add(key);
        }

        return keys;
    }

    private async Task<EmbeddedActorRuntime> StartAsync(IStateStore store, Action<ActorTypeOptions>? testType = null, Action<ActorRuntimeOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new ActorRuntimeOptions { AppId = AppId, ScanInterval = TimeSpan.FromSeconds(1) };
        options.Actors.RegisterActor(Test, host => new TestActor(host, Probe), testType);
        options.Actors.RegisterActor(Reentrant, host => new TestActor(host, Probe), type => type.Reentrancy = new ActorReentrancyOptions { Enabled = true, MaxStackDepth = 4 });
        configure?.Invoke(options);
        EmbeddedActorRuntime runtime = await EmbeddedActorRuntime.StartAsync(options, store, time ?? Clock);
        _runtimes.Add(runtime);
        return runtime;
    }
}
