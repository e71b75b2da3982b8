using System.Collections.Concurrent;
using Atomic.Runtime.Workflow;

namespace Atomic.Runtime.Tests.Workflow;

/// <summary>
/// The workflow conformance suite, run against every workflow host (the embedded engine on each state store, and the
/// Dapr worker and client through a sidecar). A test may stop its runtime and start another on the same backing
/// store (an in-process restart); outcomes are asserted, never timings. What the suite looks at behind a runtime
/// (unfinished instances, stored history, purged data) it asks of the implementation through the abstract members.
/// </summary>
public abstract class WorkflowConformance : IAsyncLifetime
{
    /// <summary>Waits are generous: they bound a hang, they do not measure speed.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly List<WorkflowRuntimeUnderTest> _runtimes = [];

    /// <summary>Starts a runtime running <paramref name="registry"/>'s workflows on the test's shared backing store.</summary>
    protected abstract Task<WorkflowRuntimeUnderTest> StartRuntimeAsync(WorkflowRegistry registry);

    /// <summary>The ids of the instances the store indexes as not finished.</summary>
    protected abstract Task<IReadOnlyList<string>> UnfinishedInstancesAsync();

    /// <summary>How many episodes the stored history of <paramref name="instanceId"/>'s current generation holds.</summary>
    protected abstract Task<int> StoredEpisodesAsync(string instanceId);

    /// <summary>Whether the store holds anything of an instance whose id starts with <paramref name="instanceIdPrefix"/>.</summary>
    protected abstract Task<bool> HoldsInstanceDataAsync(string instanceIdPrefix);

    /// <summary>Releases the backing store, after every runtime has stopped.</summary>
    protected virtual Task CloseAsync() => Task.CompletedTask;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (WorkflowRuntimeUnderTest runtime in _runtimes)
        {
            await runtime.DisposeAsync();
        }

        await CloseAsync();
    }

    private async Task<WorkflowRuntimeUnderTest> StartAsync(WorkflowRegistry registry)
    {
        WorkflowRuntimeUnderTest runtime = await StartRuntimeAsync(registry);
        _runtimes.Add(runtime);
        return runtime;
    }

    private static async Task<WorkflowState> Completion(IWorkflowClient client, string instanceId)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await client.WaitForWorkflowCompletionAsync(instanceId, cancellationToken: timeout.Token);
    }

    private static async Task<WorkflowState> Until(IWorkflowClient client, string instanceId, Func<WorkflowState, bool> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            if (await client.GetWorkflowStateAsync(instanceId, cancellationToken: timeout.Token) is WorkflowState state && condition(state))
            {
                return state;
            }

            await Task.Delay(10, timeout.Token);
        }
    }

    private static WorkflowRegistry Letters() => new WorkflowRegistry()
        .AddActivity<string, string>("Append", (context, text) => Task.FromResult($"{text}-{context.TaskId}"))
        .AddWorkflow<string, string>("Chain", async (context, text) =>
        {
            text = await context.CallActivityAsync<string>("Append", text);
            text = await context.CallActivityAsync<string>("Append", text);
            return await context.CallActivityAsync<string>("Append", text);
        });

    [Fact]
    public async Task Sequential_activities_run_in_order_and_the_output_is_recorded()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Letters());
        string id = await engine.ScheduleNewWorkflowAsync("Chain", "x");
        WorkflowState state = await Completion(engine, id);

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.Name.Should().Be("Chain");
        state.ReadInputAs<string>().Should().Be("x");
        state.ReadOutputAs<string>().Should().Be("x-0-1-2");
        state.LastUpdatedAt.Should().BeOnOrAfter(state.CreatedAt);
        (await engine.GetWorkflowStateAsync(id, includeInputsAndOutputs: false))!.SerializedOutput.Should().BeNull();
        (await UnfinishedInstancesAsync()).Should().BeEmpty("a finished instance leaves the index of unfinished ones");
    }

    [Fact]
    public async Task Many_instances_run_concurrently_and_each_completes_once()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Letters());
        string[] ids = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => engine.ScheduleNewWorkflowAsync("Chain", $"n{i}", $"chain-{i}")));
        WorkflowState[] states = await Task.WhenAll(ids.Select(id => Completion(engine, id)));
        states.Select(s => s.ReadOutputAs<string>()).Should().Equal(Enumerable.Range(0, 50).Select(i => $"n{i}-0-1-2"));
    }

    [Fact]
    public async Task Fan_out_runs_activities_in_parallel_and_fan_in_sums_them()
    {
        var registry = new WorkflowRegistry()
            .AddActivity<int, int>("Square", (_, n) => Task.FromResult(n * n))
            .AddWorkflow<int, int>("SumOfSquares", async (context, n) =>
            {
                int[] squares = await Task.WhenAll(Enumerable.Range(1, n).Select(i => context.CallActivityAsync<int>("Square", i)));
                return squares.Sum();
            });
        WorkflowRuntimeUnderTest engine = await StartAsync(registry);
        string id = await engine.ScheduleNewWorkflowAsync("SumOfSquares", 20);
        (await Completion(engine, id)).ReadOutputAs<int>().Should().Be(2870);
    }

    [Fact]
    public async Task A_retry_policy_reruns_a_failing_activity_under_one_task_execution_id()
    {
        var attempts = new ConcurrentQueue<string>();
        var registry = new WorkflowRegistry()
            .AddActivity<string, string>("Flaky", (context, input) =>
            {
                attempts.Enqueue(context.TaskExecutionId);
                return attempts.Count < 3 ? throw new InvalidOperationException($"attempt {attempts.Count}") : Task.FromResult(input + " done");
            })
            .AddWorkflow<string, string>("Persistent", (context, input) => context.CallActivityAsync<string>("Flaky", input,
                new WorkflowTaskOptions(new WorkflowRetryPolicy(5, TimeSpan.FromMilliseconds(20), backoffCoefficient: 2))));
        WorkflowRuntimeUnderTest engine = await StartAsync(registry);
        string id = await engine.ScheduleNewWorkflowAsync("Persistent", "job");
        (await Completion(engine, id)).ReadOutputAs<string>().Should().Be("job done");
        attempts.Should().HaveCount(3);
        attempts.Distinct().Should().ContainSingle("retries of one call share its task execution id");
    }

    [Fact]
    public virtual async Task An_activity_failure_can_be_caught_and_an_uncaught_one_fails_the_workflow_with_its_details()
    {
        var registry = new WorkflowRegistry()
            .AddActivity<string, string>("Refuse", (_, why) => throw new InvalidOperationException(why))
            .AddWorkflow<string, string>("Catching", async (context, why) =>
            {
                try
                {
                    return await context.CallActivityAsync<string>("Refuse", why);
                }
                catch (WorkflowTaskFailedException e) when (e.FailureDetails.IsCausedBy<InvalidOperationException>())
                {
                    return $"caught: {e.FailureDetails.ErrorMessage}";
                }
            })
            .AddWorkflow<string, string>("Throwing", (context, why) => context.CallActivityAsync<string>("Refuse", why));
        WorkflowRuntimeUnderTest engine = await StartAsync(registry);

        string caught = await engine.ScheduleNewWorkflowAsync("Catching", "no funds");
        (await Completion(engine, caught)).ReadOutputAs<string>().Should().Be("caught: no funds");

        string thrown = await engine.ScheduleNewWorkflowAsync("Throwing", "no funds");
        WorkflowState failed = await Completion(engine, thrown);
        failed.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Failed);
        failed.FailureDetails!.IsCausedBy<WorkflowTaskFailedException>().Should().BeTrue();
        failed.FailureDetails.InnerFailure!.ErrorType.Should().Be(typeof(InvalidOperationException).FullName);
        failed.FailureDetails.InnerFailure.ErrorMessage.Should().Be("no funds");
        failed.FailureDetails.InnerFailure.StackTrace.Should().NotBeNullOrEmpty();
    }

    private static WorkflowRegistry Approvals() => new WorkflowRegistry()
        .AddActivity<string, string>("Prepare", (_, what) => Task.FromResult($"prepared {what}"))
        .AddWorkflow<string, string>("Approval", async (context, what) =>
        {
            string prepared = await context.CallActivityAsync<string>("Prepare", what);
            context.SetCustomStatus("waiting");
            string by = await context.WaitForExternalEventAsync<string>("Approved");
            return $"{prepared}, approved by {by}";
        })
        .AddWorkflow<string, string>("Notifier", (context, target) =>
        {
            context.SendEvent(target, "Approved", "a workflow");
            return Task.FromResult("sent");
        })
        .AddWorkflow<int, string>("Deadline", async (context, ms) =>
        {
            try
            {
                return await context.WaitForExternalEventAsync<string>("Answer", TimeSpan.FromMilliseconds(ms));
            }
            catch (TaskCanceledException)
            {
                return "no answer";
            }
        });

    [Fact]
    public async Task An_event_raised_before_the_wait_is_kept_and_one_raised_during_the_wait_is_delivered()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Approvals());
        string early = await engine.ScheduleNewWorkflowAsync("Approval", "order 1");
        await engine.RaiseEventAsync(early, "Approved", "alice");
        (await Completion(engine, early)).ReadOutputAs<string>().Should().Be("prepared order 1, approved by alice");

        string waiting = await engine.ScheduleNewWorkflowAsync("Approval", "order 2");
        WorkflowState state = await Until(engine, waiting, s => s.ReadCustomStatusAs<string>() == "waiting");
        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Running);
        await engine.RaiseEventAsync(waiting, "approved", "bob");
        (await Completion(engine, waiting)).ReadOutputAs<string>().Should().Be("prepared order 2, approved by bob");

        await FluentActions.Invoking(() => engine.RaiseEventAsync("no-such-instance", "Approved")).Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task A_workflow_can_raise_an_event_on_another_instance()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Approvals());
        string waiting = await engine.ScheduleNewWorkflowAsync("Approval", "order 4");
        await Until(engine, waiting, s => s.ReadCustomStatusAs<string>() == "waiting");
        string notifier = await engine.ScheduleNewWorkflowAsync("Notifier", waiting);
        (await Completion(engine, notifier)).ReadOutputAs<string>().Should().Be("sent");
        (await Completion(engine, waiting)).ReadOutputAs<string>().Should().Be("prepared order 4, approved by a workflow");
    }

    [Fact]
    public async Task A_wait_with_a_timeout_ends_in_TaskCanceledException_when_nothing_comes()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Approvals());
        string silent = await engine.ScheduleNewWorkflowAsync("Deadline", 100);
        (await Completion(engine, silent)).ReadOutputAs<string>().Should().Be("no answer");

        string answered = await engine.ScheduleNewWorkflowAsync("Deadline", 60_000);
        await engine.RaiseEventAsync(answered, "Answer", "42");
        (await Completion(engine, answered)).ReadOutputAs<string>().Should().Be("42");
    }

    [Fact]
    public async Task A_durable_timer_fires_no_earlier_than_asked()
    {
        var registry = new WorkflowRegistry().AddWorkflow<int, double>("Sleeper", async (context, ms) =>
        {
            DateTime before = context.CurrentUtcDateTime;
            await context.CreateTimer(TimeSpan.FromMilliseconds(ms));
            return (context.CurrentUtcDateTime - before).TotalMilliseconds;
        });
        WorkflowRuntimeUnderTest engine = await StartAsync(registry);
        string id = await engine.ScheduleNewWorkflowAsync("Sleeper", 200);
        (await Completion(engine, id)).ReadOutputAs<double>().Should().BeGreaterThanOrEqualTo(200);
    }

    private static WorkflowRegistry Family() => new WorkflowRegistry()
        .AddActivity<int, int>("Double", (_, n) => Task.FromResult(n * 2))
        .AddWorkflow<int, int>("Child", async (context, n) =>
            n < 0 ? throw new ArgumentOutOfRangeException(nameof(n), "negative") : await context.CallActivityAsync<int>("Double", n))
        .AddWorkflow<int, string>("Parent", async (context, n) =>
        {
            try
            {
                int doubled = await context.CallChildWorkflowAsync<int>("Child", n, new ChildWorkflowTaskOptions($"{context.InstanceId}-child"));
                return $"child said {doubled}";
            }
            catch (WorkflowTaskFailedException e)
            {
                return $"child failed: {e.FailureDetails.ErrorType}";
            }
        })
        .AddWorkflow<object?, string>("Forever", async (context, _) => await context.WaitForExternalEventAsync<string>("Never"))
        .AddWorkflow<object?, string>("Grandparent", async (context, _) => await context.CallChildWorkflowAsync<string>(
            "Forever", null, new ChildWorkflowTaskOptions($"{context.InstanceId}-child")));

    [Fact]
    public async Task A_child_workflow_returns_its_output_to_the_parent_or_its_failure()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Family());
        await engine.ScheduleNewWorkflowAsync("Parent", 21, "p1");
        (await Completion(engine, "p1")).ReadOutputAs<string>().Should().Be("child said 42");
        (await engine.GetWorkflowStateAsync("p1-child"))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);

        await engine.ScheduleNewWorkflowAsync("Parent", -1, "p2");
        (await Completion(engine, "p2")).ReadOutputAs<string>().Should().Be("child failed: System.ArgumentOutOfRangeException");
        (await engine.GetWorkflowStateAsync("p2-child"))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Failed);
    }

    [Fact]
    public virtual async Task Terminating_recursively_ends_the_instance_and_its_running_children()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Family());
        await engine.ScheduleNewWorkflowAsync("Grandparent", null, "g");
        await Until(engine, "g-child", s => s.RuntimeStatus == WorkflowRuntimeStatus.Running);

        await engine.TerminateWorkflowAsync("g", "stopped by test");
        WorkflowState parent = await Completion(engine, "g");
        parent.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Terminated);
        parent.ReadOutputAs<string>().Should().Be("stopped by test");
        (await Completion(engine, "g-child")).RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Terminated);

        await engine.TerminateWorkflowAsync("g", "again"); // a finished instance ignores it
        (await engine.GetWorkflowStateAsync("g"))!.ReadOutputAs<string>().Should().Be("stopped by test");
    }

    [Fact]
    public async Task Continue_as_new_counts_to_n_with_a_fresh_history_each_generation()
    {
        var registry = new WorkflowRegistry()
            .AddActivity<int, int>("Next", (_, n) => Task.FromResult(n + 1))
            .AddWorkflow<int, int>("Counter", async (context, n) =>
            {
                if (n >= 5)
                {
                    return n;
                }

                context.ContinueAsNew(await context.CallActivityAsync<int>("Next", n));
                return -1;
            });
        WorkflowRuntimeUnderTest engine = await StartAsync(registry);
        string id = await engine.ScheduleNewWorkflowAsync("Counter", 0);
        WorkflowState state = await Completion(engine, id);
        state.ReadOutputAs<int>().Should().Be(5);
        state.ReadInputAs<int>().Should().Be(5, "the input is the last generation's");
        (await StoredEpisodesAsync(id)).Should().Be(1, "earlier generations' history is gone");
    }

    [Fact]
    public async Task Continue_as_new_carries_events_nobody_waited_for_into_the_next_generation()
    {
        var registry = new WorkflowRegistry().AddWorkflow<int, int>("Tally", async (context, total) =>
        {
            int add = await context.WaitForExternalEventAsync<int>("Add");
            if (add == 0)
            {
                return total;
            }

            context.ContinueAsNew(total + add);
            return -1;
        });
        WorkflowRuntimeUnderTest engine = await StartAsync(registry);
        string id = await engine.ScheduleNewWorkflowAsync("Tally", 0);
        foreach (int n in new[] { 1, 2, 3, 4, 0 })
        {
            await engine.RaiseEventAsync(id, "Add", n);
        }

        (await Completion(engine, id)).ReadOutputAs<int>().Should().Be(10);
    }

    [Fact]
    public async Task A_suspended_instance_queues_events_and_goes_on_when_resumed()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Approvals());
        string id = await engine.ScheduleNewWorkflowAsync("Approval", "order 3");
        await Until(engine, id, s => s.ReadCustomStatusAs<string>() == "waiting");

        await engine.SuspendWorkflowAsync(id, "audit");
        await Until(engine, id, s => s.RuntimeStatus == WorkflowRuntimeStatus.Suspended);
        await engine.RaiseEventAsync(id, "Approved", "carol");
        await engine.RaiseEventAsync(id, "Unrelated", "noise"); // forces one more episode while suspended
        await Until(engine, id, s => s.LastUpdatedAt > s.CreatedAt && s.RuntimeStatus == WorkflowRuntimeStatus.Suspended);
        (await engine.GetWorkflowStateAsync(id))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Suspended);

        await engine.ResumeWorkflowAsync(id, "audit done");
        WorkflowState done = await Completion(engine, id);
        done.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        done.ReadOutputAs<string>().Should().Be("prepared order 3, approved by carol");
    }

    [Fact]
    public async Task Purge_removes_every_key_of_a_finished_instance_and_its_children_but_refuses_a_running_one()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Family());
        await engine.ScheduleNewWorkflowAsync("Forever", null, "running");
        await engine.WaitForWorkflowStartAsync("running");
        (await engine.PurgeWorkflowAsync("running")).Should().BeFalse();
        (await engine.PurgeWorkflowAsync("never-existed")).Should().BeFalse();

        await engine.ScheduleNewWorkflowAsync("Parent", 1, "purged");
        await Completion(engine, "purged");
        (await HoldsInstanceDataAsync("purged")).Should().BeTrue();
        (await engine.PurgeWorkflowAsync("purged")).Should().BeTrue();
        (await engine.GetWorkflowStateAsync("purged")).Should().BeNull();
        (await engine.GetWorkflowStateAsync("purged-child")).Should().BeNull("purge is recursive");
        (await HoldsInstanceDataAsync("purged")).Should().BeFalse();

        await engine.ScheduleNewWorkflowAsync("Parent", 2, "purged"); // the id is free again
        (await Completion(engine, "purged")).ReadOutputAs<string>().Should().Be("child said 4");
    }

    [Fact]
    public async Task An_instance_id_cannot_be_reused_while_it_runs_but_can_once_it_has_finished()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Approvals());
        await engine.ScheduleNewWorkflowAsync("Approval", "a", "same");
        await FluentActions.Invoking(() => engine.ScheduleNewWorkflowAsync("Approval", "b", "same")).Should().ThrowAsync<InvalidOperationException>();
        await engine.TerminateWorkflowAsync("same");
        await Completion(engine, "same");

        await engine.ScheduleNewWorkflowAsync("Deadline", 10, "same");
        (await Completion(engine, "same")).Name.Should().Be("Deadline");
        (await StoredEpisodesAsync("same")).Should().BeLessThan(4, "the old instance's history was replaced");
    }

    [Fact]
    public virtual async Task A_scheduled_start_stays_pending_until_its_time()
    {
        WorkflowRuntimeUnderTest engine = await StartAsync(Letters());
        string id = await engine.ScheduleNewWorkflowAsync("Chain", "later", startAt: DateTimeOffset.UtcNow.AddMilliseconds(300));
        (await engine.GetWorkflowStateAsync(id))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Pending);
        WorkflowState done = await Completion(engine, id);
        done.ReadOutputAs<string>().Should().Be("later-0-1-2");
        done.LastUpdatedAt.Should().BeOnOrAfter(done.CreatedAt.AddMilliseconds(300));
    }

    [Fact]
    public async Task A_new_engine_on_the_same_store_resumes_instances_mid_activity_mid_timer_and_mid_wait()
    {
        var effects = new ConcurrentDictionary<string, int>();
        var runs = new ConcurrentDictionary<string, int>();
        var hold = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        var registry = new WorkflowRegistry()
            .AddActivity<string, string>("Effect", async (context, input) =>
            {
                runs.AddOrUpdate(context.TaskExecutionId, 1, (_, n) => n + 1);
                if (input == "slow")
                {
                    started.TrySetResult();
                    await hold.Task;
                }

                effects.TryAdd(context.TaskExecutionId, 1); // idempotent: keyed by the call
                return input;
            })
            .AddWorkflow<string, string>("Steps", async (context, input) =>
            {
                string a = await context.CallActivityAsync<string>("Effect", input);
                await context.CreateTimer(TimeSpan.FromMilliseconds(200));
                string b = await context.WaitForExternalEventAsync<string>("Go");
                string c = await context.CallActivityAsync<string>("Effect", b);
                return $"{a}+{c}";
            });

        WorkflowRuntimeUnderTest first = await StartAsync(registry);
        string slow = await first.ScheduleNewWorkflowAsync("Steps", "slow");
        string timed = await first.ScheduleNewWorkflowAsync("Steps", "fast");
        await started.Task.WaitAsync(Patience);
        await Until(first, timed, s => s.LastUpdatedAt > s.CreatedAt); // its first activity is done; the timer is armed
        await first.DisposeAsync();
        hold.SetResult(); // the first engine's activity finishes after its engine stopped: its result is not recorded

        WorkflowRuntimeUnderTest second = await StartAsync(registry);
        await second.RaiseEventAsync(slow, "Go", "s2");
        await second.RaiseEventAsync(timed, "Go", "t2");
        (await Completion(second, slow)).ReadOutputAs<string>().Should().Be("slow+s2");
        (await Completion(second, timed)).ReadOutputAs<string>().Should().Be("fast+t2");

        effects.Should().HaveCount(4, "two activity calls per instance, each applied once");
        runs.Values.Sum().Should().BeGreaterThanOrEqualTo(5, "the interrupted call ran again");
    }
}

/// <summary>
/// A workflow runtime as the suite drives it: its <see cref="IWorkflowClient"/>, and how to stop it. Disposing it
/// twice stops it once.
/// </summary>
public sealed class WorkflowRuntimeUnderTest(IWorkflowClient client, Func<ValueTask> stop) : IWorkflowClient, IAsyncDisposable
{
    private int _stopped;

    public Task<string> ScheduleNewWorkflowAsync(
        string name, object? input = null, string? instanceId = null, DateTimeOffset? startAt = null, CancellationToken cancellationToken = default) =>
        client.ScheduleNewWorkflowAsync(name, input, instanceId, startAt, cancellationToken);

    public Task<WorkflowState?> GetWorkflowStateAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default) =>
        client.GetWorkflowStateAsync(instanceId, includeInputsAndOutputs, cancellationToken);

    public Task<WorkflowState> WaitForWorkflowStartAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default) =>
        client.WaitForWorkflowStartAsync(instanceId, includeInputsAndOutputs, cancellationToken);

    public Task<WorkflowState> WaitForWorkflowCompletionAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default) =>
        client.WaitForWorkflowCompletionAsync(instanceId, includeInputsAndOutputs, cancellationToken);

    public Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellationToken = default) =>
        client.RaiseEventAsync(instanceId, eventName, eventPayload, cancellationToken);

    public Task TerminateWorkflowAsync(string instanceId, object? output = null, bool recursive = true, CancellationToken cancellationToken = default) =>
        client.TerminateWorkflowAsync(instanceId, output, recursive, cancellationToken);

    public Task SuspendWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        client.SuspendWorkflowAsync(instanceId, reason, cancellationToken);

    public Task ResumeWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        client.ResumeWorkflowAsync(instanceId, reason, cancellationToken);

    public Task<bool> PurgeWorkflowAsync(string instanceId, bool recursive = true, CancellationToken cancellationToken = default) =>
        client.PurgeWorkflowAsync(instanceId, recursive, cancellationToken);

    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _stopped, 1) == 0 ? stop() : ValueTask.CompletedTask;
}
