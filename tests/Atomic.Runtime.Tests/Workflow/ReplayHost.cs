using Atomic.Runtime.Workflow;
using static Atomic.Runtime.Workflow.HistoryEvent;

namespace Atomic.Runtime.Tests.Workflow;

/// <summary>
/// A host in miniature for the replay engine's unit tests: feeds one episode at a time to
/// <see cref="OrchestrationExecutor"/> and records history the way a host does (the applied events, then one event per
/// action), with a clock that moves one second per episode.
/// </summary>
internal sealed class ReplayHost(WorkflowRegistry registry, string instanceId = "instance-1")
{
    private readonly OrchestrationExecutor _executor = new(registry);

    public string InstanceId { get; } = instanceId;

    public List<HistoryEvent> History { get; } = [];

    public DateTimeOffset Now { get; private set; } = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    public OrchestratorResult Start(string name, object? input = null) =>
        Step(new ExecutionStarted(NoId, Now, name, WorkflowJson.Serialize(input), InstanceId, "generation-1"));

    /// <summary>Runs one episode that applies <paramref name="messages"/>, and appends it to <see cref="History"/>.</summary>
    public OrchestratorResult Step(params HistoryEvent[] messages)
    {
        var fresh = new List<HistoryEvent> { new OrchestratorStarted(NoId, Now) };
        fresh.AddRange(messages);
        OrchestratorResult result = _executor.Execute(InstanceId, History, fresh);
        History.AddRange(fresh);
        foreach (OrchestratorAction action in result.Actions)
        {
            if (action.ToHistoryEvent(Now) is HistoryEvent recorded)
            {
                History.Add(recorded);
            }
        }

        History.Add(new OrchestratorCompleted(NoId, Now));
        Now += TimeSpan.FromSeconds(1);
        return result;
    }

    /// <summary>Replays the whole history with nothing new.</summary>
    public OrchestratorResult Replay() => _executor.Execute(InstanceId, History, []);

    public TaskCompleted Completed(int taskId, object? result) => new(NoId, Now, taskId, WorkflowJson.Serialize(result));

    public TaskFailed Failed(int taskId, string message) =>
        new(NoId, Now, taskId, new TaskFailureDetails("System.InvalidOperationException", message));

    public TimerFired Fired(int timerId) =>
        new(NoId, Now, ((TimerCreated)History.Find(e => e is TimerCreated t && t.EventId == timerId)!).FireAt, timerId);

    public EventRaised Raised(string name, object? payload) => new(NoId, Now, name, WorkflowJson.Serialize(payload));
}
