using Atomic.Runtime.Dapr.Tests.Fakes;
using Atomic.Runtime.Dapr.Workflow;
using Atomic.Runtime.Tests.Workflow;
using Atomic.Runtime.Workflow;

namespace Atomic.Runtime.Dapr.Tests.Conformance;

/// <summary>
/// The workflow conformance suite, unchanged, against the Dapr host: each start is a new <see cref="DaprWorkflowWorker"/>
/// on the fake sidecar's gRPC listener plus a <see cref="DaprWorkflowClient"/> on its HTTP API; the one
/// <see cref="FakeSidecar"/> of a test keeps the instances across worker restarts and hands out again what a stopped
/// worker left unfinished. Three tests are skipped: they assert what the workflow HTTP API cannot carry.
/// </summary>
public sealed class DaprWorkflowConformanceTests : WorkflowConformance
{
    private FakeSidecar? _sidecar;

    private FakeSidecar Sidecar => _sidecar ?? throw new InvalidOperationException("no runtime was started");

    [Fact(Skip = "GET /v1.0/workflows/dapr/{id} reports a failure as dapr.workflow.failure.error_type/error_message/stack_trace only: the inner failure the test asserts does not cross the HTTP API")]
    public override Task An_activity_failure_can_be_caught_and_an_uncaught_one_fails_the_workflow_with_its_details() => Task.CompletedTask;

    [Fact(Skip = "POST /v1.0/workflows/dapr/{id}/terminate carries no output (daprd's terminate is recursive and output-less): the termination output the test asserts cannot be sent")]
    public override Task Terminating_recursively_ends_the_instance_and_its_running_children() => Task.CompletedTask;

    [Fact(Skip = "POST /v1.0/workflows/dapr/{name}/start has no start-time parameter: DaprWorkflowClient refuses startAt with NotSupportedException")]
    public override Task A_scheduled_start_stays_pending_until_its_time() => Task.CompletedTask;

    protected override async Task<WorkflowRuntimeUnderTest> StartRuntimeAsync(WorkflowRegistry registry)
    {
        _sidecar ??= await FakeSidecar.StartAsync(new FakeSidecarOptions { ApiToken = "sidecar-token" });
        var grpc = new GrpcClient(_sidecar.GrpcAddress, "sidecar-token");
        var worker = new DaprWorkflowWorker(grpc, registry, new DaprWorkflowWorkerOptions { ReconnectDelay = TimeSpan.FromMilliseconds(20) });
        HttpClient http = DaprSidecar.CreateHttpClient(new DaprOptions { HttpEndpoint = _sidecar.Address, ApiToken = "sidecar-token" });
        await worker.StartAsync(CancellationToken.None);
        return new WorkflowRuntimeUnderTest(new DaprWorkflowClient(http, TimeSpan.FromMilliseconds(10)), async () =>
        {
            await worker.StopAsync(CancellationToken.None);
            worker.Dispose();
            grpc.Dispose();
            http.Dispose();
        });
    }

    protected override Task<IReadOnlyList<string>> UnfinishedInstancesAsync() => Task.FromResult(Sidecar.UnfinishedWorkflows());

    protected override Task<int> StoredEpisodesAsync(string instanceId) => Task.FromResult(Sidecar.WorkflowEpisodes(instanceId));

    protected override Task<bool> HoldsInstanceDataAsync(string instanceIdPrefix) => Task.FromResult(Sidecar.HoldsWorkflow(instanceIdPrefix));

    protected override async Task CloseAsync()
    {
        if (_sidecar is not null)
        {
            _sidecar.Faults.Should().BeEmpty("the worker's calls and the app's answers were well-formed");
            await _sidecar.DisposeAsync();
        }
    }
}
