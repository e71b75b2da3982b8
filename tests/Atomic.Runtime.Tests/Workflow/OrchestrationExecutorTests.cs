using System.Text.Json;
using Atomic.Runtime.Workflow;
using static Atomic.Runtime.Workflow.HistoryEvent;
using static Atomic.Runtime.Workflow.OrchestratorAction;

namespace Atomic.Runtime.Tests.Workflow;

/// <summary>The replay engine on its own: histories in, actions out, no host and no I/O.</summary>
public class OrchestrationExecutorTests
{
    private static WorkflowRegistry Registry() => new WorkflowRegistry()
        .AddWorkflow<int, int>("Sequence", async (context, n) =>
        {
            int a = await context.CallActivityAsync<int>("Add", n);
            int b = await context.CallActivityAsync<int>("Add", a);
            return b;
        })
        .AddWorkflow<int, int>("FanOut", async (context, n) =>
        {
            var parts = new List<Task<int>>();
            for (int i = 0; i < n; i++)
            {
                parts.Add(context.CallActivityAsync<int>("Square", i));
            }

            int[] squares = await Task.WhenAll(parts);
            return squares.Sum();
        })
        .AddWorkflow<object?, string>("Careful", async (context, _) =>
        {
            try
            {
                await context.CallActivityAsync("Fails");
                return "no failure";
            }
            catch (WorkflowTaskFailedException e)
            {
                return $"caught {e.FailureDetails.ErrorMessage}";
            }
        })
        .AddWorkflow<object?, string>("Careless", async (context, _) =>
        {
            await context.CallActivityAsync("Fails");
            return "unreachable";
        })
        .AddWorkflow<object?, string>("Patient", async (context, _) =>
        {
            try
            {
                return await context.WaitForExternalEventAsync<string>("Approval", TimeSpan.FromMinutes(5));
            }
            catch (TaskCanceledException)
            {
                return "timed out";
            }
        })
        .AddWorkflow<object?, string[]>("Guids", (context, _) =>
            Task.FromResult(new[] { context.NewGuid().ToString(), context.NewGuid().ToString() }));

    [Fact]
    public void A_new_instance_schedules_its_first_activity_and_nothing_else()
    {
        var host = new ReplayHost(Registry());
        OrchestratorResult result = host.Start("Sequence", 1);
        result.Actions.Should().ContainSingle().Which.Should().BeOfType<ScheduleTask>()
            .Which.Should().Match<ScheduleTask>(t => t.Id == 0 && t.Name == "Add" && t.Input == "1" && t.TaskExecutionId == "generation-1:0");
    }

    [Fact]
    public void Results_from_history_drive_the_code_to_completion()
    {
        var host = new ReplayHost(Registry());
        host.Start("Sequence", 1);
        host.Step(host.Completed(0, 2)).Actions.Should().ContainSingle().Which.Should().BeOfType<ScheduleTask>().Which.Input.Should().Be("2");
        OrchestratorResult done = host.Step(host.Completed(1, 3));
        done.Actions.Should().ContainSingle().Which.Should().BeEquivalentTo(new CompleteOrchestration(2, WorkflowRuntimeStatus.Completed, "3"));
    }

    [Fact]
    public void Replaying_the_whole_history_gives_what_the_first_run_gave()
    {
        var host = new ReplayHost(Registry());
        host.Start("FanOut", 3);
        host.Step(host.Completed(2, 4), host.Completed(0, 0));
        OrchestratorResult first = host.Step(host.Completed(1, 1));

        OrchestratorResult replayed = host.Replay();
        Json(replayed).Should().Be(Json(first));
        replayed.Actions.Should().ContainSingle().Which.Should().BeEquivalentTo(new CompleteOrchestration(3, WorkflowRuntimeStatus.Completed, "5"));
    }

    [Fact]
    public void IsReplaying_is_true_for_past_events_only()
    {
        var seen = new List<bool>();
        var registry = new WorkflowRegistry().AddWorkflow<object?, int>("Observed", async (context, _) =>
        {
            seen.Add(context.IsReplaying);
            await context.CallActivityAsync("A");
            seen.Add(context.IsReplaying);
            return 0;
        });
        var host = new ReplayHost(registry);
        host.Start("Observed");
        seen.Should().Equal(false);
        seen.Clear();
        host.Step(host.Completed(0, null));
        seen.Should().Equal(true, false);
    }

    [Fact]
    public void Fan_out_schedules_every_activity_at_once_and_fan_in_waits_for_all_results_in_any_order()
    {
        var host = new ReplayHost(Registry());
        OrchestratorResult start = host.Start("FanOut", 4);
        start.Actions.Should().HaveCount(4).And.AllBeOfType<ScheduleTask>();
        start.Actions.Select(a => a.Id).Should().Equal(0, 1, 2, 3);

        host.Step(host.Completed(3, 9), host.Completed(1, 1)).Actions.Should().BeEmpty();
        host.Step(host.Completed(0, 0)).Actions.Should().BeEmpty();
        host.Step(host.Completed(2, 4)).Actions.Should().ContainSingle()
            .Which.Should().BeOfType<CompleteOrchestration>().Which.Result.Should().Be("14");
    }

    [Fact]
    public void Code_that_schedules_something_else_than_its_history_fails_with_a_non_determinism_error()
    {
        var before = new WorkflowRegistry().AddWorkflow<object?, int>("Changing", async (context, _) => await context.CallActivityAsync<int>("A"));
        var host = new ReplayHost(before);
        host.Start("Changing");

        var after = new WorkflowRegistry().AddWorkflow<object?, int>("Changing", async (context, _) => await context.CallActivityAsync<int>("B"));
        OrchestratorResult result = new OrchestrationExecutor(after).Execute(host.InstanceId, host.History, [host.Completed(0, 1)]);

        CompleteOrchestration failed = result.Actions.Should().ContainSingle().Which.Should().BeOfType<CompleteOrchestration>().Subject;
        failed.OrchestrationStatus.Should().Be(WorkflowRuntimeStatus.Failed);
        failed.FailureDetails!.IsCausedBy<WorkflowNonDeterminismException>().Should().BeTrue();
        failed.FailureDetails.ErrorMessage.Should().Contain("TaskScheduled 'A' at id 0").And.Contain("ScheduleTask 'B'");
    }

    [Fact]
    public void Code_that_schedules_less_than_its_history_also_fails_with_a_non_determinism_error()
    {
        var before = new WorkflowRegistry().AddWorkflow<object?, int>("Shrinking", async (context, _) => await context.CallActivityAsync<int>("A"));
        var host = new ReplayHost(before);
        host.Start("Shrinking");

        var after = new WorkflowRegistry().AddWorkflow<object?, int>("Shrinking", (context, _) => Task.FromResult(0));
        OrchestratorResult result = new OrchestrationExecutor(after).Execute(host.InstanceId, host.History, []);
        CompleteOrchestration failed = result.Actions.Should().ContainSingle().Which.Should().BeOfType<CompleteOrchestration>().Subject;
        failed.FailureDetails!.ErrorType.Should().Be(typeof(WorkflowNonDeterminismException).FullName);
    }

    [Fact]
    public void An_activity_failure_is_a_WorkflowTaskFailedException_the_code_can_catch()
    {
        var host = new ReplayHost(Registry());
        host.Start("Careful");
        host.Step(host.Failed(0, "boom")).Actions.Should().ContainSingle()
            .Which.Should().BeOfType<CompleteOrchestration>().Which.Result.Should().Be("\"caught boom\"");
    }

    [Fact]
    public void An_uncaught_activity_failure_fails_the_workflow_with_the_activity_details_inside()
    {
        var host = new ReplayHost(Registry());
        host.Start("Careless");
        CompleteOrchestration failed = host.Step(host.Failed(0, "boom")).Actions.Should().ContainSingle().Which.Should().BeOfType<CompleteOrchestration>().Subject;
        failed.OrchestrationStatus.Should().Be(WorkflowRuntimeStatus.Failed);
        failed.FailureDetails!.ErrorType.Should().Be(typeof(WorkflowTaskFailedException).FullName);
        failed.FailureDetails.InnerFailure!.ErrorMessage.Should().Be("boom");
    }

    [Fact]
    public void A_retry_policy_waits_on_durable_timers_with_backoff_and_keeps_the_task_execution_id()
    {
        var policy = new WorkflowRetryPolicy(maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(10), backoffCoefficient: 2);
        var registry = new WorkflowRegistry().AddWorkflow<object?, int>("Retrying", async (context, _) =>
            await context.CallActivityAsync<int>("Flaky", null, new WorkflowTaskOptions(policy)));
        var host = new ReplayHost(registry);
        ScheduleTask first = host.Start("Retrying").Actions.Should().ContainSingle().Which.Should().BeOfType<ScheduleTask>().Subject;

        DateTimeOffset failedAt = host.Now;
        CreateTimer wait1 = host.Step(host.Failed(0, "one")).Actions.Should().ContainSingle().Which.Should().BeOfType<CreateTimer>().Subject;
        wait1.FireAt.Should().Be(failedAt + TimeSpan.FromSeconds(10));
        ScheduleTask second = host.Step(host.Fired(wait1.Id)).Actions.Should().ContainSingle().Which.Should().BeOfType<ScheduleTask>().Subject;
        second.TaskExecutionId.Should().Be(first.TaskExecutionId);

        failedAt = host.Now;
        CreateTimer wait2 = host.Step(host.Failed(second.Id, "two")).Actions.Should().ContainSingle().Which.Should().BeOfType<CreateTimer>().Subject;
        wait2.FireAt.Should().Be(failedAt + TimeSpan.FromSeconds(20));
        ScheduleTask third = host.Step(host.Fired(wait2.Id)).Actions.Should().ContainSingle().Which.Should().BeOfType<ScheduleTask>().Subject;

        CompleteOrchestration failed = host.Step(host.Failed(third.Id, "three")).Actions.Should().ContainSingle().Which.Should().BeOfType<CompleteOrchestration>().Subject;
        failed.FailureDetails!.InnerFailure!.ErrorMessage.Should().Be("three", "the third failure is the last attempt");
    }

    [Fact]
    public void Waiting_for_an_event_with_a_timeout_is_a_durable_timer_and_its_firing_cancels_the_wait()
    {
        var host = new ReplayHost(Registry());
        CreateTimer timeout = host.Start("Patient").Actions.Should().ContainSingle().Which.Should().BeOfType<CreateTimer>().Subject;
        host.Step(host.Fired(timeout.Id)).Actions.Should().ContainSingle().Which.Should().BeOfType<CompleteOrchestration>()
            .Which.Result.Should().Be("\"timed out\"");
    }

    [Fact]
    public void An_event_that_arrives_in_time_wins_and_the_late_timer_is_ignored()
    {
        var host = new ReplayHost(Registry());
        host.Start("Patient");
        host.Step(host.Raised("approval", "yes")).Actions.Should().ContainSingle().Which.Should().BeOfType<CompleteOrchestration>()
            .Which.Result.Should().Be("\"yes\"", "event names are case-insensitive");
    }

    [Fact]
    public void An_event_raised_before_anyone_waits_is_kept_until_the_wait()
    {
        var registry = new WorkflowRegistry().AddWorkflow<object?, string>("Late", async (context, _) =>
        {
            await context.CallActivityAsync("First");
            return await context.WaitForExternalEventAsync<string>("Go");
        });
        var host = new ReplayHost(registry);
        host.Start("Late");
        host.Step(host.Raised("Go", "early")).Actions.Should().BeEmpty();
        host.Step(host.Completed(0, null)).Actions.Should().ContainSingle().Which.Should().BeOfType<CompleteOrchestration>()
            .Which.Result.Should().Be("\"early\"");
    }

    [Fact]
    public void A_suspended_instance_holds_results_and_events_until_it_is_resumed()
    {
        var host = new ReplayHost(Registry());
        host.Start("Sequence", 1);
        host.Step(new ExecutionSuspended(NoId, host.Now, "pause")).Actions.Should().BeEmpty();
        host.Step(host.Completed(0, 2)).Actions.Should().BeEmpty();
        host.Step(new ExecutionResumed(NoId, host.Now, null)).Actions.Should().ContainSingle().Which.Should().BeOfType<ScheduleTask>();
        host.Replay().Actions.Should().BeEmpty("replay holds and releases the result the same way, so history already records the second task");
    }

    [Fact]
    public void Terminating_recursively_drops_pending_work_and_terminates_running_children()
    {
        var registry = new WorkflowRegistry().AddWorkflow<object?, int>("Parent", async (context, _) =>
        {
            Task<int> child = context.CallChildWorkflowAsync<int>("Child", null, new ChildWorkflowTaskOptions("child-1"));
            Task<int> work = context.CallActivityAsync<int>("Work");
            return await child + await work;
        });
        var host = new ReplayHost(registry);
        host.Start("Parent").Actions.Should().HaveCount(2);
        OrchestratorResult result = host.Step(new ExecutionTerminated(NoId, host.Now, "\"stop\"", Recurse: true));
        result.Actions.Should().HaveCount(2);
        result.Actions[0].Should().BeOfType<TerminateOrchestration>().Which.InstanceId.Should().Be("child-1");
        result.Actions[1].Should().BeEquivalentTo(new CompleteOrchestration(3, WorkflowRuntimeStatus.Terminated, "\"stop\""));
    }

    [Fact]
    public void Continue_as_new_hands_on_the_new_input_and_the_events_nobody_waited_for()
    {
        var registry = new WorkflowRegistry().AddWorkflow<int, int>("Counter", async (context, n) =>
        {
            await context.WaitForExternalEventAsync<string>("Tick");
            context.ContinueAsNew(n + 1);
            return n;
        });
        var host = new ReplayHost(registry);
        host.Start("Counter", 0);
        CompleteOrchestration next = host.Step(host.Raised("Tick", "a"), host.Raised("Tick", "b"), host.Raised("Other", "c")).Actions
            .Should().ContainSingle().Which.Should().BeOfType<CompleteOrchestration>().Subject;
        next.OrchestrationStatus.Should().Be(WorkflowRuntimeStatus.ContinuedAsNew);
        next.Result.Should().Be("1");
        next.CarryoverEvents!.Cast<EventRaised>().Select(e => e.Input).Should().Equal("\"b\"", "\"c\"");
    }

    [Fact]
    public void NewGuid_is_the_same_on_every_replay_and_different_each_call()
    {
        var host = new ReplayHost(Registry());
        string? first = ((CompleteOrchestration)host.Start("Guids").Actions[0]).Result;
        string? again = ((CompleteOrchestration)host.Replay().Actions[0]).Result;
        again.Should().Be(first);
        string[] guids = JsonSerializer.Deserialize<string[]>(first!)!;
        guids[0].Should().NotBe(guids[1]);
    }

    [Fact]
    public void An_unknown_workflow_fails_at_once()
    {
        var host = new ReplayHost(Registry());
        host.Start("Nope").Actions.Should().ContainSingle().Which.Should().BeOfType<CompleteOrchestration>()
            .Which.FailureDetails!.ErrorType.Should().Be("WorkflowNotRegistered");
    }

    private static string Json(OrchestratorResult result) => JsonSerializer.Serialize(result, WorkflowJson.Records);
}
