using System.Net;
using System.Text;
using System.Text.Json;
using Dapr.Workflow;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// Workflows written with the official SDK (<c>Dapr.Workflow</c> 1.19.1: its worker and <c>DaprWorkflowClient</c>) run
/// against the sidecar's <c>TaskHubSidecarService</c>, durably: activities, external events, timers, failures,
/// management, the HTTP management API, and a sidecar restart in the middle of a run.
/// </summary>
public sealed class WorkflowTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("n")[..10];

    internal static async Task<WorkflowState> CompletionAsync(DaprWorkflowClient client, string id)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        return await client.WaitForWorkflowCompletionAsync(id, getInputsAndOutputs: true, deadline.Token);
    }

    /// <summary>Polls until <paramref name="condition"/> holds of the instance's state, or fails at the deadline.</summary>
    internal static async Task<WorkflowState> UntilAsync(DaprWorkflowClient client, string id, Func<WorkflowState, bool> condition, TimeSpan? deadline = null)
    {
        DateTime end = DateTime.UtcNow + (deadline ?? Deadline);
        while (true)
        {
            WorkflowState? state = await client.GetWorkflowStateAsync(id, getInputsAndOutputs: true);
            if (state is not null && state.Exists && condition(state))
            {
                return state;
            }

            DateTime.UtcNow.Should().BeBefore(end, $"workflow {id} should reach the expected state (it is {state?.RuntimeStatus})");
            await Task.Delay(50);
        }
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_workflow_of_three_activities_runs_to_completion_with_the_right_output(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
        string id = NewId("chain");

        string started = await app.Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), id, "dapr");
        WorkflowState state = await CompletionAsync(app.Client, id);

        started.Should().Be(id);
        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("RPAD!");
        state.ReadInputAs<string>().Should().Be("dapr");
        state.WorkflowName.Should().Be(nameof(ChainWorkflow));
        state.FailureDetails.Should().BeNull();
        IReadOnlyList<Dapr.Workflow.Client.WorkflowHistoryEvent> history = await app.Client.GetInstanceHistoryAsync(id);
        history.Count(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.TaskCompleted).Should().Be(3);
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task An_external_event_raised_by_the_client_resumes_a_waiting_workflow(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
        string id = NewId("approval");

        await app.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), id, "x");
        WorkflowState waiting = await UntilAsync(app.Client, id, s => s.ReadCustomStatusAs<string>() == "waiting");
        waiting.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Running);
        await app.Client.RaiseEventAsync(id, "approve", "yes");
        WorkflowState state = await CompletionAsync(app.Client, id);

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("approved:yes");
        app.Ledger.Applied($"{id}:after:yes").Should().Be(1);
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_durable_timer_fires(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
        string id = NewId("timer");

        DateTime before = DateTime.UtcNow;
        await app.Client.ScheduleNewWorkflowAsync(nameof(TimerWorkflow), id, 1000);
        WorkflowState state = await CompletionAsync(app.Client, id);

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("fired");
        (DateTime.UtcNow - before).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(900));
        app.Ledger.Applied($"{id}:woke").Should().Be(1);
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_failing_activity_fails_the_workflow_with_its_failure_details(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
        string id = NewId("failing");

        await app.Client.ScheduleNewWorkflowAsync(nameof(FailingWorkflow), id, "input");
        WorkflowState state = await CompletionAsync(app.Client, id);

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Failed);
        state.FailureDetails.Should().NotBeNull();
        state.FailureDetails!.ErrorType.Should().Contain("WorkflowTaskFailedException");
        state.FailureDetails.ErrorMessage.Should().Contain("boom: input");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_child_workflow_and_continue_as_new_complete_into_the_parent(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
        string id = NewId("parent");

        await app.Client.ScheduleNewWorkflowAsync(nameof(ParentWorkflow), id, "dapr");
        WorkflowState state = await CompletionAsync(app.Client, id);

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed, state.FailureDetails?.ToString());
        state.ReadOutputAs<string>().Should().Be("RPAD!/3");
        WorkflowState child = (await app.Client.GetWorkflowStateAsync(id + "-child"))!;
        child.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        child.ReadOutputAs<string>().Should().Be("RPAD!");
        WorkflowState counter = (await app.Client.GetWorkflowStateAsync(id + "-counter"))!;
        counter.ReadInputAs<int>().Should().Be(3, "the input is the last generation's");
        Enumerable.Range(0, 4).Select(n => app.Ledger.Applied($"{id}-counter:count:{n}")).Should().AllBeEquivalentTo(1);

        (await app.Client.PurgeInstanceAsync(id)).Should().BeTrue();
        (await app.Client.GetWorkflowStateAsync(id + "-child") is not { Exists: true }).Should().BeTrue("a purge is recursive");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_workflow_scheduled_for_later_stays_pending_until_its_start_time(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
        string id = NewId("later");
        DateTimeOffset startAt = DateTimeOffset.UtcNow.AddSeconds(3);

        await app.Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), id, "dapr", startAt);
        WorkflowRuntimeStatus early = (await app.Client.GetWorkflowStateAsync(id))!.RuntimeStatus;
        if (DateTimeOffset.UtcNow < startAt)
        {
            // Asked before its start time (a loaded machine can take longer than that to ask): it must not have run.
            early.Should().Be(WorkflowRuntimeStatus.Pending);
        }

        WorkflowState state = await CompletionAsync(app.Client, id);

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        DateTimeOffset.UtcNow.Should().BeOnOrAfter(startAt);
        state.ReadOutputAs<string>().Should().Be("RPAD!");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task Suspend_holds_a_workflow_and_resume_lets_it_finish(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
        string id = NewId("suspend");
        await app.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), id, "x");
        await UntilAsync(app.Client, id, s => s.ReadCustomStatusAs<string>() == "waiting");

        await app.Client.SuspendWorkflowAsync(id, "hold on");
        (await app.Client.GetWorkflowStateAsync(id))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Suspended);
        await app.Client.RaiseEventAsync(id, "approve", "later");
        await Task.Delay(300);
        (await app.Client.GetWorkflowStateAsync(id))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Suspended, "a suspended workflow does not run");
        app.Ledger.Applied($"{id}:after:later").Should().Be(0);

        await app.Client.ResumeWorkflowAsync(id, "go");
        WorkflowState state = await CompletionAsync(app.Client, id);
        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("approved:later");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task Terminate_ends_a_workflow_with_its_output_and_purge_forgets_it(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
        string id = NewId("terminate");
        await app.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), id, "x");
        await UntilAsync(app.Client, id, s => s.ReadCustomStatusAs<string>() == "waiting");

        Func<Task> purgeRunning = () => app.Client.PurgeInstanceAsync(id);
        await purgeRunning.Should().ThrowAsync<global::Grpc.Core.RpcException>("only a finished workflow can be purged");
        await app.Client.TerminateWorkflowAsync(id, "stopped");
        WorkflowState state = await CompletionAsync(app.Client, id);
        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Terminated);
        state.ReadOutputAs<string>().Should().Be("stopped");
        await app.Client.RaiseEventAsync(id, "approve", "too late"); // a finished workflow drops events
        (await app.Client.GetWorkflowStateAsync(id))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Terminated);

        (await app.Client.PurgeInstanceAsync(id)).Should().BeTrue();
        WorkflowState? purged = await app.Client.GetWorkflowStateAsync(id);
        (purged is null || !purged.Exists).Should().BeTrue();
        (await app.Client.PurgeInstanceAsync(id)).Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_workflow_started_with_the_HTTP_management_API_can_be_read_and_managed_over_it(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options());
        await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
        using var http = new HttpClient { BaseAddress = sidecar.HttpAddress, Timeout = Deadline };
        string id = NewId("http");

        using HttpResponseMessage start = await http.PostAsync($"/v1.0/workflows/dapr/{nameof(ChainWorkflow)}/start?instanceID={id}", Json("\"dapr\""));
        start.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await ReadAsync(start)).GetProperty("instanceID").GetString().Should().Be(id);
        JsonElement done = await HttpUntilAsync(http, $"/v1.0/workflows/dapr/{id}", "COMPLETED");
        done.GetProperty("instanceID").GetString().Should().Be(id);
        done.GetProperty("workflowName").GetString().Should().Be(nameof(ChainWorkflow));
        done.GetProperty("createdAt").GetString().Should().NotBeNullOrEmpty();
        done.GetProperty("lastUpdatedAt").GetString().Should().NotBeNullOrEmpty();
        done.GetProperty("properties").GetProperty("dapr.workflow.input").GetString().Should().Be("\"dapr\"");
        done.GetProperty("properties").GetProperty("dapr.workflow.output").GetString().Should().Be("\"RPAD!\"");

        // an approval over the beta1 paths: raise its event, then purge it
        string approval = NewId("http-approval");
        using HttpResponseMessage second = await http.PostAsync($"/v1.0-beta1/workflows/dapr/{nameof(ApprovalWorkflow)}/start?instanceID={approval}", Json("\"x\""));
        second.StatusCode.Should().Be(HttpStatusCode.Accepted);
        await UntilAsync(app.Client, approval, s => s.ReadCustomStatusAs<string>() == "waiting");
        using HttpResponseMessage raised = await http.PostAsync($"/v1.0-beta1/workflows/dapr/{approval}/raiseEvent/approve", Json("\"ok\""));
        raised.StatusCode.Should().Be(HttpStatusCode.Accepted);
        JsonElement approved = await HttpUntilAsync(http, $"/v1.0-beta1/workflows/dapr/{approval}", "COMPLETED");
        approved.GetProperty("properties").GetProperty("dapr.workflow.output").GetString().Should().Be("\"approved:ok\"");
        using HttpResponseMessage purge = await http.PostAsync($"/v1.0-beta1/workflows/dapr/{approval}/purge", null);
        purge.StatusCode.Should().Be(HttpStatusCode.Accepted);

        // pause, resume and terminate another one
        string managed = NewId("http-managed");
        (await http.PostAsync($"/v1.0/workflows/dapr/{nameof(ApprovalWorkflow)}/start?instanceID={managed}", Json("\"x\""))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await UntilAsync(app.Client, managed, s => s.ReadCustomStatusAs<string>() == "waiting");
        (await http.PostAsync($"/v1.0/workflows/dapr/{managed}/pause", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await ReadAsync(await http.GetAsync($"/v1.0/workflows/dapr/{managed}"))).GetProperty("runtimeStatus").GetString().Should().Be("SUSPENDED");
        (await http.PostAsync($"/v1.0/workflows/dapr/{managed}/resume", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await http.PostAsync($"/v1.0/workflows/dapr/{managed}/terminate", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await HttpUntilAsync(http, $"/v1.0/workflows/dapr/{managed}", "TERMINATED");

        // daprd's errors
        await ExpectErrorAsync(await http.GetAsync($"/v1.0/workflows/dapr/{approval}"), HttpStatusCode.InternalServerError, "ERR_GET_WORKFLOW");
        await ExpectErrorAsync(await http.PostAsync($"/v1.0/workflows/dapr/nobody/raiseEvent/approve", Json("1")), HttpStatusCode.InternalServerError, "ERR_RAISE_EVENT_WORKFLOW");
        await ExpectErrorAsync(await http.PostAsync($"/v1.0/workflows/dapr/nobody/terminate", null), HttpStatusCode.NotFound, "ERR_WORKFLOW_INSTANCE_NOT_FOUND");
        await ExpectErrorAsync(await http.PostAsync($"/v1.0/workflows/dapr/{nameof(ChainWorkflow)}/start?instanceID=bad%20id", Json("1")), HttpStatusCode.BadRequest, "ERR_INSTANCE_ID_INVALID");
        await ExpectErrorAsync(await http.PostAsync($"/v1.0/workflows/other/{nameof(ChainWorkflow)}/start", Json("1")), HttpStatusCode.BadRequest, "ERR_WORKFLOW_COMPONENT_NOT_FOUND");
    }

    [Fact]
    public async Task A_workflow_survives_a_sidecar_restart_while_it_waits_for_an_event()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        SidecarOptions options = resources.Options() with { HttpPort = Hosting.SidecarRunner.FreePort(), GrpcPort = Hosting.SidecarRunner.FreePort() };
        string id = NewId("restart-event");
        EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(options);
        await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
        try
        {
            await app.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), id, "x");
            await UntilAsync(app.Client, id, s => s.ReadCustomStatusAs<string>() == "waiting");
            app.Ledger.Applied($"{id}:before").Should().Be(1);

            await sidecar.DisposeAsync();
            sidecar = await EmbeddedSidecar.StartAsync(options);

            // The client's HTTP/2 connection was to the old sidecar: a call that meets its close before it starts is sent
            // again, as a client of a restarted sidecar would (it never reached the sidecar, so the event goes once).
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await app.Client.RaiseEventAsync(id, "approve", "after-restart");
                    break;
                }
                catch (global::Grpc.Core.RpcException e) when (attempt < 5 && e.StatusCode == global::Grpc.Core.StatusCode.Internal
                    && e.Status.Detail.StartsWith("Error starting gRPC call", StringComparison.Ordinal))
                {
                    await Task.Delay(100);
                }
            }

            WorkflowState state = await CompletionAsync(app.Client, id);
            state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
            state.ReadOutputAs<string>().Should().Be("approved:after-restart");
            app.Ledger.Applied($"{id}:before").Should().Be(1);
            app.Ledger.Applied($"{id}:after:after-restart").Should().Be(1);
            app.Ledger.Effects.Where(e => e.StartsWith(id, StringComparison.Ordinal)).Should().HaveCount(2);
        }
        finally
        {
            await sidecar.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_workflow_survives_a_sidecar_restart_while_its_timer_runs_and_a_new_worker_finishes_it()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        SidecarOptions options = resources.Options() with { HttpPort = Hosting.SidecarRunner.FreePort(), GrpcPort = Hosting.SidecarRunner.FreePort() };
        string id = NewId("restart-timer");
        var ledger = new Ledger();
        EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(options);
        try
        {
            await using (WorkflowApp first = await WorkflowApp.StartAsync(sidecar.GrpcAddress, ledger))
            {
                await first.Client.ScheduleNewWorkflowAsync(nameof(TimerWorkflow), id, 1500);
                await UntilAsync(first.Client, id, s => s.ReadCustomStatusAs<string>() == "sleeping");
            }

            await sidecar.DisposeAsync();
            await Task.Delay(1600); // the timer falls due while no sidecar runs
            sidecar = await EmbeddedSidecar.StartAsync(options);
            await using WorkflowApp second = await WorkflowApp.StartAsync(sidecar.GrpcAddress, ledger);

            WorkflowState state = await CompletionAsync(second.Client, id);
            state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
            state.ReadOutputAs<string>().Should().Be("fired");
            ledger.Applied($"{id}:woke").Should().Be(1);
        }
        finally
        {
            await sidecar.DisposeAsync();
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        using JsonDocument document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    private static async Task<JsonElement> HttpUntilAsync(HttpClient http, string path, string status)
    {
        DateTime end = DateTime.UtcNow + Deadline;
        while (true)
        {
            using HttpResponseMessage response = await http.GetAsync(path);
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            JsonElement body = await ReadAsync(response);
            if (body.GetProperty("runtimeStatus").GetString() == status)
            {
                return body;
            }

            DateTime.UtcNow.Should().BeBefore(end, $"{path} should become {status}: {body}");
            await Task.Delay(50);
        }
    }

    private static async Task ExpectErrorAsync(HttpResponseMessage response, HttpStatusCode status, string errorCode)
    {
        using (response)
        {
            string body = await response.Content.ReadAsStringAsync();
            response.StatusCode.Should().Be(status, body);
            using JsonDocument document = JsonDocument.Parse(body);
            document.RootElement.GetProperty("errorCode").GetString().Should().Be(errorCode);
        }
    }
}
