using Atomic.Runtime.Dapr.Tests.Fakes;
using Atomic.Runtime.Dapr.Workflow;
using Atomic.Runtime.Tests.Workflow;
using Atomic.Runtime.Workflow;

namespace Atomic.Runtime.Dapr.Tests.Conformance;

/// <summary>
/// The workflow conformance suite, unchanged, against the Dapr host: each start is a new <see cref="DaprWorkflowWorker"/>
/// on the fake sidecar's gRPC listener plus a <see cref="DaprWorkflowClient"/> on its HTTP API; the one
/// <see cref="FakeSidecar"/> of a test keeps the instances across worker restarts and hands out again what a stopped
/// worker left unfinished. What the workflow HTTP API cannot carry (a start time, a termination output, a failure's
/// inner failure) the client sends over the sidecar's gRPC port.
/// </summary>
[Collection(nameof(DaprWorkflowConformanceTests))]
public sealed class DaprWorkflowConformanceTests : WorkflowConformance
{
    private FakeSidecar? _sidecar;

    private FakeSidecar Sidecar => _sidecar ?? throw new InvalidOperationException("no runtime was started");

    protected override async Task<WorkflowRuntimeUnderTest> StartRuntimeAsync(WorkflowRegistry registry)
    {
        _sidecar ??= await FakeSidecar.StartAsync(new FakeSidecarOptions { ApiToken = "sidecar-token" });
        var grpc = new GrpcClient(_sidecar.GrpcAddress, "sidecar-token");
        var worker = new DaprWorkflowWorker(grpc, registry, new DaprWorkflowWorkerOptions { ReconnectDelay = TimeSpan.FromMilliseconds(20) });
        HttpClient http = DaprSidecar.CreateHttpClient(new DaprOptions { HttpEndpoint = _sidecar.Address, ApiToken = "sidecar-token" });
        await worker.StartAsync(CancellationToken.None);
        var client = new DaprWorkflowClient(http, TimeSpan.FromMilliseconds(10), grpc);

        // Open both connections and compile both paths before a test's clock starts: the scheduled-start test gives the
        // start call and the read after it 300 ms, which a cold process can spend connecting and compiling.
        (await client.GetWorkflowStateAsync("warm-up")).Should().BeNull();
        (await grpc.UnaryAsync(DaprWorkflowWorker.Path("GetInstance"), new Workflow.Protos.GetInstanceRequest { InstanceId = "warm-up" }, Workflow.Protos.GetInstanceResponse.Parser)).Exists.Should().BeFalse();
        return new WorkflowRuntimeUnderTest(client, async () =>
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

/// <summary>
/// The suite's timing tests (a scheduled start 300 ms out) cross two sockets here, not one process: it runs alone,
/// after the test classes that run in parallel, so that their load does not eat its budget.
/// </summary>
[CollectionDefinition(nameof(DaprWorkflowConformanceTests), DisableParallelization = true)]
public sealed class DaprWorkflowConformanceCollection;
