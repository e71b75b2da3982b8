namespace Atomic.Runtime.Workflow;

/// <summary>
/// The replay engine, shaped like a durabletask worker's orchestrator call (<c>OrchestratorRequest{instanceId,
/// pastEvents, newEvents}</c> → <c>OrchestratorResponse{actions, customStatus}</c>), so that the embedded host and a
/// Dapr sidecar worker run the same code. Each call builds the workflow afresh, replays <c>pastEvents</c> (with
/// <see cref="WorkflowContext.IsReplaying"/> true), applies <c>newEvents</c>, and answers the actions the code took
/// that history does not yet record. Pure: no clock, no I/O, no threads.
/// </summary>
/// <remarks>
/// The workflow's continuations run on a private single-threaded <see cref="SynchronizationContext"/>: a task
/// completes when its history event is applied, its awaiters run at once on the calling thread, and whatever they post
/// is drained before the next event — so the code sees the same results in the same order on every replay. If the
/// code schedules something other than what history records at the same sequence number, the instance fails with
/// <see cref="WorkflowNonDeterminismException"/>.
/// </remarks>
public sealed class OrchestrationExecutor(WorkflowRegistry registry)
{
    private readonly WorkflowRegistry _registry = registry ?? throw new ArgumentNullException(nameof(registry));

    /// <summary>Replays <paramref name="pastEvents"/>, applies <paramref name="newEvents"/>, and returns the new actions and custom status.</summary>
    public OrchestratorResult Execute(string instanceId, IReadOnlyList<HistoryEvent> pastEvents, IReadOnlyList<HistoryEvent> newEvents)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentNullException.ThrowIfNull(pastEvents);
        ArgumentNullException.ThrowIfNull(newEvents);
        return new ReplayContext(_registry, instanceId).Run(pastEvents, newEvents);
    }
}
