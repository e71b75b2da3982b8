using System.Collections.Concurrent;
using Atomic.Runtime.Embedded.Workflow;
using Atomic.Runtime.State;
using Atomic.Runtime.Workflow;

namespace Atomic.Runtime.Tests.Workflow;

/// <summary>
/// The workflow conformance suite on the embedded engine: every engine of one test shares <see cref="Store"/>, and
/// what the suite asks about the store is read from the engine's keys (<c>wf||live||…</c>, <c>wf||inst||…</c>).
/// </summary>
public abstract class EmbeddedWorkflowConformance : WorkflowConformance
{
    private readonly ConcurrentQueue<Exception> _errors = new();

    /// <summary>The store every engine of one test shares.</summary>
    protected abstract IStateStore Store { get; }

    protected virtual Task DisposeStoreAsync() => Task.CompletedTask;

    protected override async Task<WorkflowRuntimeUnderTest> StartRuntimeAsync(WorkflowRegistry registry)
    {
        var engine = new WorkflowEngine(Store, registry, new WorkflowEngineOptions { RetryDelay = TimeSpan.FromMilliseconds(50), OnError = _errors.Enqueue });
        await engine.StartAsync();
        return new WorkflowRuntimeUnderTest(engine, engine.DisposeAsync);
    }

    protected override async Task<IReadOnlyList<string>> UnfinishedInstancesAsync() => await KeysAsync("wf||live||");

    protected override async Task<int> StoredEpisodesAsync(string instanceId) => (await KeysAsync($"wf||inst||{instanceId}||history||")).Count;

    protected override async Task<bool> HoldsInstanceDataAsync(string instanceIdPrefix) => (await KeysAsync($"wf||inst||{instanceIdPrefix}")).Count > 0;

    protected override async Task CloseAsync()
    {
        _errors.Should().BeEmpty("the engine met no store failure");
        await DisposeStoreAsync();
    }

    private async Task<List<string>> KeysAsync(string prefix)
    {
        var keys = new List<string>();
        await foreach ((string key, StateItem _) in Store.ListAsync(prefix))
        {
            keys.Add(key);
        }

        return keys;
    }
}
