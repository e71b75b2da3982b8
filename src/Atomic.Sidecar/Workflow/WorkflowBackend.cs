using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Atomic.Sidecar.Components.State;
using Dapr.DurableTask.Protobuf;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atomic.Sidecar.Workflow;

/// <summary>
/// The durable task backend behind <c>TaskHubSidecarService</c>: instances with their history, inbox and pending work,
/// kept in the actor state store (one key per instance, <c>{appId}||dapr.internal.workflow||{instanceId}</c>, holding a
/// <see cref="WorkflowRuntimeState"/> in protobuf binary), and the work items handed to the connected workers.
/// </summary>
/// <remarks>
/// <para>
/// Every change is stored before it is acknowledged or acted on: a started instance, a raised event, a completed
/// activity or a fired timer is in the stored inbox (<see cref="WorkflowRuntimeState.NewEvents"/>) before the call
/// returns; an orchestration turn's actions are in the stored history (and its activities and timers in
/// <see cref="WorkflowRuntimeState.PendingTasks"/> / <see cref="WorkflowRuntimeState.PendingTimers"/>, its messages to
/// other instances in <see cref="WorkflowRuntimeState.PendingMessages"/>) before any of them is dispatched.
/// </para>
/// <para>
/// One turn per instance is in flight at a time; it carries the stored history as past events and a fresh
/// <c>WorkflowStarted</c> event followed by the inbox as new events. At start every unfinished instance resumes:
/// its inbox is dispatched, its pending activities are dispatched again (activities are at least once), its timers
/// go back on the agenda and its undelivered messages are delivered. Work items wait in one queue until a worker's
/// <c>GetWorkItems</c> stream takes them; the items a stream took and that were not completed when it ends are queued again.
/// </para>
/// </remarks>
internal sealed class WorkflowBackend : IAsyncDisposable
{
    /// <summary>The timer id of a scheduled start on the agenda.</summary>
    public const int StartTimerId = int.MinValue;

    private readonly SidecarOptions _options;
    private readonly IStateStore? _store;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<string, InstanceEntry> _instances = new(StringComparer.Ordinal);
    private readonly Channel<Dispatched> _queue = Channel.CreateUnbounded<Dispatched>();
    private readonly ConcurrentDictionary<string, Dispatched> _sent = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly WorkflowTimers _timers;
    private long _streams;
    private int _stopped;

    public WorkflowBackend(SidecarOptions options, SidecarComponents components, ILoggerFactory? loggerFactory = null)
    {
        _options = options;
        _store = components.ActorStateStore;
        _logger = (ILogger?)loggerFactory?.CreateLogger<WorkflowBackend>() ?? NullLogger.Instance;
        _prefix = options.AppId + "||dapr.internal.workflow||";
        _timers = new WorkflowTimers(options.Time, FireAsync);
    }

    /// <summary>The key prefix of the instances in the actor state store.</summary>
    public string KeyPrefix => _prefix;

    private IStateStore Store => _store ?? throw new RpcException(new Status(StatusCode.FailedPrecondition,
        "the state store for actors is not configured: workflows need a state store with actorStateStore: \"true\""));

    private Timestamp Now() => Timestamp.FromDateTimeOffset(_options.Time.GetUtcNow());

    // ---- lifecycle ----

    /// <summary>Loads every stored instance and resumes the unfinished ones.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _timers.Start();
        if (_store is null)
        {
            return;
        }

        var unfinished = new List<InstanceEntry>();
        await foreach ((string key, StateItem item) in _store.ListAsync(_prefix, cancellationToken).ConfigureAwait(false))
        {
            InstanceEntry instance = _instances.GetOrAdd(key[_prefix.Length..], id => new InstanceEntry(id));
            await instance.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!instance.Loaded)
                {
                    instance.State = WorkflowRuntimeState.Parser.ParseFrom(item.Value.Span);
                    instance.ETag = item.ETag;
                    instance.Loaded = true;
                }

                if (instance.State is { } state && !WorkflowStates.IsTerminal(state))
                {
                    unfinished.Add(instance);
                }
            }
            finally
            {
                instance.Lock.Release();
            }
        }

        foreach (InstanceEntry instance in unfinished)
        {
            List<WorkflowRuntimeStateMessage> messages;
            await instance.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                WorkflowRuntimeState state = instance.State!;
                string executionId = WorkflowStates.ExecutionId(state);
                foreach (HistoryEvent scheduled in state.PendingTasks)
                {
                    EnqueueActivity(instance.Id, executionId, scheduled);
                }

                foreach (HistoryEvent timer in state.PendingTimers)
                {
                    _timers.Schedule(timer.TimerCreated.FireAt.ToDateTimeOffset(), instance.Id, executionId, timer.EventId);
                }

                TryDispatch(instance);
                messages = [.. state.PendingMessages];
            }
            finally
            {
                instance.Lock.Release();
            }

            await DeliverAllAsync(instance, messages, cancellationToken).ConfigureAwait(false);
        }

        _logger.LogInformation("Workflows: {Count} unfinished instance(s) resumed", unfinished.Count);
    }

    /// <summary>Ends the work item streams and blocking waits, and stops the timers.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _queue.Writer.TryComplete();
        await _timers.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops (the token source stays: handlers still finishing may read it).</summary>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    // ---- the instances ----

    private string Key(string instanceId) => _prefix + instanceId;

    /// <summary>The instance, loaded, with its lock held; the caller releases it.</summary>
    private async Task<InstanceEntry> LockAsync(string instanceId, CancellationToken cancellationToken)
    {
        IStateStore store = Store;
        InstanceEntry instance = _instances.GetOrAdd(instanceId, id => new InstanceEntry(id));
        await instance.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!instance.Loaded)
            {
                StateItem? item = await store.GetAsync(Key(instanceId), cancellationToken).ConfigureAwait(false);
                instance.State = item is null ? null : WorkflowRuntimeState.Parser.ParseFrom(item.Value.Span);
                instance.ETag = item?.ETag;
                instance.Loaded = true;
            }

            return instance;
        }
        catch
        {
            instance.Lock.Release();
            throw;
        }
    }

    /// <summary>The committed state of an instance, or null.</summary>
    public async Task<WorkflowRuntimeState?> GetStateAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (_instances.TryGetValue(instanceId, out InstanceEntry? cached) && cached.Loaded)
        {
            return cached.State;
        }

        InstanceEntry instance = await LockAsync(instanceId, cancellationToken).ConfigureAwait(false);
        instance.Lock.Release();
        return instance.State;
    }

    /// <summary>Stores <paramref name="next"/> as the instance's state (the caller holds the lock) and wakes the waiters.</summary>
    private async Task CommitAsync(InstanceEntry instance, WorkflowRuntimeState next, CancellationToken cancellationToken)
    {
        next.LastUpdatedTime = Now();
        try
        {
            string etag = await Store.SaveAsync(new StateWrite(Key(instance.Id), next.ToByteArray(), instance.ETag), cancellationToken).ConfigureAwait(false);
            instance.ETag = etag;
            instance.State = next;
        }
        catch (StateConcurrencyException)
        {
            instance.Loaded = false; // someone else wrote it: read it again next time
            throw new RpcException(new Status(StatusCode.Aborted, $"workflow instance '{instance.Id}' was changed concurrently; try again"));
        }

        instance.Signal();
    }

    private async Task DeleteAsync(InstanceEntry instance, CancellationToken cancellationToken)
    {
        await Store.DeleteAsync(Key(instance.Id), cancellationToken: cancellationToken).ConfigureAwait(false);
        instance.State = null;
        instance.ETag = null;
        instance.InFlight = null;
        instance.Signal();
    }

    // ---- management ----

    /// <summary>Creates an instance (a replaced finished one included); an unfinished one with the id is AlreadyExists.</summary>
    public async Task<string> StartInstanceAsync(CreateInstanceRequest request, CancellationToken cancellationToken)
    {
        string instanceId = request.InstanceId is { Length: > 0 } id ? id : Guid.NewGuid().ToString("N");
        ValidateInstanceId(instanceId);
        if (string.IsNullOrEmpty(request.Name))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a workflow name is required"));
        }

        var start = new ExecutionStartedEvent
        {
            Name = request.Name,
            Version = request.Version,
            Input = request.Input,
            WorkflowInstance = new WorkflowInstance { InstanceId = instanceId, ExecutionId = request.ExecutionId ?? Guid.NewGuid().ToString("N") },
            ScheduledStartTimestamp = request.ScheduledStartTimestamp,
            ParentTraceContext = request.ParentTraceContext,
        };
        start.Tags.Add(request.Tags);
        await CreateAsync(instanceId, start, failIfRunning: true, cancellationToken).ConfigureAwait(false);
        return instanceId;
    }

    /// <summary>Rejects the ids that cannot be a key of ours.</summary>
    public static void ValidateInstanceId(string instanceId)
    {
        if (instanceId.Contains("||", StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"workflow instance id '{instanceId}' must not contain '||'"));
        }
    }

    /// <summary>Stores a new instance whose inbox holds its ExecutionStarted event, and dispatches it (or schedules its start).</summary>
    private async Task<bool> CreateAsync(string instanceId, ExecutionStartedEvent start, bool failIfRunning, CancellationToken cancellationToken)
    {
        InstanceEntry instance = await LockAsync(instanceId, cancellationToken).ConfigureAwait(false);
        try
        {
            if (instance.State is { } existing)
            {
                if (WorkflowStates.ExecutionId(existing) == start.WorkflowInstance.ExecutionId)
                {
                    return false; // already created (a message delivered again after a restart)
                }

                if (!WorkflowStates.IsTerminal(existing))
                {
                    if (failIfRunning)
                    {
                        throw new RpcException(new Status(StatusCode.AlreadyExists,
                            $"an active workflow with ID '{instanceId}' already exists"));
                    }

                    return false;
                }
            }

            Timestamp now = Now();
            var state = new WorkflowRuntimeState
            {
                InstanceId = instanceId,
                StartEvent = start,
                CreatedTime = now,
            };
            state.NewEvents.Add(new HistoryEvent { EventId = -1, Timestamp = now, ExecutionStarted = start.Clone() });
            instance.InFlight = null;
            await CommitAsync(instance, state, cancellationToken).ConfigureAwait(false);
            TryDispatch(instance);
            return true;
        }
        finally
        {
            instance.Lock.Release();
        }
    }

    public async Task<Dapr.DurableTask.Protobuf.WorkflowState?> GetInstanceAsync(string instanceId, bool inputsAndOutputs, CancellationToken cancellationToken)
    {
        WorkflowRuntimeState? state = await GetStateAsync(instanceId, cancellationToken).ConfigureAwait(false);
        return state is null ? null : WorkflowStates.ToWorkflowState(instanceId, state, inputsAndOutputs);
    }

    /// <summary>Blocks until the instance's state satisfies <paramref name="done"/> (or it does not exist).</summary>
    public async Task<Dapr.DurableTask.Protobuf.WorkflowState?> WaitAsync(string instanceId, bool inputsAndOutputs, Func<OrchestrationStatus, bool> done, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        while (true)
        {
            Task changed = _instances.GetOrAdd(instanceId, id => new InstanceEntry(id)).Changed;
            WorkflowRuntimeState? state = await GetStateAsync(instanceId, linked.Token).ConfigureAwait(false);
            if (state is null || done(WorkflowStates.Status(state)))
            {
                return state is null ? null : WorkflowStates.ToWorkflowState(instanceId, state, inputsAndOutputs);
            }

            try
            {
                await changed.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "the sidecar is shutting down"));
            }
        }
    }

    /// <summary>Adds an EventRaised event to the inbox; an unknown instance is NotFound, a finished one drops it.</summary>
    public async Task RaiseEventAsync(string instanceId, string name, string? input, CancellationToken cancellationToken)
    {
        var raised = new HistoryEvent { EventId = -1, Timestamp = Now(), EventRaised = new EventRaisedEvent { Name = name, Input = input } };
        if (!await DeliverAsync(instanceId, null, raised, cancellationToken).ConfigureAwait(false))
        {
            throw NoSuchInstance(instanceId);
        }
    }

    public static RpcException NoSuchInstance(string instanceId) =>
        new(new Status(StatusCode.NotFound, $"no such instance exists: workflow instance '{instanceId}'"));

    /// <summary>Ends the instance as Terminated with <paramref name="output"/> (and, when recursive, its unfinished children).</summary>
    public async Task TerminateAsync(string instanceId, string? output, bool recursive, CancellationToken cancellationToken)
    {
        (bool exists, List<string> children, List<WorkflowRuntimeStateMessage> messages) = await TerminateOneAsync(instanceId, output, recursive, cancellationToken).ConfigureAwait(false);
        if (!exists)
        {
            throw NoSuchInstance(instanceId);
        }

        await AfterTerminateAsync(instanceId, output, children, messages, cancellationToken).ConfigureAwait(false);
    }

    private async Task AfterTerminateAsync(string instanceId, string? output, List<string> children, List<WorkflowRuntimeStateMessage> messages, CancellationToken cancellationToken)
    {
        if (_instances.TryGetValue(instanceId, out InstanceEntry? instance))
        {
            await DeliverAllAsync(instance, messages, cancellationToken).ConfigureAwait(false);
        }

        foreach (string child in children)
        {
            (bool _, List<string> grandChildren, List<WorkflowRuntimeStateMessage> childMessages) = await TerminateOneAsync(child, output, true, cancellationToken).ConfigureAwait(false);
            await AfterTerminateAsync(child, output, grandChildren, childMessages, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(bool Exists, List<string> Children, List<WorkflowRuntimeStateMessage> Messages)> TerminateOneAsync(string instanceId, string? output, bool recursive, CancellationToken cancellationToken)
    {
        InstanceEntry instance = await LockAsync(instanceId, cancellationToken).ConfigureAwait(false);
        try
        {
            if (instance.State is not { } current)
            {
                return (false, [], []);
            }

            if (WorkflowStates.IsTerminal(current))
            {
                return (true, [], []);
            }

            WorkflowRuntimeState next = current.Clone();
            Timestamp now = Now();
            next.OldEvents.Add(new HistoryEvent { EventId = -1, Timestamp = now, ExecutionTerminated = new ExecutionTerminatedEvent { Input = output, Recurse = recursive } });
            var completed = new ExecutionCompletedEvent { WorkflowStatus = OrchestrationStatus.Terminated, Result = output };
            int before = next.PendingMessages.Count;
            Finish(next, completed, now);
            await CommitAsync(instance, next, cancellationToken).ConfigureAwait(false);
            instance.InFlight = null;
            List<string> children = recursive ? [.. WorkflowStates.Children(next)] : [];
            return (true, children, [.. next.PendingMessages.Skip(before)]);
        }
        finally
        {
            instance.Lock.Release();
        }
    }

    /// <summary>Suspends a running instance: its inbox keeps filling, no turn is dispatched until it resumes.</summary>
    public Task SuspendAsync(string instanceId, string? reason, CancellationToken cancellationToken) =>
        SetSuspendedAsync(instanceId, suspended: true, reason, cancellationToken);

    /// <summary>Resumes a suspended instance and dispatches what arrived meanwhile.</summary>
    public Task ResumeAsync(string instanceId, string? reason, CancellationToken cancellationToken) =>
        SetSuspendedAsync(instanceId, suspended: false, reason, cancellationToken);

    /// <summary>Suspends or resumes an unfinished instance, recording the change in its history; a no-op when it is so already.</summary>
    private async Task SetSuspendedAsync(string instanceId, bool suspended, string? reason, CancellationToken cancellationToken)
    {
        InstanceEntry instance = await LockAsync(instanceId, cancellationToken).ConfigureAwait(false);
        try
        {
            WorkflowRuntimeState current = instance.State ?? throw NoSuchInstance(instanceId);
            if (WorkflowStates.IsTerminal(current))
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"workflow instance '{instanceId}' has finished: it cannot be {(suspended ? "suspended" : "resumed")}"));
            }

            if (current.IsSuspended == suspended)
            {
                return;
            }

            WorkflowRuntimeState next = current.Clone();
            next.IsSuspended = suspended;
            next.OldEvents.Add(suspended
                ? new HistoryEvent { EventId = -1, Timestamp = Now(), ExecutionSuspended = new ExecutionSuspendedEvent { Input = reason } }
                : new HistoryEvent { EventId = -1, Timestamp = Now(), ExecutionResumed = new ExecutionResumedEvent { Input = reason } });
            await CommitAsync(instance, next, cancellationToken).ConfigureAwait(false);
            if (!suspended)
            {
                TryDispatch(instance);
            }
        }
        finally
        {
            instance.Lock.Release();
        }
    }

    /// <summary>
    /// Deletes a finished instance (and, when recursive, its children); an unfinished one is FailedPrecondition unless
    /// forced. Answers how many were deleted (0 for an unknown instance).
    /// </summary>
    public async Task<int> PurgeAsync(string instanceId, bool recursive, bool force, CancellationToken cancellationToken)
    {
        List<string> children;
        InstanceEntry instance = await LockAsync(instanceId, cancellationToken).ConfigureAwait(false);
        try
        {
            if (instance.State is not { } current)
            {
                return 0;
            }

            if (!WorkflowStates.IsTerminal(current) && !force)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"workflow instance '{instanceId}' has not finished: only a finished instance can be purged"));
            }

            children = recursive ? [.. WorkflowStates.Children(current)] : [];
            await DeleteAsync(instance, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            instance.Lock.Release();
        }

        int deleted = 1;
        foreach (string child in children)
        {
            try
            {
                deleted += await PurgeAsync(child, recursive, force, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                // a child still running (re-created by another parent) stays
            }
        }

        return deleted;
    }

    /// <summary>Purges the finished instances the filter selects.</summary>
    public async Task<int> PurgeAsync(PurgeInstanceFilter filter, bool recursive, CancellationToken cancellationToken)
    {
        var selected = new List<string>();
        await foreach ((string key, StateItem item) in Store.ListAsync(_prefix, cancellationToken).ConfigureAwait(false))
        {
            WorkflowRuntimeState state = WorkflowRuntimeState.Parser.ParseFrom(item.Value.Span);
            OrchestrationStatus status = WorkflowStates.Status(state);
            bool matches = WorkflowStates.IsTerminal(state)
                && (filter.CreatedTimeFrom is null || state.CreatedTime >= filter.CreatedTimeFrom)
                && (filter.CreatedTimeTo is null || state.CreatedTime <= filter.CreatedTimeTo)
                && (filter.RuntimeStatus.Count == 0 || filter.RuntimeStatus.Contains(status));
            if (matches)
            {
                selected.Add(key[_prefix.Length..]);
            }
        }

        int deleted = 0;
        foreach (string id in selected)
        {
            deleted += await PurgeAsync(id, recursive, force: false, cancellationToken).ConfigureAwait(false);
        }

        return deleted;
    }

    /// <summary>A page of instance ids in key order; the continuation token is the last id of the page.</summary>
    public async Task<(List<string> Ids, string? Next)> ListInstanceIdsAsync(string? after, int pageSize, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        await foreach ((string key, StateItem _) in Store.ListAsync(_prefix, cancellationToken).ConfigureAwait(false))
        {
            string id = key[_prefix.Length..];
            if (after is not null && string.CompareOrdinal(id, after) <= 0)
            {
                continue;
            }

            if (ids.Count == pageSize)
            {
                return (ids, ids[^1]);
            }

            ids.Add(id);
        }

        return (ids, null);
    }

    // ---- deliveries between instances ----

    /// <summary>
    /// Adds an event to an instance's inbox (when <paramref name="executionId"/> is given, only to that execution);
    /// false when the instance does not exist. A finished instance drops it.
    /// </summary>
    private async Task<bool> DeliverAsync(string instanceId, string? executionId, HistoryEvent message, CancellationToken cancellationToken)
    {
        InstanceEntry instance = await LockAsync(instanceId, cancellationToken).ConfigureAwait(false);
        try
        {
            if (instance.State is not { } current)
            {
                return false;
            }

            if (WorkflowStates.IsTerminal(current) || (executionId is not null && WorkflowStates.ExecutionId(current) != executionId))
            {
                return true;
            }

            WorkflowRuntimeState next = current.Clone();
            next.NewEvents.Add(message);
            await CommitAsync(instance, next, cancellationToken).ConfigureAwait(false);
            TryDispatch(instance);
            return true;
        }
        finally
        {
            instance.Lock.Release();
        }
    }

    /// <summary>Delivers an instance's outgoing messages, then removes them from its stored state.</summary>
    private async Task DeliverAllAsync(InstanceEntry source, IReadOnlyList<WorkflowRuntimeStateMessage> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return;
        }

        foreach (WorkflowRuntimeStateMessage message in messages)
        {
            try
            {
                await DeliverOneAsync(source.Id, message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning(e, "Workflows: a message from {Source} to {Target} was not delivered; it is delivered again at the next start", source.Id, message.TargetInstanceId);
                return;
            }
        }

        await source.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (source.State is not { } current)
            {
                return;
            }

            WorkflowRuntimeState next = current.Clone();
            foreach (WorkflowRuntimeStateMessage message in messages)
            {
                next.PendingMessages.Remove(message);
            }

            if (next.PendingMessages.Count != current.PendingMessages.Count)
            {
                await CommitAsync(source, next, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            source.Lock.Release();
        }
    }

    private async Task DeliverOneAsync(string sourceId, WorkflowRuntimeStateMessage message, CancellationToken cancellationToken)
    {
        HistoryEvent e = message.HistoryEvent;
        string target = message.TargetInstanceId;
        switch (e.EventTypeCase)
        {
            case HistoryEvent.EventTypeOneofCase.ExecutionStarted:
                ExecutionStartedEvent start = e.ExecutionStarted;
                try
                {
                    await CreateAsync(target, start.Clone(), failIfRunning: start.ParentInstance is not null, cancellationToken).ConfigureAwait(false);
                }
                catch (RpcException failed) when (failed.StatusCode is StatusCode.AlreadyExists or StatusCode.InvalidArgument && start.ParentInstance is { } parent)
                {
                    await DeliverAsync(sourceId, parent.WorkflowInstance?.ExecutionId, new HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = Now(),
                        ChildWorkflowInstanceFailed = new ChildWorkflowInstanceFailedEvent
                        {
                            TaskScheduledId = parent.TaskScheduledId,
                            FailureDetails = new TaskFailureDetails { ErrorType = "InstanceExists", ErrorMessage = failed.Status.Detail, IsNonRetriable = true },
                        },
                    }, cancellationToken).ConfigureAwait(false);
                }

                return;
            case HistoryEvent.EventTypeOneofCase.ExecutionTerminated:
                (bool exists, List<string> children, List<WorkflowRuntimeStateMessage> messages) =
                    await TerminateOneAsync(target, e.ExecutionTerminated.Input, e.ExecutionTerminated.Recurse, cancellationToken).ConfigureAwait(false);
                if (exists)
                {
                    await AfterTerminateAsync(target, e.ExecutionTerminated.Input, children, messages, cancellationToken).ConfigureAwait(false);
                }

                return;
            default:
                await DeliverAsync(target, null, e, cancellationToken).ConfigureAwait(false);
                return;
        }
    }

    // ---- dispatch ----

    /// <summary>Hands the instance's next turn to the queue, unless one is in flight or nothing waits (the caller holds the lock).</summary>
    private void TryDispatch(InstanceEntry instance)
    {
        if (instance.InFlight is not null || instance.State is not { } state || WorkflowStates.IsTerminal(state)
            || state.IsSuspended || state.Stalled is not null || state.NewEvents.Count == 0 || _stopping.IsCancellationRequested)
        {
            return;
        }

        string executionId = WorkflowStates.ExecutionId(state);
        if (state.StartEvent?.ScheduledStartTimestamp is { } startAt && startAt.ToDateTimeOffset() > _options.Time.GetUtcNow()
            && !state.OldEvents.Any(e => e.ExecutionStarted is not null))
        {
            _timers.Schedule(startAt.ToDateTimeOffset(), instance.Id, executionId, StartTimerId);
            return;
        }

        var started = new HistoryEvent { EventId = -1, Timestamp = Now(), WorkflowStarted = new WorkflowStartedEvent() };
        string token = NewToken();
        instance.InFlight = new InstanceEntry.Turn(token, state.NewEvents.Count, started);
        var request = new WorkflowRequest { InstanceId = instance.Id, ExecutionId = executionId };
        request.PastEvents.AddRange(state.OldEvents);
        request.NewEvents.Add(started);
        request.NewEvents.AddRange(state.NewEvents);
        Enqueue(new Dispatched(new WorkItem { WorkflowRequest = request, CompletionToken = token }, instance.Id, executionId, null));
    }

    private void EnqueueActivity(string instanceId, string executionId, HistoryEvent scheduled)
    {
        TaskScheduledEvent task = scheduled.TaskScheduled;
        var request = new ActivityRequest
        {
            Name = task.Name,
            Version = task.Version,
            Input = task.Input,
            WorkflowInstance = new WorkflowInstance { InstanceId = instanceId, ExecutionId = executionId },
            TaskId = scheduled.EventId,
            ParentTraceContext = task.ParentTraceContext,
            TaskExecutionId = task.TaskExecutionId,
        };
        Enqueue(new Dispatched(new WorkItem { ActivityRequest = request, CompletionToken = NewToken() }, instanceId, executionId, scheduled.EventId));
    }

    private static string NewToken() => Guid.NewGuid().ToString("N");

    private void Enqueue(Dispatched item) => _queue.Writer.TryWrite(item);

    /// <summary>Whether a queued item is still wanted (its turn still in flight, its activity still pending).</summary>
    private bool IsLive(Dispatched item)
    {
        if (!_instances.TryGetValue(item.InstanceId, out InstanceEntry? instance) || instance.State is not { } state || WorkflowStates.IsTerminal(state)
            || WorkflowStates.ExecutionId(state) != item.ExecutionId)
        {
            return false;
        }

        return item.TaskId is { } taskId
            ? state.PendingTasks.Any(t => t.EventId == taskId)
            : instance.InFlight?.Token == item.Item.CompletionToken;
    }

    /// <summary>
    /// Serves one worker's <c>GetWorkItems</c> stream until it or the sidecar ends; the items it took and did not
    /// complete are queued again for the next stream.
    /// </summary>
    public async Task StreamWorkItemsAsync(IServerStreamWriter<WorkItem> writer, CancellationToken cancellationToken)
    {
        long stream = Interlocked.Increment(ref _streams);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        _logger.LogDebug("Workflows: worker stream {Stream} connected", stream);
        try
        {
            while (true)
            {
                Dispatched item = await _queue.Reader.ReadAsync(linked.Token).ConfigureAwait(false);
                if (!IsLive(item))
                {
                    continue;
                }

                item.Stream = stream;
                _sent[item.Item.CompletionToken] = item;
                try
                {
                    await writer.WriteAsync(item.Item, linked.Token).ConfigureAwait(false);
                }
                catch
                {
                    _sent.TryRemove(item.Item.CompletionToken, out _);
                    Enqueue(item);
                    throw;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the worker left or the sidecar stops
        }
        catch (ChannelClosedException)
        {
            // the sidecar stops
        }
        finally
        {
            foreach ((string token, Dispatched item) in _sent)
            {
                if (item.Stream == stream && _sent.TryRemove(token, out _) && !_stopping.IsCancellationRequested)
                {
                    Enqueue(item);
                }
            }

            _logger.LogDebug("Workflows: worker stream {Stream} ended", stream);
        }
    }

    // ---- completions ----

    /// <summary>Applies an activity's result: a TaskCompleted or TaskFailed event in the inbox, if the task is still pending.</summary>
    public async Task CompleteActivityAsync(ActivityResponse response, CancellationToken cancellationToken)
    {
        string? executionId = _sent.TryRemove(response.CompletionToken, out Dispatched? sent) ? sent.ExecutionId : null;
        InstanceEntry instance = await LockAsync(response.InstanceId, cancellationToken).ConfigureAwait(false);
        try
        {
            if (instance.State is not { } current || WorkflowStates.IsTerminal(current)
                || (executionId is not null && WorkflowStates.ExecutionId(current) != executionId))
            {
                return; // purged, finished or replaced meanwhile
            }

            int index = -1;
            for (int i = 0; i < current.PendingTasks.Count; i++)
            {
                if (current.PendingTasks[i].EventId == response.TaskId)
                {
                    index = i;
                    break;
                }
            }

            if (index < 0)
            {
                return; // completed already (activities are at least once)
            }

            WorkflowRuntimeState next = current.Clone();
            HistoryEvent scheduled = next.PendingTasks[index];
            next.PendingTasks.RemoveAt(index);
            next.NewEvents.Add(response.FailureDetails is null
                ? new HistoryEvent
                {
                    EventId = -1,
                    Timestamp = Now(),
                    TaskCompleted = new TaskCompletedEvent { TaskScheduledId = response.TaskId, Result = response.Result, TaskExecutionId = scheduled.TaskScheduled.TaskExecutionId },
                }
                : new HistoryEvent
                {
                    EventId = -1,
                    Timestamp = Now(),
                    TaskFailed = new TaskFailedEvent { TaskScheduledId = response.TaskId, FailureDetails = response.FailureDetails, TaskExecutionId = scheduled.TaskScheduled.TaskExecutionId },
                });
            await CommitAsync(instance, next, cancellationToken).ConfigureAwait(false);
            TryDispatch(instance);
        }
        finally
        {
            instance.Lock.Release();
        }
    }

    /// <summary>Applies an orchestration turn: its events and actions become history, its work is dispatched.</summary>
    public async Task CompleteOrchestrationAsync(WorkflowResponse response, CancellationToken cancellationToken)
    {
        _sent.TryRemove(response.CompletionToken, out _);
        List<WorkflowRuntimeStateMessage> messages;
        InstanceEntry instance = await LockAsync(response.InstanceId, cancellationToken).ConfigureAwait(false);
        try
        {
            if (instance.InFlight is not { } turn || turn.Token != response.CompletionToken || instance.State is not { } current)
            {
                return; // a turn handed out before a restart, or already applied
            }

            WorkflowRuntimeState next = current.Clone();
            int before = next.PendingMessages.Count;
            var activities = new List<HistoryEvent>();
            var timers = new List<HistoryEvent>();
            Apply(next, turn, response, activities, timers);
            instance.InFlight = null;
            try
            {
                await CommitAsync(instance, next, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                TryDispatch(instance); // the turn is lost: run it again
                throw;
            }

            string executionId = WorkflowStates.ExecutionId(next);
            foreach (HistoryEvent scheduled in activities)
            {
                EnqueueActivity(instance.Id, executionId, scheduled);
            }

            foreach (HistoryEvent timer in timers)
            {
                _timers.Schedule(timer.TimerCreated.FireAt.ToDateTimeOffset(), instance.Id, executionId, timer.EventId);
            }

            TryDispatch(instance);
            messages = [.. next.PendingMessages.Skip(before)];
        }
        finally
        {
            instance.Lock.Release();
        }

        await DeliverAllAsync(instance, messages, cancellationToken).ConfigureAwait(false);
    }

    private void Apply(WorkflowRuntimeState state, InstanceEntry.Turn turn, WorkflowResponse response, List<HistoryEvent> activities, List<HistoryEvent> timers)
    {
        Timestamp now = Now();
        HistoryEvent started = turn.Started.Clone();
        if (response.Version is not null)
        {
            started.WorkflowStarted.Version = response.Version;
        }

        state.OldEvents.Add(started);
        for (int i = 0; i < turn.Consumed && state.NewEvents.Count > 0; i++)
        {
            state.OldEvents.Add(state.NewEvents[0]);
            state.NewEvents.RemoveAt(0);
        }

        if (response.CustomStatus is not null)
        {
            state.CustomStatus = response.CustomStatus;
        }

        string instanceId = state.InstanceId;
        foreach (WorkflowAction action in response.Actions)
        {
            switch (action.WorkflowActionTypeCase)
            {
                case WorkflowAction.WorkflowActionTypeOneofCase.ScheduleTask:
                    {
                        ScheduleTaskAction task = action.ScheduleTask;
                        var scheduled = new HistoryEvent
                        {
                            EventId = action.Id,
                            Timestamp = now,
                            TaskScheduled = new TaskScheduledEvent { Name = task.Name, Version = task.Version, Input = task.Input, TaskExecutionId = task.TaskExecutionId },
                        };
                        if (action.Router is not null)
                        {
                            scheduled.Router = action.Router;
                        }

                        state.OldEvents.Add(scheduled);
                        state.PendingTasks.Add(scheduled.Clone());
                        activities.Add(scheduled);
                        break;
                    }

                case WorkflowAction.WorkflowActionTypeOneofCase.CreateTimer:
                    {
                        CreateTimerAction timer = action.CreateTimer;
                        var created = new TimerCreatedEvent { FireAt = timer.FireAt };
                        if (timer.HasName)
                        {
                            created.Name = timer.Name;
                        }

                        switch (timer.OriginCase)
                        {
                            case CreateTimerAction.OriginOneofCase.CreateTimer:
                                created.CreateTimer = timer.CreateTimer;
                                break;
                            case CreateTimerAction.OriginOneofCase.ExternalEvent:
                                created.ExternalEvent = timer.ExternalEvent;
                                break;
                            case CreateTimerAction.OriginOneofCase.ActivityRetry:
                                created.ActivityRetry = timer.ActivityRetry;
                                break;
                            case CreateTimerAction.OriginOneofCase.ChildWorkflowRetry:
                                created.ChildWorkflowRetry = timer.ChildWorkflowRetry;
                                break;
                            default:
                                break;
                        }

                        var timerEvent = new HistoryEvent { EventId = action.Id, Timestamp = now, TimerCreated = created };
                        state.OldEvents.Add(timerEvent);
                        state.PendingTimers.Add(timerEvent.Clone());
                        timers.Add(timerEvent);
                        break;
                    }

                case WorkflowAction.WorkflowActionTypeOneofCase.SendEvent:
                    {
                        SendEventAction send = action.SendEvent;
                        string target = send.Instance?.InstanceId ?? string.Empty;
                        state.OldEvents.Add(new HistoryEvent
                        {
                            EventId = action.Id,
                            Timestamp = now,
                            EventSent = new EventSentEvent { InstanceId = target, Name = send.Name, Input = send.Data },
                        });
                        state.PendingMessages.Add(new WorkflowRuntimeStateMessage
                        {
                            TargetInstanceId = target,
                            HistoryEvent = new HistoryEvent { EventId = -1, Timestamp = now, EventRaised = new EventRaisedEvent { Name = send.Name, Input = send.Data } },
                        });
                        break;
                    }

                case WorkflowAction.WorkflowActionTypeOneofCase.CreateChildWorkflow:
                    {
                        CreateChildWorkflowAction child = action.CreateChildWorkflow;
                        string childId = child.InstanceId is { Length: > 0 } id ? id : Guid.NewGuid().ToString("N");
                        state.OldEvents.Add(new HistoryEvent
                        {
                            EventId = action.Id,
                            Timestamp = now,
                            ChildWorkflowInstanceCreated = new ChildWorkflowInstanceCreatedEvent { InstanceId = childId, Name = child.Name, Version = child.Version, Input = child.Input },
                        });
                        var start = new ExecutionStartedEvent
                        {
                            Name = child.Name,
                            Version = child.Version,
                            Input = child.Input,
                            WorkflowInstance = new WorkflowInstance { InstanceId = childId, ExecutionId = Guid.NewGuid().ToString("N") },
                            ParentInstance = new ParentInstanceInfo
                            {
                                TaskScheduledId = action.Id,
                                Name = WorkflowStates.Name(state),
                                WorkflowInstance = new WorkflowInstance { InstanceId = instanceId, ExecutionId = WorkflowStates.ExecutionId(state) },
                            },
                        };
                        state.PendingMessages.Add(new WorkflowRuntimeStateMessage
                        {
                            TargetInstanceId = childId,
                            HistoryEvent = new HistoryEvent { EventId = -1, Timestamp = now, ExecutionStarted = start },
                        });
                        break;
                    }

                case WorkflowAction.WorkflowActionTypeOneofCase.CreateDetachedWorkflow:
                    {
                        CreateDetachedWorkflowAction detached = action.CreateDetachedWorkflow;
                        string detachedId = detached.InstanceId is { Length: > 0 } id ? id : Guid.NewGuid().ToString("N");
                        state.OldEvents.Add(new HistoryEvent
                        {
                            EventId = action.Id,
                            Timestamp = now,
                            DetachedWorkflowInstanceCreated = new DetachedWorkflowInstanceCreatedEvent { InstanceId = detachedId },
                        });
                        var start = new ExecutionStartedEvent
                        {
                            Name = detached.Name,
                            Version = detached.Version,
                            Input = detached.Input,
                            WorkflowInstance = new WorkflowInstance { InstanceId = detachedId, ExecutionId = detached.ExecutionId ?? Guid.NewGuid().ToString("N") },
                            ScheduledStartTimestamp = detached.ScheduledStartTimestamp,
                            ParentTraceContext = detached.ParentTraceContext,
                        };
                        start.Tags.Add(detached.Tags);
                        state.PendingMessages.Add(new WorkflowRuntimeStateMessage
                        {
                            TargetInstanceId = detachedId,
                            HistoryEvent = new HistoryEvent { EventId = -1, Timestamp = now, ExecutionStarted = start },
                        });
                        break;
                    }

                case WorkflowAction.WorkflowActionTypeOneofCase.TerminateWorkflow:
                    {
                        TerminateWorkflowAction terminate = action.TerminateWorkflow;
                        state.PendingMessages.Add(new WorkflowRuntimeStateMessage
                        {
                            TargetInstanceId = terminate.InstanceId,
                            HistoryEvent = new HistoryEvent
                            {
                                EventId = -1,
                                Timestamp = now,
                                ExecutionTerminated = new ExecutionTerminatedEvent { Input = terminate.Reason, Recurse = terminate.Recurse },
                            },
                        });
                        break;
                    }

                case WorkflowAction.WorkflowActionTypeOneofCase.CompleteWorkflow:
                    {
                        CompleteWorkflowAction complete = action.CompleteWorkflow;
                        switch (complete.WorkflowStatus)
                        {
                            case OrchestrationStatus.ContinuedAsNew:
                                ContinueAsNew(state, complete, now);
                                activities.Clear();
                                timers.Clear();
                                return;
                            case OrchestrationStatus.Stalled:
                                state.Stalled = new RuntimeStateStalled { Reason = StalledReason.PatchMismatch, Description = complete.Details ?? "the workflow stalled" };
                                state.OldEvents.Add(new HistoryEvent
                                {
                                    EventId = -1,
                                    Timestamp = now,
                                    ExecutionStalled = new ExecutionStalledEvent { Reason = StalledReason.PatchMismatch, Description = complete.Details ?? "the workflow stalled" },
                                });
                                break;
                            default:
                                var completed = new ExecutionCompletedEvent { WorkflowStatus = complete.WorkflowStatus, Result = complete.Result, FailureDetails = complete.FailureDetails };
                                Finish(state, completed, now);
                                activities.Clear();
                                timers.Clear();
                                return;
                        }

                        break;
                    }

                case WorkflowAction.WorkflowActionTypeOneofCase.WorkflowVersionNotAvailable:
                    state.Stalled = new RuntimeStateStalled { Reason = StalledReason.VersionNotAvailable, Description = "the workflow version is not available in this app" };
                    state.OldEvents.Add(new HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = now,
                        ExecutionStalled = new ExecutionStalledEvent { Reason = StalledReason.VersionNotAvailable, Description = "the workflow version is not available in this app" },
                    });
                    break;
                default:
                    _logger.LogWarning("Workflows: instance {Instance}: action {Action} is not supported; ignored", instanceId, action.WorkflowActionTypeCase);
                    break;
            }
        }
    }

    /// <summary>Starts the next generation: empty history, the new input, the carried-over events and those that arrived meanwhile.</summary>
    private static void ContinueAsNew(WorkflowRuntimeState state, CompleteWorkflowAction complete, Timestamp now)
    {
        ExecutionStartedEvent start = state.StartEvent.Clone();
        start.Input = complete.Result;
        start.WorkflowInstance = new WorkflowInstance { InstanceId = state.InstanceId, ExecutionId = Guid.NewGuid().ToString("N") };
        start.ScheduledStartTimestamp = null;
        if (complete.NewVersion is not null)
        {
            start.Version = complete.NewVersion;
        }

        List<HistoryEvent> arrived = [.. state.NewEvents.Where(e => e.EventRaised is not null)];
        state.OldEvents.Clear();
        state.NewEvents.Clear();
        state.PendingTasks.Clear();
        state.PendingTimers.Clear();
        state.StartEvent = start;
        state.ContinuedAsNew = true;
        state.NewEvents.Add(new HistoryEvent { EventId = -1, Timestamp = now, ExecutionStarted = start.Clone() });
        state.NewEvents.AddRange(complete.CarryoverEvents);
        state.NewEvents.AddRange(arrived);
    }

    /// <summary>Ends the execution with <paramref name="completed"/> and, for a child, tells its parent.</summary>
    private static void Finish(WorkflowRuntimeState state, ExecutionCompletedEvent completed, Timestamp now)
    {
        state.OldEvents.Add(new HistoryEvent { EventId = -1, Timestamp = now, ExecutionCompleted = completed });
        state.CompletedEvent = completed;
        state.CompletedTime = now;
        state.NewEvents.Clear();
        state.PendingTasks.Clear();
        state.PendingTimers.Clear();
        if (state.StartEvent?.ParentInstance is not { WorkflowInstance: { } parent } info)
        {
            return;
        }

        var toParent = new HistoryEvent
        {
            EventId = -1,
            Timestamp = now,
        };
        if (completed.WorkflowStatus == OrchestrationStatus.Completed)
        {
            toParent.ChildWorkflowInstanceCompleted = new ChildWorkflowInstanceCompletedEvent { TaskScheduledId = info.TaskScheduledId, Result = completed.Result };
        }
        else
        {
            toParent.ChildWorkflowInstanceFailed = new ChildWorkflowInstanceFailedEvent
            {
                TaskScheduledId = info.TaskScheduledId,
                FailureDetails = completed.FailureDetails ?? new TaskFailureDetails
                {
                    ErrorType = completed.WorkflowStatus.ToString(),
                    ErrorMessage = string.Create(CultureInfo.InvariantCulture, $"child workflow '{state.InstanceId}' ended {completed.WorkflowStatus}"),
                },
            };
        }

        state.PendingMessages.Add(new WorkflowRuntimeStateMessage { TargetInstanceId = parent.InstanceId, HistoryEvent = toParent });
    }

    /// <summary>A due agenda entry: a timer's TimerFired event in the inbox, or a scheduled start's first turn.</summary>
    private async Task FireAsync(TimerEntry entry)
    {
        InstanceEntry instance = await LockAsync(entry.InstanceId, _stopping.Token).ConfigureAwait(false);
        try
        {
            if (instance.State is not { } current || WorkflowStates.IsTerminal(current) || WorkflowStates.ExecutionId(current) != entry.ExecutionId)
            {
                return;
            }

            if (entry.TimerId == StartTimerId)
            {
                TryDispatch(instance);
                return;
            }

            int index = -1;
            for (int i = 0; i < current.PendingTimers.Count; i++)
            {
                if (current.PendingTimers[i].EventId == entry.TimerId)
                {
                    index = i;
                    break;
                }
            }

            if (index < 0)
            {
                return;
            }

            WorkflowRuntimeState next = current.Clone();
            HistoryEvent created = next.PendingTimers[index];
            next.PendingTimers.RemoveAt(index);
            next.NewEvents.Add(new HistoryEvent { EventId = -1, Timestamp = Now(), TimerFired = new TimerFiredEvent { FireAt = created.TimerCreated.FireAt, TimerId = entry.TimerId } });
            await CommitAsync(instance, next, _stopping.Token).ConfigureAwait(false);
            TryDispatch(instance);
        }
        finally
        {
            instance.Lock.Release();
        }
    }

    /// <summary>A work item handed out (or waiting to be): the instance and execution it is for and, for an activity, its task id.</summary>
    private sealed class Dispatched(WorkItem item, string instanceId, string executionId, int? taskId)
    {
        public WorkItem Item { get; } = item;

        public string InstanceId { get; } = instanceId;

        public string ExecutionId { get; } = executionId;

        public int? TaskId { get; } = taskId;

        public long Stream { get; set; }
    }
}
