using Dapr.DurableTask.Protobuf;

namespace Atomic.Sidecar.Workflow;

/// <summary>
/// One workflow instance as the backend holds it: its stored state (null when absent or purged), the ETag of that
/// state, and the orchestration turn handed to a worker and not yet completed. Every change happens under
/// <see cref="Lock"/> on a clone of <see cref="State"/>, which replaces it once stored: a committed state is never
/// mutated, so readers without the lock see a consistent snapshot.
/// </summary>
internal sealed class InstanceEntry(string id)
{
    public string Id { get; } = id;

    public SemaphoreSlim Lock { get; } = new(1, 1);

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the instance's next stored change (waiters read it before they read the state).</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>Wakes the waiters of this instance only (one signal for all instances woke every waiter at every change).</summary>
    public void Signal() =>
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Whether <see cref="State"/> has been read from the store.</summary>
    public bool Loaded { get; set; }

    /// <summary>The committed state, or null when the instance does not exist.</summary>
    public volatile WorkflowRuntimeState? State;

    public string? ETag { get; set; }

    /// <summary>The turn a worker holds (its completion token, how many inbox events it carries, its WorkflowStarted event).</summary>
    public volatile Turn? InFlight;

    internal sealed record Turn(string Token, int Consumed, HistoryEvent Started);
}

/// <summary>What the stored <see cref="WorkflowRuntimeState"/> of an instance says, read the same way everywhere.</summary>
internal static class WorkflowStates
{
    /// <summary>The status daprd reports for the state.</summary>
    public static OrchestrationStatus Status(WorkflowRuntimeState state)
    {
        if (state.CompletedEvent is { } completed)
        {
            return completed.WorkflowStatus;
        }

        if (state.Stalled is not null)
        {
            return OrchestrationStatus.Stalled;
        }

        if (state.IsSuspended)
        {
            return OrchestrationStatus.Suspended;
        }

        return state.OldEvents.Any(e => e.ExecutionStarted is not null) ? OrchestrationStatus.Running : OrchestrationStatus.Pending;
    }

    public static bool IsTerminal(OrchestrationStatus status) =>
        status is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;

    public static bool IsTerminal(WorkflowRuntimeState state) => state.CompletedEvent is not null;

    public static string ExecutionId(WorkflowRuntimeState state) => state.StartEvent?.WorkflowInstance?.ExecutionId ?? string.Empty;

    public static string Name(WorkflowRuntimeState state) => state.StartEvent?.Name ?? string.Empty;

    /// <summary>The ids of the child workflows this execution created.</summary>
    public static IEnumerable<string> Children(WorkflowRuntimeState state) =>
        state.OldEvents.Where(e => e.ChildWorkflowInstanceCreated is not null).Select(e => e.ChildWorkflowInstanceCreated.InstanceId).Distinct(StringComparer.Ordinal);

    /// <summary>The state as the management APIs answer it.</summary>
    public static Dapr.DurableTask.Protobuf.WorkflowState ToWorkflowState(string instanceId, WorkflowRuntimeState state, bool inputsAndOutputs)
    {
        var answer = new Dapr.DurableTask.Protobuf.WorkflowState
        {
            InstanceId = instanceId,
            Name = Name(state),
            WorkflowStatus = Status(state),
            CreatedTimestamp = state.CreatedTime,
            LastUpdatedTimestamp = state.LastUpdatedTime,
            CustomStatus = state.CustomStatus,
            FailureDetails = state.CompletedEvent?.FailureDetails,
            ExecutionId = ExecutionId(state),
            CompletedTimestamp = state.CompletedTime,
        };
        if (state.StartEvent is { } start)
        {
            answer.Version = start.Version;
            answer.ScheduledStartTimestamp = start.ScheduledStartTimestamp;
            if (start.ParentInstance?.WorkflowInstance is { } parent)
            {
                answer.ParentInstanceId = parent.InstanceId;
            }

            answer.Tags.Add(start.Tags);

            if (inputsAndOutputs)
            {
                answer.Input = start.Input;
            }
        }

        if (state.OldEvents.FirstOrDefault(e => e.ExecutionStarted is not null) is { } started && started.Timestamp is not null)
        {
            answer.StartedAt = started.Timestamp;
        }

        if (inputsAndOutputs)
        {
            answer.Output = state.CompletedEvent?.Result;
        }

        return answer;
    }
}
