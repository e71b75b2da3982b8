using System.Diagnostics;
using Atomic.Runtime.Embedded.Workflow;
using Atomic.Runtime.State;
using Atomic.Runtime.Workflow;

namespace Atomic.Runtime.Benchmarks;

/// <summary>Completions per second of a workflow that calls three activities in sequence, 2,000 instances at once.</summary>
internal static class WorkflowThroughput
{
    private const int Instances = 2_000;

    public static Task RunAsync(BenchStores stores) => stores.ForEachDurableAsync(MeasureAsync);

    private static async Task MeasureAsync(string name, IStateStore store)
    {
        var registry = new WorkflowRegistry()
            .AddWorkflow<int, int>("ThreeSteps", async (context, input) =>
            {
                int a = await context.CallActivityAsync<int>("Step", input);
                int b = await context.CallActivityAsync<int>("Step", a);
                return await context.CallActivityAsync<int>("Step", b);
            })
            .AddActivity<int, int>("Step", (_, n) => Task.FromResult(n + 1));
        await using var engine = new WorkflowEngine(store, registry);
        await engine.StartAsync();

        var watch = Stopwatch.StartNew();
        string[] ids = await Task.WhenAll(Enumerable.Range(0, Instances).Select(i => engine.ScheduleNewWorkflowAsync("ThreeSteps", i)));
        WorkflowState[] states = await Task.WhenAll(ids.Select(id => engine.WaitForWorkflowCompletionAsync(id)));
        double rate = Instances / watch.Elapsed.TotalSeconds;
        int completed = states.Count(s => s.RuntimeStatus == WorkflowRuntimeStatus.Completed);
        Console.WriteLine($"workflow {name,-10} {rate,7:N0} completions/s   [{Instances:N0} instances of a 3-activity workflow, {completed:N0} completed]");
    }
}
