using System.Diagnostics;
using Atomic.Runtime.Embedded.Workflow;

using Dapr.Workflow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Benchmarks;

/// <summary>
/// Completions per second of a workflow of three activities in sequence: run by the official <c>Dapr.Workflow</c> worker
/// against the embedded sidecar and managed with <c>DaprWorkflowClient</c>, beside the old in-process workflow engine.
/// </summary>
internal static class WorkflowBenchmark
{
    public sealed class ThreeSteps : Workflow<int, int>
    {
        public override async Task<int> RunAsync(WorkflowContext context, int input)
        {
            int a = await context.CallActivityAsync<int>(nameof(Step), input);
            int b = await context.CallActivityAsync<int>(nameof(Step), a);
            return await context.CallActivityAsync<int>(nameof(Step), b);
        }
    }

    public sealed class Step : WorkflowActivity<int, int>
    {
        public override Task<int> RunAsync(WorkflowActivityContext context, int input) => Task.FromResult(input + 1);
    }

    public static async Task RunAsync(int instances)
    {
        using var resources = new BenchResources();
        double sidecarRate;
        await using (EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options()))
        {
            HostApplicationBuilder builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["DAPR_GRPC_ENDPOINT"] = sidecar.GrpcAddress.ToString().TrimEnd('/') });
            builder.Logging.ClearProviders();
            builder.Services.AddDaprWorkflow(o =>
            {
                o.RegisterWorkflow<ThreeSteps>();
                o.RegisterActivity<Step>();
            });
            using IHost app = builder.Build();
            await app.StartAsync();
            DaprWorkflowClient client = app.Services.GetRequiredService<DaprWorkflowClient>();
            await Task.WhenAll(Enumerable.Range(0, instances).Select(i => CompleteAsync(client, $"warm-{i}", i)));
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, instances).Select(i => CompleteAsync(client, $"wf-{i}", i)));
            sidecarRate = instances / watch.Elapsed.TotalSeconds;
            await app.StopAsync();
        }

        using var direct = new BenchResources();
        await using SidecarComponents components = await SidecarComponents.LoadAsync(direct.Options());
        var registry = new Atomic.Runtime.Workflow.WorkflowRegistry()
            .AddWorkflow<int, int>("ThreeSteps", async (context, input) =>
            {
                int a = await context.CallActivityAsync<int>("Step", input);
                int b = await context.CallActivityAsync<int>("Step", a);
                return await context.CallActivityAsync<int>("Step", b);
            })
            .AddActivity<int, int>("Step", (_, n) => Task.FromResult(n + 1));
        await using var engine = new WorkflowEngine(components.StateStores["statestore"], registry);
        await engine.StartAsync();
        string[] warm = await Task.WhenAll(Enumerable.Range(0, instances).Select(i => engine.ScheduleNewWorkflowAsync("ThreeSteps", i)));
        await Task.WhenAll(warm.Select(id => engine.WaitForWorkflowCompletionAsync(id)));
        var inProcessWatch = Stopwatch.StartNew();
        string[] ids = await Task.WhenAll(Enumerable.Range(0, instances).Select(i => engine.ScheduleNewWorkflowAsync("ThreeSteps", i)));
        await Task.WhenAll(ids.Select(id => engine.WaitForWorkflowCompletionAsync(id)));
        double inProcessRate = instances / inProcessWatch.Elapsed.TotalSeconds;
        Rate.Print("workflow completions (3 activities)", sidecarRate, inProcessRate, 300, "wf/s");
    }

    private static async Task CompleteAsync(DaprWorkflowClient client, string id, int input)
    {
        await client.ScheduleNewWorkflowAsync(nameof(ThreeSteps), id, input);
        WorkflowState state = await client.WaitForWorkflowCompletionAsync(id);
        if (state.RuntimeStatus != WorkflowRuntimeStatus.Completed || state.ReadOutputAs<int>() != input + 3)
        {
            throw new InvalidOperationException($"workflow {id} ended {state.RuntimeStatus}");
        }
    }
}
