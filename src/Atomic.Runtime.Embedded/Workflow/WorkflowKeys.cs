using System.Globalization;
using System.Text.Json;
using Atomic.Runtime.State;
using Atomic.Runtime.Workflow;

namespace Atomic.Runtime.Embedded.Workflow;

/// <summary>
/// Where the embedded workflow engine keeps things in the state store. Every key starts with <c>wf||</c>:
/// <code>
/// wf||live||{id}                                   an instance that has not finished (startup lists only these)
/// wf||inst||{id}||meta                             InstanceRecord: name, status, input/output, generation (executionId)
/// wf||inst||{id}||history||{page:D6}               one episode's history events, pages 1, 2, … of the current generation
/// wf||inst||{id}||inbox||{ticks}.{seq}.{run}       InboxRecord: a message not yet applied (result, event, terminate…)
/// wf||inst||{id}||activity||{executionId}||{task}  ActivityRecord: an activity to run (deleted with its result's arrival)
/// wf||inst||{id}||timer||{executionId}||{timer}    TimerRecord: a durable timer not yet applied
/// </code>
/// Instance ids may not contain <c>||</c>, so one instance's keys never share a prefix with another's. A generation with
/// no history page has not started: its <c>executionStarted</c> event is made from the record rather than stored.
/// </summary>
internal static class WorkflowKeys
{
    public const string LivePrefix = "wf||live||";

    public static string Live(string id) => LivePrefix + id;

    public static string Instance(string id) => $"wf||inst||{id}||";

    public static string Meta(string id) => $"wf||inst||{id}||meta";

    public static string History(string id, int page) => string.Create(CultureInfo.InvariantCulture, $"wf||inst||{id}||history||{page:D6}");

    public static string Inbox(string id, string sequence) => $"wf||inst||{id}||inbox||{sequence}";

    public static string Activity(string id, string executionId, int taskId) =>
        string.Create(CultureInfo.InvariantCulture, $"wf||inst||{id}||activity||{executionId}||{taskId:D6}");

    public static string Timer(string id, string executionId, int timerId) =>
        string.Create(CultureInfo.InvariantCulture, $"wf||inst||{id}||timer||{executionId}||{timerId:D6}");

    public static void Validate(string instanceId)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        if (instanceId.Contains("||", StringComparison.Ordinal) || instanceId.Length > 256)
        {
            throw new ArgumentException($"workflow instance id '{instanceId}' must be at most 256 characters without '||'", nameof(instanceId));
        }
    }

    public static StateOperation Upsert<T>(string key, T value) =>
        new StateOperation.Upsert(new StateWrite(key, JsonSerializer.SerializeToUtf8Bytes(value, WorkflowJson.Records)));

    public static StateOperation Delete(string key) => new StateOperation.Delete(key);

    public static T Read<T>(StateItem item) => JsonSerializer.Deserialize<T>(item.Value.Span, WorkflowJson.Records)
        ?? throw new InvalidOperationException($"a stored {typeof(T).Name} is null");
}

/// <summary>
/// The instance's summary (<c>wf||inst||{id}||meta</c>), rewritten when something in it other than the time changes;
/// on load, <see cref="LastUpdatedAt"/> is brought forward to the last history event.
/// </summary>
internal sealed record InstanceRecord(
    string Name,
    WorkflowRuntimeStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    string ExecutionId,
    string? Input = null,
    string? Output = null,
    string? CustomStatus = null,
    TaskFailureDetails? Failure = null,
    ParentInstanceInfo? Parent = null,
    DateTimeOffset? ScheduledStartAt = null)
{
    /// <summary>The event that starts the record's generation (its timestamp: when the generation began).</summary>
    public HistoryEvent.ExecutionStarted StartEvent(string instanceId) =>
        new(HistoryEvent.NoId, LastUpdatedAt, Name, Input, instanceId, ExecutionId, Parent, ScheduledStartAt);
}

/// <summary>A message for an instance. <see cref="ExecutionId"/>, when set, is the generation it is for: later generations drop it.</summary>
internal sealed record InboxRecord(string? ExecutionId, HistoryEvent Event);

/// <summary>An activity the instance scheduled and has no result for yet.</summary>
internal sealed record ActivityRecord(string ExecutionId, int TaskId, string Name, string? Input, string TaskExecutionId);

/// <summary>A durable timer the instance created and has not yet applied.</summary>
internal sealed record TimerRecord(string ExecutionId, int TimerId, DateTimeOffset FireAt);
