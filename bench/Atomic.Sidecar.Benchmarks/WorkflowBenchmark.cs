using System.Diagnostics;

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

        Rate.Print("workflow completions (3 activities)", sidecarRate, "1,505 wf/s at d0bdbd8", 300, "wf/s");
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
