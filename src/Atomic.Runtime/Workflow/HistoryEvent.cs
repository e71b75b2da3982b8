using System.Text.Json.Serialization;

namespace Atomic.Runtime.Workflow;

/// <summary>
/// One entry of a workflow instance's history, shaped after durabletask's <c>HistoryEvent</c>
/// (dapr/durabletask-protobuf, <c>orchestrator_service.proto</c>): the oneof case becomes the derived record, and
/// the JSON discriminator is the oneof field's name (<c>taskScheduled</c>, <c>timerFired</c>, …). Payloads are
/// serialized JSON strings, as the protobuf's <c>StringValue</c> fields are.
/// </summary>
/// <remarks>
/// <see cref="EventId"/> is the action's sequence number for events that record an action (taskScheduled,
/// timerCreated, subOrchestrationInstanceCreated, eventSent, executionCompleted) and -1 for every other event;
/// completions point back at their action with <c>TaskScheduledId</c> or <c>TimerId</c>.
/// </remarks>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ExecutionStarted), "executionStarted")]
[JsonDerivedType(typeof(ExecutionCompleted), "executionCompleted")]
[JsonDerivedType(typeof(ExecutionTerminated), "executionTerminated")]
[JsonDerivedType(typeof(TaskScheduled), "taskScheduled")]
[JsonDerivedType(typeof(TaskCompleted), "taskCompleted")]
[JsonDerivedType(typeof(TaskFailed), "taskFailed")]
[JsonDerivedType(typeof(SubOrchestrationInstanceCreated), "subOrchestrationInstanceCreated")]
[JsonDerivedType(typeof(SubOrchestrationInstanceCompleted), "subOrchestrationInstanceCompleted")]
[JsonDerivedType(typeof(SubOrchestrationInstanceFailed), "subOrchestrationInstanceFailed")]
[JsonDerivedType(typeof(TimerCreated), "timerCreated")]
[JsonDerivedType(typeof(TimerFired), "timerFired")]
[JsonDerivedType(typeof(OrchestratorStarted), "orchestratorStarted")]
[JsonDerivedType(typeof(OrchestratorCompleted), "orchestratorCompleted")]
[JsonDerivedType(typeof(EventSent), "eventSent")]
[JsonDerivedType(typeof(EventRaised), "eventRaised")]
[JsonDerivedType(typeof(ContinueAsNew), "continueAsNew")]
[JsonDerivedType(typeof(ExecutionSuspended), "executionSuspended")]
[JsonDerivedType(typeof(ExecutionResumed), "executionResumed")]
public abstract record HistoryEvent(int EventId, DateTimeOffset Timestamp)
{
    /// <summary>The event id of events that do not record an action.</summary>
    public const int NoId = -1;

    /// <summary>A generation of the instance starts; <paramref name="ExecutionId"/> is new for every generation (continue-as-new).</summary>
    public sealed record ExecutionStarted(
        int EventId,
        DateTimeOffset Timestamp,
        string Name,
        string? Input,
        string InstanceId,
        string ExecutionId,
        ParentInstanceInfo? ParentInstance = null,
        DateTimeOffset? ScheduledStartTimestamp = null) : HistoryEvent(EventId, Timestamp);

    /// <summary>The orchestrator finished (completed, failed or terminated).</summary>
    public sealed record ExecutionCompleted(
        int EventId, DateTimeOffset Timestamp, WorkflowRuntimeStatus OrchestrationStatus, string? Result, TaskFailureDetails? FailureDetails = null)
        : HistoryEvent(EventId, Timestamp);

    /// <summary>A request to terminate; <paramref name="Input"/> becomes the output, <paramref name="Recurse"/> terminates children too.</summary>
    public sealed record ExecutionTerminated(int EventId, DateTimeOffset Timestamp, string? Input, bool Recurse) : HistoryEvent(EventId, Timestamp);

    /// <summary>The orchestrator scheduled activity <paramref name="Name"/>; <paramref name="TaskExecutionId"/> is stable across retries and reruns.</summary>
    public sealed record TaskScheduled(int EventId, DateTimeOffset Timestamp, string Name, string? Input, string TaskExecutionId)
        : HistoryEvent(EventId, Timestamp);

    /// <summary>The activity scheduled as <paramref name="TaskScheduledId"/> returned <paramref name="Result"/>.</summary>
    public sealed record TaskCompleted(int EventId, DateTimeOffset Timestamp, int TaskScheduledId, string? Result, string? TaskExecutionId = null)
        : HistoryEvent(EventId, Timestamp);

    /// <summary>The activity scheduled as <paramref name="TaskScheduledId"/> threw.</summary>
    public sealed record TaskFailed(int EventId, DateTimeOffset Timestamp, int TaskScheduledId, TaskFailureDetails FailureDetails, string? TaskExecutionId = null)
        : HistoryEvent(EventId, Timestamp);

    /// <summary>The orchestrator started child workflow <paramref name="InstanceId"/>.</summary>
    public sealed record SubOrchestrationInstanceCreated(int EventId, DateTimeOffset Timestamp, string InstanceId, string Name, string? Input)
        : HistoryEvent(EventId, Timestamp);

    /// <summary>The child started as <paramref name="TaskScheduledId"/> completed.</summary>
    public sealed record SubOrchestrationInstanceCompleted(int EventId, DateTimeOffset Timestamp, int TaskScheduledId, string? Result)
        : HistoryEvent(EventId, Timestamp);

    /// <summary>The child started as <paramref name="TaskScheduledId"/> failed or was terminated.</summary>
    public sealed record SubOrchestrationInstanceFailed(int EventId, DateTimeOffset Timestamp, int TaskScheduledId, TaskFailureDetails FailureDetails)
        : HistoryEvent(EventId, Timestamp);

    /// <summary>The orchestrator created a durable timer.</summary>
    public sealed record TimerCreated(int EventId, DateTimeOffset Timestamp, DateTimeOffset FireAt, string? Name = null) : HistoryEvent(EventId, Timestamp);

    /// <summary>The timer created as <paramref name="TimerId"/> fired.</summary>
    public sealed record TimerFired(int EventId, DateTimeOffset Timestamp, DateTimeOffset FireAt, int TimerId) : HistoryEvent(EventId, Timestamp);

    /// <summary>An episode begins; its timestamp is the orchestrator's <see cref="WorkflowContext.CurrentUtcDateTime"/>.</summary>
    public sealed record OrchestratorStarted(int EventId, DateTimeOffset Timestamp) : HistoryEvent(EventId, Timestamp);

    /// <summary>An episode ends.</summary>
    public sealed record OrchestratorCompleted(int EventId, DateTimeOffset Timestamp) : HistoryEvent(EventId, Timestamp);

    /// <summary>The orchestrator sent event <paramref name="Name"/> to <paramref name="InstanceId"/>.</summary>
    public sealed record EventSent(int EventId, DateTimeOffset Timestamp, string InstanceId, string Name, string? Input) : HistoryEvent(EventId, Timestamp);

    /// <summary>An external event arrived.</summary>
    public sealed record EventRaised(int EventId, DateTimeOffset Timestamp, string Name, string? Input) : HistoryEvent(EventId, Timestamp);

    /// <summary>The instance continued as new with <paramref name="Input"/> (kept for the model; the embedded host starts a fresh history instead).</summary>
    public sealed record ContinueAsNew(int EventId, DateTimeOffset Timestamp, string? Input) : HistoryEvent(EventId, Timestamp);

    /// <summary>A request to pause: later messages wait until <see cref="ExecutionResumed"/>.</summary>
    public sealed record ExecutionSuspended(int EventId, DateTimeOffset Timestamp, string? Input) : HistoryEvent(EventId, Timestamp);

    /// <summary>A request to resume after <see cref="ExecutionSuspended"/>.</summary>
    public sealed record ExecutionResumed(int EventId, DateTimeOffset Timestamp, string? Input) : HistoryEvent(EventId, Timestamp);
}

/// <summary>Who started a child workflow (durabletask's <c>ParentInstanceInfo</c>): completion goes back to this instance and task id.</summary>
public sealed record ParentInstanceInfo(int TaskScheduledId, string Name, string InstanceId, string? ExecutionId);
