using Atomic.Runtime.Workflow;
using Google.Protobuf.WellKnownTypes;
using P = Atomic.Runtime.Dapr.Workflow.Protos;
using static Atomic.Runtime.Workflow.HistoryEvent;

namespace Atomic.Runtime.Dapr.Workflow;

/// <summary>
/// Our workflow records ↔ the durabletask protobuf messages. Both sides share durabletask's shape, so every case maps
/// one to one; a <c>StringValue</c> that is absent is null. History events the replay engine does not know
/// (entity events, <c>genericEvent</c>, <c>historyState</c>) read as null and are left out of the replay.
/// </summary>
public static class WorkflowProto
{
    public static HistoryEvent? FromProto(P.HistoryEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        int id = e.EventId;
        DateTimeOffset at = Time(e.Timestamp);
        return e.EventTypeCase switch
        {
            P.HistoryEvent.EventTypeOneofCase.ExecutionStarted => new ExecutionStarted(
                id, at, e.ExecutionStarted.Name, e.ExecutionStarted.Input, e.ExecutionStarted.OrchestrationInstance?.InstanceId ?? "",
                e.ExecutionStarted.OrchestrationInstance?.ExecutionId ?? "",
                e.ExecutionStarted.ParentInstance is { } parent
                    ? new ParentInstanceInfo(parent.TaskScheduledId, parent.Name ?? "", parent.OrchestrationInstance?.InstanceId ?? "", parent.OrchestrationInstance?.ExecutionId)
                    : null,
                e.ExecutionStarted.ScheduledStartTimestamp is { } start ? Time(start) : null),
            P.HistoryEvent.EventTypeOneofCase.ExecutionCompleted => new ExecutionCompleted(
                id, at, (WorkflowRuntimeStatus)e.ExecutionCompleted.OrchestrationStatus, e.ExecutionCompleted.Result, Failure(e.ExecutionCompleted.FailureDetails)),
            P.HistoryEvent.EventTypeOneofCase.ExecutionTerminated => new ExecutionTerminated(id, at, e.ExecutionTerminated.Input, e.ExecutionTerminated.Recurse),
            P.HistoryEvent.EventTypeOneofCase.TaskScheduled => new TaskScheduled(id, at, e.TaskScheduled.Name, e.TaskScheduled.Input, e.TaskScheduled.TaskExecutionId),
            P.HistoryEvent.EventTypeOneofCase.TaskCompleted => new TaskCompleted(
                id, at, e.TaskCompleted.TaskScheduledId, e.TaskCompleted.Result, Empty(e.TaskCompleted.TaskExecutionId)),
            P.HistoryEvent.EventTypeOneofCase.TaskFailed => new TaskFailed(
                id, at, e.TaskFailed.TaskScheduledId, Failure(e.TaskFailed.FailureDetails) ?? Unknown, Empty(e.TaskFailed.TaskExecutionId)),
            P.HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCreated => new SubOrchestrationInstanceCreated(
                id, at, e.SubOrchestrationInstanceCreated.InstanceId, e.SubOrchestrationInstanceCreated.Name, e.SubOrchestrationInstanceCreated.Input),
            P.HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCompleted => new SubOrchestrationInstanceCompleted(
                id, at, e.SubOrchestrationInstanceCompleted.TaskScheduledId, e.SubOrchestrationInstanceCompleted.Result),
            P.HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceFailed => new SubOrchestrationInstanceFailed(
                id, at, e.SubOrchestrationInstanceFailed.TaskScheduledId, Failure(e.SubOrchestrationInstanceFailed.FailureDetails) ?? Unknown),
            P.HistoryEvent.EventTypeOneofCase.TimerCreated => new TimerCreated(
                id, at, Time(e.TimerCreated.FireAt), e.TimerCreated.HasName ? e.TimerCreated.Name : null),
            P.HistoryEvent.EventTypeOneofCase.TimerFired => new TimerFired(id, at, Time(e.TimerFired.FireAt), e.TimerFired.TimerId),
            P.HistoryEvent.EventTypeOneofCase.OrchestratorStarted => new OrchestratorStarted(id, at),
            P.HistoryEvent.EventTypeOneofCase.OrchestratorCompleted => new OrchestratorCompleted(id, at),
            P.HistoryEvent.EventTypeOneofCase.EventSent => new EventSent(id, at, e.EventSent.InstanceId, e.EventSent.Name, e.EventSent.Input),
            P.HistoryEvent.EventTypeOneofCase.EventRaised => new EventRaised(id, at, e.EventRaised.Name, e.EventRaised.Input),
            P.HistoryEvent.EventTypeOneofCase.ContinueAsNew => new ContinueAsNew(id, at, e.ContinueAsNew.Input),
            P.HistoryEvent.EventTypeOneofCase.ExecutionSuspended => new ExecutionSuspended(id, at, e.ExecutionSuspended.Input),
            P.HistoryEvent.EventTypeOneofCase.ExecutionResumed => new ExecutionResumed(id, at, e.ExecutionResumed.Input),
            _ => null,
        };
    }

    public static P.HistoryEvent ToProto(HistoryEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var proto = new P.HistoryEvent { EventId = e.EventId, Timestamp = Timestamp.FromDateTimeOffset(e.Timestamp) };
        switch (e)
        {
            case ExecutionStarted s:
                proto.ExecutionStarted = new P.ExecutionStartedEvent
                {
                    Name = s.Name,
                    Input = s.Input,
                    OrchestrationInstance = new P.OrchestrationInstance { InstanceId = s.InstanceId, ExecutionId = s.ExecutionId },
                    ParentInstance = s.ParentInstance is { } parent
                        ? new P.ParentInstanceInfo
                        {
                            TaskScheduledId = parent.TaskScheduledId,
                            Name = parent.Name,
                            OrchestrationInstance = new P.OrchestrationInstance { InstanceId = parent.InstanceId, ExecutionId = parent.ExecutionId },
                        }
                        : null,
                    ScheduledStartTimestamp = s.ScheduledStartTimestamp is { } start ? Timestamp.FromDateTimeOffset(start) : null,
                };
                break;
            case ExecutionCompleted c:
                proto.ExecutionCompleted = new P.ExecutionCompletedEvent
                {
                    OrchestrationStatus = (P.OrchestrationStatus)c.OrchestrationStatus,
                    Result = c.Result,
                    FailureDetails = ToProto(c.FailureDetails),
                };
                break;
            case ExecutionTerminated t:
                proto.ExecutionTerminated = new P.ExecutionTerminatedEvent { Input = t.Input, Recurse = t.Recurse };
                break;
            case TaskScheduled t:
                proto.TaskScheduled = new P.TaskScheduledEvent { Name = t.Name, Input = t.Input, TaskExecutionId = t.TaskExecutionId };
                break;
            case TaskCompleted t:
                proto.TaskCompleted = new P.TaskCompletedEvent { TaskScheduledId = t.TaskScheduledId, Result = t.Result, TaskExecutionId = t.TaskExecutionId ?? "" };
                break;
            case TaskFailed t:
                proto.TaskFailed = new P.TaskFailedEvent
                {
                    TaskScheduledId = t.TaskScheduledId,
                    FailureDetails = ToProto(t.FailureDetails),
                    TaskExecutionId = t.TaskExecutionId ?? "",
                };
                break;
            case SubOrchestrationInstanceCreated s:
                proto.SubOrchestrationInstanceCreated = new P.SubOrchestrationInstanceCreatedEvent { InstanceId = s.InstanceId, Name = s.Name, Input = s.Input };
                break;
            case SubOrchestrationInstanceCompleted s:
                proto.SubOrchestrationInstanceCompleted = new P.SubOrchestrationInstanceCompletedEvent { TaskScheduledId = s.TaskScheduledId, Result = s.Result };
                break;
            case SubOrchestrationInstanceFailed s:
                proto.SubOrchestrationInstanceFailed = new P.SubOrchestrationInstanceFailedEvent
                {
                    TaskScheduledId = s.TaskScheduledId,
                    FailureDetails = ToProto(s.FailureDetails),
                };
                break;
            case TimerCreated t:
                proto.TimerCreated = new P.TimerCreatedEvent { FireAt = Timestamp.FromDateTimeOffset(t.FireAt) };
                if (t.Name is not null)
                {
                    proto.TimerCreated.Name = t.Name;
                }

                break;
            case TimerFired t:
                proto.TimerFired = new P.TimerFiredEvent { FireAt = Timestamp.FromDateTimeOffset(t.FireAt), TimerId = t.TimerId };
                break;
            case OrchestratorStarted:
                proto.OrchestratorStarted = new P.OrchestratorStartedEvent();
                break;
            case OrchestratorCompleted:
                proto.OrchestratorCompleted = new P.OrchestratorCompletedEvent();
                break;
            case EventSent s:
                proto.EventSent = new P.EventSentEvent { InstanceId = s.InstanceId, Name = s.Name, Input = s.Input };
                break;
            case EventRaised r:
                proto.EventRaised = new P.EventRaisedEvent { Name = r.Name, Input = r.Input };
                break;
            case ContinueAsNew c:
                proto.ContinueAsNew = new P.ContinueAsNewEvent { Input = c.Input };
                break;
            case ExecutionSuspended s:
                proto.ExecutionSuspended = new P.ExecutionSuspendedEvent { Input = s.Input };
                break;
            case ExecutionResumed r:
                proto.ExecutionResumed = new P.ExecutionResumedEvent { Input = r.Input };
                break;
            default:
                throw new ArgumentException($"history event {e.GetType().Name} has no protobuf form", nameof(e));
        }

        return proto;
    }

    public static P.OrchestratorAction ToProto(OrchestratorAction action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var proto = new P.OrchestratorAction { Id = action.Id };
        switch (action)
        {
            case OrchestratorAction.ScheduleTask t:
                proto.ScheduleTask = new P.ScheduleTaskAction { Name = t.Name, Input = t.Input, TaskExecutionId = t.TaskExecutionId };
                break;
            case OrchestratorAction.CreateSubOrchestration s:
                proto.CreateSubOrchestration = new P.CreateSubOrchestrationAction { InstanceId = s.InstanceId, Name = s.Name, Input = s.Input };
                break;
            case OrchestratorAction.CreateTimer t:
                proto.CreateTimer = new P.CreateTimerAction { FireAt = Timestamp.FromDateTimeOffset(t.FireAt) };
                if (t.Name is not null)
                {
                    proto.CreateTimer.Name = t.Name;
                }

                break;
            case OrchestratorAction.SendEvent s:
                proto.SendEvent = new P.SendEventAction { Instance = new P.OrchestrationInstance { InstanceId = s.InstanceId }, Name = s.Name, Data = s.Data };
                break;
            case OrchestratorAction.CompleteOrchestration c:
                proto.CompleteOrchestration = new P.CompleteOrchestrationAction
                {
                    OrchestrationStatus = (P.OrchestrationStatus)c.OrchestrationStatus,
                    Result = c.Result,
                    FailureDetails = ToProto(c.FailureDetails),
                };
                foreach (HistoryEvent carried in c.CarryoverEvents ?? [])
                {
                    proto.CompleteOrchestration.CarryoverEvents.Add(ToProto(carried));
                }

                break;
            case OrchestratorAction.TerminateOrchestration t:
                proto.TerminateOrchestration = new P.TerminateOrchestrationAction { InstanceId = t.InstanceId, Reason = t.Reason, Recurse = t.Recurse };
                break;
            default:
                throw new ArgumentException($"action {action.GetType().Name} has no protobuf form", nameof(action));
        }

        return proto;
    }

    /// <summary>The action a protobuf action stands for; an action type this worker never sends (entity messages) is an error.</summary>
    public static OrchestratorAction FromProto(P.OrchestratorAction a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.OrchestratorActionTypeCase switch
        {
            P.OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask =>
                new OrchestratorAction.ScheduleTask(a.Id, a.ScheduleTask.Name, a.ScheduleTask.Input, a.ScheduleTask.TaskExecutionId),
            P.OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration => new OrchestratorAction.CreateSubOrchestration(
                a.Id, a.CreateSubOrchestration.InstanceId, a.CreateSubOrchestration.Name, a.CreateSubOrchestration.Input),
            P.OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer =>
                new OrchestratorAction.CreateTimer(a.Id, Time(a.CreateTimer.FireAt), a.CreateTimer.HasName ? a.CreateTimer.Name : null),
            P.OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent =>
                new OrchestratorAction.SendEvent(a.Id, a.SendEvent.Instance?.InstanceId ?? "", a.SendEvent.Name, a.SendEvent.Data),
            P.OrchestratorAction.OrchestratorActionTypeOneofCase.CompleteOrchestration => new OrchestratorAction.CompleteOrchestration(
                a.Id,
                (WorkflowRuntimeStatus)a.CompleteOrchestration.OrchestrationStatus,
                a.CompleteOrchestration.Result,
                Failure(a.CompleteOrchestration.FailureDetails),
                a.CompleteOrchestration.CarryoverEvents.Count == 0 ? null : [.. a.CompleteOrchestration.CarryoverEvents.Select(FromProto).OfType<HistoryEvent>()]),
            P.OrchestratorAction.OrchestratorActionTypeOneofCase.TerminateOrchestration => new OrchestratorAction.TerminateOrchestration(
                a.Id, a.TerminateOrchestration.InstanceId, a.TerminateOrchestration.Reason, a.TerminateOrchestration.Recurse),
            _ => throw new ArgumentException($"orchestrator action case {a.OrchestratorActionTypeCase} is not one this worker knows", nameof(a)),
        };
    }

    public static P.TaskFailureDetails? ToProto(TaskFailureDetails? details) => details is null
        ? null
        : new P.TaskFailureDetails
        {
            ErrorType = details.ErrorType,
            ErrorMessage = details.ErrorMessage,
            StackTrace = details.StackTrace,
            InnerFailure = ToProto(details.InnerFailure),
            IsNonRetriable = details.IsNonRetriable,
        };

    public static TaskFailureDetails? Failure(P.TaskFailureDetails? details) => details is null
        ? null
        : new TaskFailureDetails(details.ErrorType, details.ErrorMessage, details.StackTrace, Failure(details.InnerFailure), details.IsNonRetriable);

    public static ActivityRequest FromProto(P.ActivityRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new ActivityRequest(request.Name, request.Input, request.OrchestrationInstance?.InstanceId ?? "", request.TaskId, request.TaskExecutionId);
    }

    public static P.ActivityResponse ToProto(ActivityResponse response, string completionToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new P.ActivityResponse
        {
            InstanceId = response.InstanceId,
            TaskId = response.TaskId,
            Result = response.Result,
            FailureDetails = ToProto(response.FailureDetails),
            CompletionToken = completionToken ?? "",
        };
    }

    public static P.OrchestratorResponse ToProto(string instanceId, OrchestratorResult result, string completionToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        var response = new P.OrchestratorResponse { InstanceId = instanceId, CustomStatus = result.CustomStatus, CompletionToken = completionToken ?? "" };
        foreach (OrchestratorAction action in result.Actions)
        {
            response.Actions.Add(ToProto(action));
        }

        return response;
    }

    private static readonly TaskFailureDetails Unknown = new("Unknown", "the sidecar sent no failure details");

    private static DateTimeOffset Time(Timestamp? timestamp) => timestamp is null ? DateTimeOffset.UnixEpoch : timestamp.ToDateTimeOffset();

    private static string? Empty(string value) => value.Length == 0 ? null : value;
}
