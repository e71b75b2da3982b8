namespace Atomic.Runtime.Workflow;

/// <summary>
/// Workflow management (Dapr's workflow API, <c>/v1.0/workflows/dapr/…</c>, and <c>DaprWorkflowClient</c>): start,
/// read, wait for, raise events on, terminate, pause, resume and purge instances. Inputs and payloads are serialized
/// with <see cref="WorkflowJson.Payloads"/>.
/// </summary>
public interface IWorkflowClient
{
    /// <summary>Starts workflow <paramref name="name"/> (at <paramref name="startAt"/>, or now) and returns its instance id (new when not given).</summary>
    Task<string> ScheduleNewWorkflowAsync(
        string name, object? input = null, string? instanceId = null, DateTimeOffset? startAt = null, CancellationToken cancellationToken = default);

    /// <summary>The instance's state, or null when there is no such instance; without <paramref name="includeInputsAndOutputs"/> input, output and custom status are left out.</summary>
    Task<WorkflowState?> GetWorkflowStateAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default);

    /// <summary>Waits until the instance exists and has left <see cref="WorkflowRuntimeStatus.Pending"/>.</summary>
    Task<WorkflowState> WaitForWorkflowStartAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default);

    /// <summary>Waits until the instance is completed, failed, terminated or canceled.</summary>
    Task<WorkflowState> WaitForWorkflowCompletionAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default);

    /// <summary>Delivers event <paramref name="eventName"/>; an instance that has finished ignores it. Throws <see cref="InvalidOperationException"/> for an unknown instance.</summary>
    Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellationToken = default);

    /// <summary>Ends the instance with status Terminated and <paramref name="output"/>; with <paramref name="recursive"/>, its running children too.</summary>
    Task TerminateWorkflowAsync(string instanceId, object? output = null, bool recursive = true, CancellationToken cancellationToken = default);

    /// <summary>Pauses the instance: events and results queue until it is resumed.</summary>
    Task SuspendWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Resumes a paused instance.</summary>
    Task ResumeWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a finished instance's state (and, with <paramref name="recursive"/>, its finished children's); false when it is absent or still running.</summary>
    Task<bool> PurgeWorkflowAsync(string instanceId, bool recursive = true, CancellationToken cancellationToken = default);
}
