using System.Text.Json.Serialization;

namespace Atomic.Runtime.Workflow;

/// <summary>
/// What an orchestrator asks its host to do after an episode, shaped after durabletask's <c>OrchestratorAction</c>
/// oneof. <see cref="Id"/> is the action's sequence number; the host records each action as the matching history
/// event with that <see cref="HistoryEvent.EventId"/> (scheduleTask → taskScheduled, createTimer → timerCreated,
/// createSubOrchestration → subOrchestrationInstanceCreated, sendEvent → eventSent).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ScheduleTask), "scheduleTask")]
[JsonDerivedType(typeof(CreateSubOrchestration), "createSubOrchestration")]
[JsonDerivedType(typeof(CreateTimer), "createTimer")]
[JsonDerivedType(typeof(SendEvent), "sendEvent")]
[JsonDerivedType(typeof(CompleteOrchestration), "completeOrchestration")]
[JsonDerivedType(typeof(TerminateOrchestration), "terminateOrchestration")]
public abstract record OrchestratorAction(int Id)
{
    /// <summary>
    /// The history event a host appends once it has carried out this action, with <see cref="HistoryEvent.EventId"/> =
    /// <see cref="Id"/>; null for continue-as-new and terminateOrchestration, which leave no event in this history.
    /// </summary>
    public HistoryEvent? ToHistoryEvent(DateTimeOffset timestamp) => this switch
    {
        ScheduleTask a => new HistoryEvent.TaskScheduled(Id, timestamp, a.Name, a.Input, a.TaskExecutionId),
        CreateSubOrchestration a => new HistoryEvent.SubOrchestrationInstanceCreated(Id, timestamp, a.InstanceId, a.Name, a.Input),
        CreateTimer a => new HistoryEvent.TimerCreated(Id, timestamp, a.FireAt, a.Name),
        SendEvent a => new HistoryEvent.EventSent(Id, timestamp, a.InstanceId, a.Name, a.Data),
        CompleteOrchestration { OrchestrationStatus: not WorkflowRuntimeStatus.ContinuedAsNew } a =>
            new HistoryEvent.ExecutionCompleted(Id, timestamp, a.OrchestrationStatus, a.Result, a.FailureDetails),
        _ => null,
    };

    /// <summary>Run activity <paramref name="Name"/>.</summary>
    public sealed record ScheduleTask(int Id, string Name, string? Input, string TaskExecutionId) : OrchestratorAction(Id);

    /// <summary>Start child workflow <paramref name="Name"/> as <paramref name="InstanceId"/>.</summary>
    public sealed record CreateSubOrchestration(int Id, string InstanceId, string Name, string? Input) : OrchestratorAction(Id);

    /// <summary>Fire a timer at <paramref name="FireAt"/>.</summary>
    public sealed record CreateTimer(int Id, DateTimeOffset FireAt, string? Name = null) : OrchestratorAction(Id);

    /// <summary>Raise event <paramref name="Name"/> on instance <paramref name="InstanceId"/>.</summary>
    public sealed record SendEvent(int Id, string InstanceId, string Name, string? Data) : OrchestratorAction(Id);

    /// <summary>
    /// The orchestrator is done with status <paramref name="OrchestrationStatus"/>. For
    /// <see cref="WorkflowRuntimeStatus.ContinuedAsNew"/>, <paramref name="Result"/> is the new input and
    /// <paramref name="CarryoverEvents"/> the external events the next generation receives first.
    /// </summary>
    public sealed record CompleteOrchestration(
        int Id,
        WorkflowRuntimeStatus OrchestrationStatus,
        string? Result,
        TaskFailureDetails? FailureDetails = null,
        IReadOnlyList<HistoryEvent>? CarryoverEvents = null) : OrchestratorAction(Id);

    /// <summary>Terminate instance <paramref name="InstanceId"/> (a child, when its parent is terminated recursively).</summary>
    public sealed record TerminateOrchestration(int Id, string InstanceId, string? Reason, bool Recurse) : OrchestratorAction(Id);
}

/// <summary>One episode's outcome (durabletask's <c>OrchestratorResponse</c>): actions in sequence order, then the custom status.</summary>
public sealed record OrchestratorResult(IReadOnlyList<OrchestratorAction> Actions, string? CustomStatus);

/// <summary>One activity to run (durabletask's <c>ActivityRequest</c>).</summary>
public sealed record ActivityRequest(string Name, string? Input, string InstanceId, int TaskId, string TaskExecutionId);

/// <summary>An activity's outcome (durabletask's <c>ActivityResponse</c>): a result, or failure details.</summary>
public sealed record ActivityResponse(string InstanceId, int TaskId, string? Result, TaskFailureDetails? FailureDetails);
