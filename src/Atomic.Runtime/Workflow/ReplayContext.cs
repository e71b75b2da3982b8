using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using static Atomic.Runtime.Workflow.HistoryEvent;

namespace Atomic.Runtime.Workflow;

/// <summary>
/// One execution of a workflow over its history: the <see cref="WorkflowContext"/> the code sees, and the state
/// machine that matches the code's actions against history. Used once, by <see cref="OrchestrationExecutor"/>.
/// </summary>
internal sealed class ReplayContext : WorkflowContext
{
    private readonly WorkflowRegistry _registry;
    private readonly WorkflowPump _pump = new();

    // Actions the code took that history does not record yet, by sequence number.
    private readonly Dictionary<int, OrchestratorAction> _actions = [];

    // Tasks the code may be awaiting, by the sequence number their completion event points at.
    private readonly Dictionary<int, OpenTask> _open = [];

    // Children created and not yet finished (terminated with their parent when the terminate recurses).
    private readonly Dictionary<int, string> _children = [];
    private readonly Dictionary<string, List<TaskCompletionSource<string?>>> _waiters = new(StringComparer.OrdinalIgnoreCase);

    // External events that arrived before anyone waited for them, in arrival order.
    private readonly List<EventRaised> _unconsumed = [];

    // Messages that arrived while suspended: applied, in order, on resume.
    private readonly List<HistoryEvent> _held = [];
    private readonly List<OrchestratorAction> _closing = [];

    private string _name = "";
    private string _executionId = "";
    private DateTime _now;
    private int _sequence;
    private int _guids;
    private bool _replaying;
    private bool _suspended;
    private bool _discardActions;
    private string? _customStatus;
    private IWorkflow? _workflow;
    private Task<object?>? _body;
    private (string? Input, bool Preserve)? _continueAsNew;
    private OrchestratorAction.CompleteOrchestration? _completion;

    public ReplayContext(WorkflowRegistry registry, string instanceId)
    {
        _registry = registry;
        InstanceId = instanceId;
    }

    public override string Name => _name;

    public override string InstanceId { get; }

    public override DateTime CurrentUtcDateTime => _now;

    public override bool IsReplaying => _replaying;

    public OrchestratorResult Run(IReadOnlyList<HistoryEvent> pastEvents, IReadOnlyList<HistoryEvent> newEvents)
    {
        SynchronizationContext? outer = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_pump);
        try
        {
            _replaying = true;
            for (int i = 0; i < pastEvents.Count; i++)
            {
                Apply(pastEvents[i]);
            }

            _replaying = false;
            for (int i = 0; i < newEvents.Count; i++)
            {
                Apply(newEvents[i]);
            }
        }
        catch (Exception e)
        {
            // Non-determinism, a non-durable await, or an exception escaping an async void continuation.
            _discardActions = true;
            _closing.Clear();
            _completion = new OrchestratorAction.CompleteOrchestration(_sequence++, WorkflowRuntimeStatus.Failed, null, TaskFailureDetails.FromException(e));
        }
        finally
        {
            _pump.Close();
            SynchronizationContext.SetSynchronizationContext(outer);
        }

        return Result();
    }

    public override Task<T> CallActivityAsync<T>(string name, object? input = null, WorkflowTaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        string? serialized = WorkflowJson.Serialize(input);

        // One id for the call, shared by its retries: the first attempt's sequence number in this generation.
        string taskExecutionId = string.Create(CultureInfo.InvariantCulture, $"{_executionId}:{_sequence}");
        Task<string?> raw = options?.RetryPolicy is WorkflowRetryPolicy policy
            ? WithRetriesAsync(policy, () => ScheduleTask(name, serialized, taskExecutionId))
            : ScheduleTask(name, serialized, taskExecutionId);
        return ReadAsync<T>(raw);
    }

    public override Task<T> CallChildWorkflowAsync<T>(string name, object? input = null, ChildWorkflowTaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        string? serialized = WorkflowJson.Serialize(input);
        string? instanceId = options?.InstanceId;
        Task<string?> raw = options?.RetryPolicy is WorkflowRetryPolicy policy
            ? WithRetriesAsync(policy, () => CreateChild(name, serialized, instanceId))
            : CreateChild(name, serialized, instanceId);
        return ReadAsync<T>(raw);
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken = default)
    {
        DateTime utc = fireAt.Kind == DateTimeKind.Local ? fireAt.ToUniversalTime() : DateTime.SpecifyKind(fireAt, DateTimeKind.Utc);
        int id = _sequence++;
        _actions.Add(id, new OrchestratorAction.CreateTimer(id, new DateTimeOffset(utc)));
        Task<string?> fired = Open(id, "timer");
        if (cancellationToken.CanBeCanceled)
        {
            // Abandons the wait; the durable timer still fires later and is then ignored.
            cancellationToken.Register(() =>
            {
                if (_open.Remove(id, out OpenTask? open))
                {
                    open.Source.TrySetCanceled(cancellationToken);
                }
            });
        }

        return fired;
    }

    public override Task<T> WaitForExternalEventAsync<T>(string eventName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        for (int i = 0; i < _unconsumed.Count; i++)
        {
            if (string.Equals(_unconsumed[i].Name, eventName, StringComparison.OrdinalIgnoreCase))
            {
                string? input = _unconsumed[i].Input;
                _unconsumed.RemoveAt(i);
                return ReadAsync<T>(Task.FromResult(input));
            }
        }

        var waiter = new TaskCompletionSource<string?>();
        if (!_waiters.TryGetValue(eventName, out List<TaskCompletionSource<string?>>? queue))
        {
            _waiters[eventName] = queue = [];
        }

        queue.Add(waiter);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                queue.Remove(waiter);
                waiter.TrySetCanceled(cancellationToken);
            });
        }

        return ReadAsync<T>(waiter.Task);
    }

    public override void SendEvent(string instanceId, string eventName, object? payload = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        int id = _sequence++;
        _actions.Add(id, new OrchestratorAction.SendEvent(id, instanceId, eventName, WorkflowJson.Serialize(payload)));
    }

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        _continueAsNew = (WorkflowJson.Serialize(newInput), preserveUnprocessedEvents);

    public override void SetCustomStatus(object? customStatus) => _customStatus = WorkflowJson.Serialize(customStatus);

    public override Guid NewGuid()
    {
        // A name-based UUID (RFC 9562 layout, version 5 bits) of instance, generation, episode time and a counter.
        string name = string.Create(CultureInfo.InvariantCulture, $"{InstanceId}|{_executionId}|{_now:O}|{_guids++}");
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }

    private static async Task<T> ReadAsync<T>(Task<string?> raw) => WorkflowJson.Deserialize<T>(await raw);

    private Task<string?> ScheduleTask(string name, string? input, string taskExecutionId)
    {
        int id = _sequence++;
        _actions.Add(id, new OrchestratorAction.ScheduleTask(id, name, input, taskExecutionId));
        return Open(id, string.Create(CultureInfo.InvariantCulture, $"activity '{name}' (task {id})"));
    }

    private Task<string?> CreateChild(string name, string? input, string? instanceId)
    {
        instanceId ??= NewGuid().ToString("N");
        int id = _sequence++;
        _actions.Add(id, new OrchestratorAction.CreateSubOrchestration(id, instanceId, name, input));
        return Open(id, $"child workflow '{name}' ({instanceId})");
    }

    private Task<string?> Open(int id, string description)
    {
        // Continuations run synchronously: completing the task on this thread runs the awaiting code right here.
        var source = new TaskCompletionSource<string?>();
        _open.Add(id, new OpenTask(source, description));
        return source.Task;
    }

    private async Task<string?> WithRetriesAsync(WorkflowRetryPolicy policy, Func<Task<string?>> attempt)
    {
        DateTime firstAttemptAt = _now;
        for (int n = 1; ; n++)
        {
            try
            {
                return await attempt();
            }
            catch (WorkflowTaskFailedException e) when (n < policy.MaxNumberOfAttempts && !e.FailureDetails.IsNonRetriable)
            {
                DateTime next = _now + policy.DelayAfter(n);
                if (policy.RetryTimeout is TimeSpan limit && next - firstAttemptAt > limit)
                {
                    throw;
                }

                await CreateTimer(next);
            }
        }
    }

    private void Apply(HistoryEvent e)
    {
        if (_completion is not null)
        {
            // The code has finished: history may not record more of its actions, and events go to the next generation.
            if (e is TaskScheduled or TimerCreated or SubOrchestrationInstanceCreated or EventSent)
            {
                Confirm(e);
            }
            else if (e is EventRaised raised)
            {
                _unconsumed.Add(raised);
            }

            return;
        }

        if (_suspended && e is TaskCompleted or TaskFailed or TimerFired or EventRaised or SubOrchestrationInstanceCompleted or SubOrchestrationInstanceFailed)
        {
            _held.Add(e);
            return;
        }

        switch (e)
        {
            case OrchestratorStarted:
                _now = e.Timestamp.UtcDateTime;
                break;
            case ExecutionStarted started:
                Start(started);
                break;
            case TaskScheduled or TimerCreated or SubOrchestrationInstanceCreated or EventSent:
                Confirm(e);
                break;
            case TaskCompleted completed:
                Resolve(completed.TaskScheduledId, completed.Result);
                break;
            case TaskFailed failed:
                Reject(failed.TaskScheduledId, failed.FailureDetails);
                break;
            case SubOrchestrationInstanceCompleted completed:
                _children.Remove(completed.TaskScheduledId);
                Resolve(completed.TaskScheduledId, completed.Result);
                break;
            case SubOrchestrationInstanceFailed failed:
                _children.Remove(failed.TaskScheduledId);
                Reject(failed.TaskScheduledId, failed.FailureDetails);
                break;
            case TimerFired fired:
                Resolve(fired.TimerId, null);
                break;
            case EventRaised raised:
                Raise(raised);
                break;
            case ExecutionTerminated terminated:
                Terminate(terminated);
                return;
            case ExecutionSuspended:
                _suspended = true;
                break;
            case ExecutionResumed:
                _suspended = false;
                Release();
                break;
            default:
                break; // orchestratorCompleted, executionCompleted, continueAsNew: nothing to replay
        }

        _pump.Drain();
        if (_pump.SawForeignPost)
        {
            throw new InvalidOperationException(
                $"workflow '{_name}' awaited a task that is not durable (Task.Run, Task.Delay, I/O, a lock): await only the context's tasks and put side effects in activities");
        }

        CheckCompletion();
    }

    private void Start(ExecutionStarted started)
    {
        if (_workflow is not null)
        {
            return;
        }

        _name = started.Name;
        _executionId = started.ExecutionId;
        if (_now == default)
        {
            _now = started.Timestamp.UtcDateTime;
        }

        if (!_registry.TryCreateWorkflow(started.Name, out IWorkflow? workflow))
        {
            _completion = new OrchestratorAction.CompleteOrchestration(_sequence++, WorkflowRuntimeStatus.Failed, null,
                new TaskFailureDetails("WorkflowNotRegistered", $"no workflow named '{started.Name}' is registered with this host", IsNonRetriable: true));
            return;
        }

        _workflow = workflow;
        try
        {
            _body = workflow.RunAsync(this, WorkflowJson.Deserialize(started.Input, workflow.InputType));
        }
        catch (Exception e)
        {
            _body = Task.FromException<object?>(e); // a bad input, or code that throws before its first await
        }
    }

    private void Confirm(HistoryEvent recorded)
    {
        int id = recorded.EventId;
        if (!_actions.Remove(id, out OrchestratorAction? action))
        {
            throw new WorkflowNonDeterminismException(
                $"non-deterministic workflow '{_name}': history says {Describe(recorded)} at id {id}, but the code scheduled nothing with that id");
        }

        bool same = (action, recorded) switch
        {
            (OrchestratorAction.ScheduleTask a, TaskScheduled h) => a.Name == h.Name,
            (OrchestratorAction.CreateTimer, TimerCreated) => true,
            (OrchestratorAction.CreateSubOrchestration a, SubOrchestrationInstanceCreated h) => a.Name == h.Name,
            (OrchestratorAction.SendEvent a, EventSent h) => a.Name == h.Name && a.InstanceId == h.InstanceId,
            _ => false,
        };
        if (!same)
        {
            throw new WorkflowNonDeterminismException(
                $"non-deterministic workflow '{_name}': history says {Describe(recorded)} at id {id}, but the code scheduled {Describe(action)}");
        }

        if (recorded is SubOrchestrationInstanceCreated created)
        {
            _children[id] = created.InstanceId;
        }
    }

    private void Resolve(int id, string? result)
    {
        // Completions for ids nobody awaits (an abandoned timer, a duplicate delivery) are ignored.
        if (_open.Remove(id, out OpenTask? open))
        {
            open.Source.TrySetResult(result);
        }
    }

    private void Reject(int id, TaskFailureDetails details)
    {
        if (_open.Remove(id, out OpenTask? open))
        {
            open.Source.TrySetException(new WorkflowTaskFailedException($"{open.Description} failed: {details.ErrorType}: {details.ErrorMessage}", details));
        }
    }

    private void Raise(EventRaised raised)
    {
        if (_waiters.TryGetValue(raised.Name, out List<TaskCompletionSource<string?>>? queue))
        {
            while (queue.Count > 0)
            {
                TaskCompletionSource<string?> waiter = queue[0];
                queue.RemoveAt(0);
                if (waiter.TrySetResult(raised.Input))
                {
                    return;
                }
            }
        }

        _unconsumed.Add(raised);
    }

    private void Terminate(ExecutionTerminated terminated)
    {
        _discardActions = true;
        if (terminated.Recurse)
        {
            foreach (KeyValuePair<int, string> child in _children)
            {
                _closing.Add(new OrchestratorAction.TerminateOrchestration(_sequence++, child.Value, terminated.Input, Recurse: true));
            }
        }

        _completion = new OrchestratorAction.CompleteOrchestration(_sequence++, WorkflowRuntimeStatus.Terminated, terminated.Input);
    }

    private void Release()
    {
        HistoryEvent[] held = [.. _held];
        _held.Clear();
        foreach (HistoryEvent e in held)
        {
            if (_completion is not null || _suspended)
            {
                _held.Add(e);
                continue;
            }

            Apply(e);
        }
    }

    private void CheckCompletion()
    {
        if (_completion is not null || _body is not { IsCompleted: true } body)
        {
            return;
        }

        try
        {
            object? output = body.GetAwaiter().GetResult();
            _completion = _continueAsNew is { } next
                ? new OrchestratorAction.CompleteOrchestration(_sequence++, WorkflowRuntimeStatus.ContinuedAsNew, next.Input)
                : new OrchestratorAction.CompleteOrchestration(_sequence++, WorkflowRuntimeStatus.Completed, WorkflowJson.Serialize(output, _workflow!.OutputType));
        }
        catch (Exception e)
        {
            _completion = new OrchestratorAction.CompleteOrchestration(_sequence++, WorkflowRuntimeStatus.Failed, null, TaskFailureDetails.FromException(e));
        }
    }

    private OrchestratorResult Result()
    {
        var actions = new List<OrchestratorAction>(_actions.Count + _closing.Count + 1);
        if (!_discardActions)
        {
            actions.AddRange(_actions.Values);
            actions.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        }

        actions.AddRange(_closing);
        if (_completion is not null)
        {
            if (_completion.OrchestrationStatus == WorkflowRuntimeStatus.ContinuedAsNew && _continueAsNew is (_, true) && _unconsumed.Count > 0)
            {
                _completion = _completion with { CarryoverEvents = [.. _unconsumed] };
            }

            actions.Add(_completion);
        }

        return new OrchestratorResult(actions, _customStatus);
    }

    private static string Describe(HistoryEvent e) => e switch
    {
        TaskScheduled t => $"TaskScheduled '{t.Name}'",
        SubOrchestrationInstanceCreated c => $"SubOrchestrationInstanceCreated '{c.Name}'",
        EventSent s => $"EventSent '{s.Name}' to '{s.InstanceId}'",
        _ => e.GetType().Name,
    };

    private static string Describe(OrchestratorAction a) => a switch
    {
        OrchestratorAction.ScheduleTask t => $"ScheduleTask '{t.Name}'",
        OrchestratorAction.CreateSubOrchestration c => $"CreateSubOrchestration '{c.Name}'",
        OrchestratorAction.SendEvent s => $"SendEvent '{s.Name}' to '{s.InstanceId}'",
        _ => a.GetType().Name,
    };

    private sealed record OpenTask(TaskCompletionSource<string?> Source, string Description);
}
