using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Atomic.Runtime.State;
using Atomic.Runtime.Workflow;
using static Atomic.Runtime.Embedded.Workflow.WorkflowKeys;
using static Atomic.Runtime.Workflow.HistoryEvent;

namespace Atomic.Runtime.Embedded.Workflow;

/// <summary>Tuning of the embedded workflow engine.</summary>
public sealed record WorkflowEngineOptions
{
    /// <summary>Activities running at once; more wait their turn.</summary>
    public int MaxConcurrentActivities { get; init; } = 256;

    /// <summary>The most state operations one group commit combines.</summary>
    public int MaxOperationsPerCommit { get; init; } = 2000;

    /// <summary>The wait before retrying an episode or a result whose commit failed.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Told about store failures the engine retries (they are otherwise silent).</summary>
    public Action<Exception>? OnError { get; init; }
}

/// <summary>
/// The embedded workflow runtime: runs orchestrations with <see cref="OrchestrationExecutor"/> and activities with
/// <see cref="ActivityExecutor"/> in process, keeps every instance's history, inbox, pending activities and timers in
/// the <see cref="IStateStore"/> it is given (layout in <see cref="WorkflowKeys"/>), and implements
/// <see cref="IWorkflowClient"/>. One engine per store.
/// </summary>
/// <remarks>
/// An episode applies an instance's queued messages, runs the orchestrator, and commits the new history page, the
/// consumed inbox entries, the record (when its status or custom status changed) and all new work (activities, timers,
/// children, messages to other instances) in one transaction; an activity result deletes its work item and enters the inbox in one transaction. Transactions
/// from concurrent instances are group-committed. So after a crash at any point, <see cref="StartAsync"/> finds every
/// unfinished instance through the <c>wf||live||</c> index and resumes it: inbox entries not yet applied are applied,
/// activities without a recorded result run again (at least once), timers fire (overdue ones at once).
/// </remarks>
public sealed class WorkflowEngine : IWorkflowClient, IAsyncDisposable
{
    private static readonly TimeSpan LongestTimerWait = TimeSpan.FromHours(12);

    private readonly IStateStore _store;
    private readonly OrchestrationExecutor _orchestrations;
    private readonly ActivityExecutor _activities;
    private readonly WorkflowEngineOptions _options;
    private readonly TimeProvider _time;
    private readonly StateCommitter _committer;
    private readonly ConcurrentDictionary<string, WorkflowInstance> _live = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _changes = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _activitySlots;
    private readonly CancellationTokenSource _stop = new();
    private readonly string _runId = Guid.NewGuid().ToString("N")[..8];
    private long _inboxSequence;
    private int _runningEpisodes;
    private volatile bool _started;
    private volatile bool _stopping;

    public WorkflowEngine(IStateStore store, WorkflowRegistry registry, WorkflowEngineOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(registry);
        _store = store;
        _options = options ?? new WorkflowEngineOptions();
        _time = timeProvider ?? TimeProvider.System;
        _orchestrations = new OrchestrationExecutor(registry);
        _activities = new ActivityExecutor(registry);
        _activitySlots = new SemaphoreSlim(_options.MaxConcurrentActivities);
        _committer = new StateCommitter(store, _options.MaxOperationsPerCommit);
    }

    /// <summary>Resumes every unfinished instance in the store, then accepts calls.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (_started)
        {
            throw new InvalidOperationException("the workflow engine is already started");
        }

        var ids = new List<string>();
        await foreach ((string key, StateItem _) in _store.ListAsync(LivePrefix, cancellationToken).ConfigureAwait(false))
        {
            ids.Add(key[LivePrefix.Length..]);
        }

        var recovered = new List<(WorkflowInstance Instance, List<(string Key, ActivityRecord Work)> Activities, List<(string Key, TimerRecord Timer)> Timers)>();
        foreach (string id in ids)
        {
            if (await LoadAsync(id, cancellationToken).ConfigureAwait(false) is { } loaded)
            {
                _live[id] = loaded.Instance;
                recovered.Add(loaded);
            }
        }

        _started = true;
        foreach ((WorkflowInstance instance, List<(string Key, ActivityRecord Work)> activities, List<(string Key, TimerRecord Timer)> timers) in recovered)
        {
            foreach ((string key, ActivityRecord work) in activities)
            {
                Dispatch(instance, key, work);
            }

            foreach ((string key, TimerRecord timer) in timers)
            {
                Arm(instance, key, timer);
            }

            lock (instance.Gate)
            {
                if (instance.NotBefore is DateTimeOffset notBefore)
                {
                    ArmWake(instance, notBefore - _time.GetUtcNow());
                }

                if (instance.Pending.Count > 0 && (instance.NotBefore is null || instance.Pending.Exists(static i => i.Event is ExecutionTerminated)))
                {
                    StartEpisode(instance); // a terminate does not wait for a scheduled start
                }
            }
        }
    }

    public async Task<string> ScheduleNewWorkflowAsync(
        string name, object? input = null, string? instanceId = null, DateTimeOffset? startAt = null, CancellationToken cancellationToken = default)
    {
        EnsureRunning();
        ArgumentException.ThrowIfNullOrEmpty(name);
        bool chosen = instanceId is not null;
        instanceId ??= Guid.NewGuid().ToString("N");
        Validate(instanceId);
        var instance = new WorkflowInstance(instanceId);
        if (!_live.TryAdd(instanceId, instance))
        {
            throw new InvalidOperationException($"workflow instance '{instanceId}' already exists and has not finished");
        }

        DateTimeOffset now = _time.GetUtcNow();
        string? serialized = WorkflowJson.Serialize(input);
        var record = new InstanceRecord(name, WorkflowRuntimeStatus.Pending, now, now, NewExecutionId(), serialized, ScheduledStartAt: startAt);
        try
        {
            var operations = new List<StateOperation>(4);
            if (chosen)
            {
                await ReplaceFinishedAsync(instanceId, operations, cancellationToken).ConfigureAwait(false);
            }

            operations.Add(Upsert(Meta(instanceId), record));
            operations.Add(LiveMarker(instanceId, name));
            await _committer.CommitAsync(operations).ConfigureAwait(false);
        }
        catch
        {
            _live.TryRemove(KeyValuePair.Create(instanceId, instance));
            throw;
        }

        lock (instance.Gate)
        {
            instance.Record = record;
            if (startAt > now)
            {
                instance.NotBefore = startAt;
                ArmWake(instance, startAt.Value - now);
            }
        }

        Enqueue(instance, new InboxItem(null, null, record.StartEvent(instanceId)));
        Signal(instanceId);
        return instanceId;
    }

    public async Task<WorkflowState?> GetWorkflowStateAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        if (instanceId.Contains("||", StringComparison.Ordinal))
        {
            return null;
        }

        // An unfinished instance's committed record is in memory; only finished (or unknown) ones are read from the store.
        InstanceRecord? r = null;
        if (_live.TryGetValue(instanceId, out WorkflowInstance? instance))
        {
            lock (instance.Gate)
            {
                r = instance.Record; // null while its creation is still being committed
            }
        }

        if (r is null)
        {
            StateItem? item = await _store.GetAsync(Meta(instanceId), cancellationToken).ConfigureAwait(false);
            if (item is null)
            {
                return null;
            }

            r = Read<InstanceRecord>(item);
        }

        return includeInputsAndOutputs
            ? new WorkflowState(instanceId, r.Name, r.Status, r.CreatedAt, r.LastUpdatedAt, r.Input, r.Output, r.CustomStatus, r.Failure)
            : new WorkflowState(instanceId, r.Name, r.Status, r.CreatedAt, r.LastUpdatedAt, null, null, null, r.Failure);
    }

    public Task<WorkflowState> WaitForWorkflowStartAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default) =>
        WaitAsync(instanceId, includeInputsAndOutputs, static s => s.RuntimeStatus != WorkflowRuntimeStatus.Pending, cancellationToken);

    public Task<WorkflowState> WaitForWorkflowCompletionAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default) =>
        WaitAsync(instanceId, includeInputsAndOutputs, static s => s.IsWorkflowCompleted, cancellationToken);

    public Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        return PostAsync(instanceId, new EventRaised(NoId, _time.GetUtcNow(), eventName, WorkflowJson.Serialize(eventPayload)), cancellationToken);
    }

    public Task TerminateWorkflowAsync(string instanceId, object? output = null, bool recursive = true, CancellationToken cancellationToken = default) =>
        PostAsync(instanceId, new ExecutionTerminated(NoId, _time.GetUtcNow(), WorkflowJson.Serialize(output), recursive), cancellationToken);

    public Task SuspendWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        PostAsync(instanceId, new ExecutionSuspended(NoId, _time.GetUtcNow(), reason), cancellationToken);

    public Task ResumeWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        PostAsync(instanceId, new ExecutionResumed(NoId, _time.GetUtcNow(), reason), cancellationToken);

    public async Task<bool> PurgeWorkflowAsync(string instanceId, bool recursive = true, CancellationToken cancellationToken = default)
    {
        EnsureRunning();
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        var operations = new List<StateOperation>();
        if (!await CollectPurgeAsync(instanceId, recursive, operations, new HashSet<string>(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await _committer.CommitAsync(operations).ConfigureAwait(false);
        Signal(instanceId);
        return true;
    }

    /// <summary>Stops running episodes, timers and activity results; what is committed stays, and a new engine on the store resumes the rest.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (WorkflowInstance instance in _live.Values)
        {
            lock (instance.Gate)
            {
                instance.StopTimers();
            }
        }

        while (Volatile.Read(ref _runningEpisodes) > 0)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }

        await _committer.DisposeAsync().ConfigureAwait(false);
    }

    private void EnsureRunning()
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (!_started)
        {
            throw new InvalidOperationException("call StartAsync before using the workflow engine");
        }
    }

    private async Task<(WorkflowInstance Instance, List<(string Key, ActivityRecord Work)> Activities, List<(string Key, TimerRecord Timer)> Timers)?> LoadAsync(
        string id, CancellationToken cancellationToken)
    {
        string prefix = Instance(id);
        InstanceRecord? record = null;
        var pages = new List<(int Page, StateItem Item)>();
        var inbox = new List<InboxItem>();
        var activities = new List<(string Key, ActivityRecord Work)>();
        var timers = new List<(string Key, TimerRecord Timer)>();
        await foreach ((string key, StateItem item) in _store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            ReadOnlySpan<char> rest = key.AsSpan(prefix.Length);
            if (rest.SequenceEqual("meta"))
            {
                record = Read<InstanceRecord>(item);
            }
            else if (rest.StartsWith("history||", StringComparison.Ordinal))
            {
                pages.Add((int.Parse(rest["history||".Length..], CultureInfo.InvariantCulture), item));
            }
            else if (rest.StartsWith("inbox||", StringComparison.Ordinal))
            {
                InboxRecord message = Read<InboxRecord>(item);
                inbox.Add(new InboxItem(key, message.ExecutionId, message.Event));
            }
            else if (rest.StartsWith("activity||", StringComparison.Ordinal))
            {
                activities.Add((key, Read<ActivityRecord>(item)));
            }
            else if (rest.StartsWith("timer||", StringComparison.Ordinal))
            {
                timers.Add((key, Read<TimerRecord>(item)));
            }
        }

        if (record is null || WorkflowState.IsTerminal(record.Status))
        {
            await _store.DeleteAsync(Live(id), cancellationToken: cancellationToken).ConfigureAwait(false);
            return null;
        }

        var instance = new WorkflowInstance(id) { Record = record };
        foreach ((int page, StateItem item) in pages)
        {
            instance.History.AddRange(Read<List<HistoryEvent>>(item)); // listed in key order, so pages come in order
            instance.HistoryPages = page;
        }

        if (instance.History.Count == 0)
        {
            inbox.Insert(0, new InboxItem(null, null, record.StartEvent(id)));
        }
        else if (instance.History[^1].Timestamp > record.LastUpdatedAt)
        {
            instance.Record = record with { LastUpdatedAt = instance.History[^1].Timestamp };
        }

        var stale = new List<StateOperation>();
        activities.RemoveAll(a => Stale(a.Key, a.Work.ExecutionId));
        timers.RemoveAll(t => Stale(t.Key, t.Timer.ExecutionId));
        if (stale.Count > 0)
        {
            await _store.ExecuteTransactionAsync(stale, cancellationToken).ConfigureAwait(false);
        }

        instance.Pending = inbox;
        if (instance.History.Count == 0 && record.ScheduledStartAt > _time.GetUtcNow())
        {
            instance.NotBefore = record.ScheduledStartAt;
        }

        return (instance, activities, timers);

        bool Stale(string key, string executionId)
        {
            if (executionId == record.ExecutionId)
            {
                instance.WorkKeys.Add(key);
                return false;
            }

            stale.Add(Delete(key)); // left by an earlier generation
            return true;
        }
    }

    private void Enqueue(WorkflowInstance instance, InboxItem item)
    {
        lock (instance.Gate)
        {
            if (!instance.Finished)
            {
                instance.Pending.Add(item);
                if (!instance.Busy && (instance.NotBefore is null || item.Event is ExecutionTerminated))
                {
                    StartEpisode(instance);
                }

                return;
            }
        }

        // The instance finished meanwhile: nobody will read the message, so drop its record too.
        DropQuietly(item);
    }

    private void DropQuietly(InboxItem item)
    {
        var operations = new List<StateOperation>(2);
        if (item.Key is not null)
        {
            operations.Add(Delete(item.Key));
        }

        if (item.TimerKey is not null)
        {
            operations.Add(Delete(item.TimerKey));
        }

        if (operations.Count > 0 && !_stopping)
        {
            _ = _committer.CommitAsync(operations).ContinueWith(t => Report(t.Exception!), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    // Under instance.Gate, with the instance not busy.
    private void StartEpisode(WorkflowInstance instance)
    {
        if (_stopping)
        {
            return;
        }

        instance.Busy = true;
        Interlocked.Increment(ref _runningEpisodes);
        _ = Task.Run(() => RunEpisodeAsync(instance));
    }

    private async Task RunEpisodeAsync(WorkflowInstance instance)
    {
        List<InboxItem> items;
        lock (instance.Gate)
        {
            items = instance.Pending;
            instance.Pending = [];
        }

        bool failed = false;
        try
        {
            await ProcessAsync(instance, items).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Nothing was committed: the same messages go round again after a pause.
            failed = true;
            if (!_stopping)
            {
                Report(e);
            }

            lock (instance.Gate)
            {
                instance.Pending.InsertRange(0, items);
            }
        }
        finally
        {
            lock (instance.Gate)
            {
                instance.Busy = false;
                if (!instance.Finished && !_stopping && instance.Pending.Count > 0)
                {
                    if (failed)
                    {
                        ArmWake(instance, _options.RetryDelay);
                    }
                    else if (instance.NotBefore is null || instance.Pending.Exists(static i => i.Event is ExecutionTerminated))
                    {
                        StartEpisode(instance);
                    }
                }
            }

            Interlocked.Decrement(ref _runningEpisodes);
        }
    }

    private async Task ProcessAsync(WorkflowInstance instance, List<InboxItem> items)
    {
        DateTimeOffset now = _time.GetUtcNow();
        InstanceRecord record = instance.Record;
        var operations = new List<StateOperation>(items.Count + 8);
        var consumedTimers = new List<string>();
        var events = new List<HistoryEvent>(items.Count + 8) { new OrchestratorStarted(NoId, now) };
        foreach (InboxItem item in items)
        {
            if (item.Key is not null)
            {
                operations.Add(Delete(item.Key));
            }

            if (item.TimerKey is not null)
            {
                operations.Add(Delete(item.TimerKey));
                consumedTimers.Add(item.TimerKey);
            }

            if (item.ExecutionId is null || item.ExecutionId == record.ExecutionId)
            {
                events.Add(item.Event); // otherwise: a result for an earlier generation, dropped
            }
        }

        if (events.Count == 1)
        {
            if (operations.Count > 0)
            {
                await _committer.CommitAsync(operations).ConfigureAwait(false);
            }

            lock (instance.Gate)
            {
                instance.WorkKeys.ExceptWith(consumedTimers);
            }

            return;
        }

        OrchestratorResult result = _orchestrations.Execute(instance.Id, instance.History, events);
        var plan = new EpisodePlan(instance, record, now, operations, events);
        try
        {
            await PlanAsync(plan, result).ConfigureAwait(false);
            await _committer.CommitAsync(operations).ConfigureAwait(false);
        }
        catch
        {
            foreach (ChildStart start in plan.Children)
            {
                _live.TryRemove(KeyValuePair.Create(start.Child.Id, start.Child));
            }

            throw;
        }

        Apply(plan, consumedTimers);
    }

    private async Task PlanAsync(EpisodePlan plan, OrchestratorResult result)
    {
        (WorkflowInstance instance, InstanceRecord record, DateTimeOffset now, List<StateOperation> operations, List<HistoryEvent> history) =
            (plan.Instance, plan.Record, plan.Now, plan.Operations, plan.History);
        OrchestratorAction.CompleteOrchestration? completion = result.Actions.Count > 0 ? result.Actions[^1] as OrchestratorAction.CompleteOrchestration : null;
        bool suspended = record.Status == WorkflowRuntimeStatus.Suspended;
        foreach (HistoryEvent e in history)
        {
            suspended = e switch { ExecutionSuspended => true, ExecutionResumed => false, _ => suspended };
        }

        foreach (OrchestratorAction action in result.Actions)
        {
            switch (action)
            {
                case OrchestratorAction.ScheduleTask task:
                    history.Add(task.ToHistoryEvent(now)!);
                    if (completion is null)
                    {
                        var work = new ActivityRecord(record.ExecutionId, task.Id, task.Name, task.Input, task.TaskExecutionId);
                        string key = Activity(instance.Id, record.ExecutionId, task.Id);
                        operations.Add(Upsert(key, work));
                        plan.Activities.Add((key, work));
                    }

                    break;
                case OrchestratorAction.CreateTimer timer:
                    history.Add(timer.ToHistoryEvent(now)!);
                    if (completion is null)
                    {
                        var durable = new TimerRecord(record.ExecutionId, timer.Id, timer.FireAt);
                        string key = Timer(instance.Id, record.ExecutionId, timer.Id);
                        operations.Add(Upsert(key, durable));
                        plan.Timers.Add((key, durable));
                    }

                    break;
                case OrchestratorAction.CreateSubOrchestration sub:
                    history.Add(sub.ToHistoryEvent(now)!);
                    await PlanChildAsync(plan, sub).ConfigureAwait(false);
                    break;
                case OrchestratorAction.SendEvent send:
                    history.Add(send.ToHistoryEvent(now)!);
                    PlanMessage(plan, send.InstanceId, null, new EventRaised(NoId, now, send.Name, send.Data));
                    break;
                case OrchestratorAction.TerminateOrchestration terminate:
                    PlanMessage(plan, terminate.InstanceId, null, new ExecutionTerminated(NoId, now, terminate.Reason, terminate.Recurse));
                    break;
                default:
                    break;
            }
        }

        InstanceRecord next;
        if (completion is null)
        {
            next = record with
            {
                Status = suspended ? WorkflowRuntimeStatus.Suspended : WorkflowRuntimeStatus.Running,
                LastUpdatedAt = now,
                CustomStatus = result.CustomStatus,
            };
            history.Add(new OrchestratorCompleted(NoId, now));
            plan.Pages = instance.HistoryPages + 1;
            operations.Add(Upsert(History(instance.Id, plan.Pages), history));
        }
        else if (completion.OrchestrationStatus == WorkflowRuntimeStatus.ContinuedAsNew)
        {
            // A fresh generation: the old history and work go, and its start (plus carried-over events) enters the inbox.
            string executionId = NewExecutionId();
            for (int page = 1; page <= instance.HistoryPages; page++)
            {
                operations.Add(Delete(History(instance.Id, page)));
            }

            DeleteWork(instance, operations);
            next = record with
            {
                Status = WorkflowRuntimeStatus.Running,
                LastUpdatedAt = now,
                ExecutionId = executionId,
                Input = completion.Result,
                Output = null,
                CustomStatus = result.CustomStatus,
                ScheduledStartAt = null,
            };
            plan.Pages = 0;
            plan.Restart = [new InboxItem(null, null, next.StartEvent(instance.Id))]; // implied by the record: no history page yet
            foreach (HistoryEvent carried in completion.CarryoverEvents ?? [])
            {
                string key = Inbox(instance.Id, NextInboxSequence());
                operations.Add(Upsert(key, new InboxRecord(null, carried)));
                plan.Restart.Add(new InboxItem(key, null, carried));
            }
        }
        else
        {
            WorkflowRuntimeStatus status = completion.OrchestrationStatus;
            history.Add(completion.ToHistoryEvent(now)!);
            history.Add(new OrchestratorCompleted(NoId, now));
            next = record with
            {
                Status = status,
                LastUpdatedAt = now,
                Output = completion.Result,
                Failure = completion.FailureDetails,
                CustomStatus = result.CustomStatus,
            };
            plan.Pages = instance.HistoryPages + 1;
            operations.Add(Upsert(History(instance.Id, plan.Pages), history));
            operations.Add(Delete(Live(instance.Id)));
            DeleteWork(instance, operations);
            plan.Finished = true;
            if (record.Parent is ParentInstanceInfo parent)
            {
                HistoryEvent outcome = status == WorkflowRuntimeStatus.Completed
                    ? new SubOrchestrationInstanceCompleted(NoId, now, parent.TaskScheduledId, completion.Result)
                    : new SubOrchestrationInstanceFailed(NoId, now, parent.TaskScheduledId, completion.FailureDetails
                        ?? new TaskFailureDetails("WorkflowTerminated", $"child workflow '{instance.Id}' was {status.ToString().ToLowerInvariant()}"));
                PlanMessage(plan, parent.InstanceId, parent.ExecutionId, outcome);
            }
        }

        // The time alone changing is not worth a write: a load takes it from the last history page.
        if (completion is not null || next.Status != record.Status || next.CustomStatus != record.CustomStatus)
        {
            operations.Add(Upsert(Meta(instance.Id), next));
        }

        plan.Next = next;
    }

    private static void DeleteWork(WorkflowInstance instance, List<StateOperation> operations)
    {
        lock (instance.Gate)
        {
            foreach (string key in instance.WorkKeys)
            {
                operations.Add(Delete(key));
            }
        }
    }

    private async Task PlanChildAsync(EpisodePlan plan, OrchestratorAction.CreateSubOrchestration sub)
    {
        DateTimeOffset now = plan.Now;
        var child = new WorkflowInstance(sub.InstanceId);
        bool valid = !sub.InstanceId.Contains("||", StringComparison.Ordinal) && sub.InstanceId.Length is > 0 and <= 256;
        if (!valid || !_live.TryAdd(sub.InstanceId, child))
        {
            // The call fails at once: the failure is a message to the parent itself, committed with this episode.
            var failed = new SubOrchestrationInstanceFailed(NoId, now, sub.Id, new TaskFailureDetails(
                "WorkflowAlreadyExists", valid ? $"workflow instance '{sub.InstanceId}' already exists and has not finished" : $"invalid instance id '{sub.InstanceId}'",
                IsNonRetriable: true));
            PlanMessage(plan, plan.Instance.Id, plan.Record.ExecutionId, failed);
            return;
        }

        var reserved = new ChildStart(child); // the id is taken now, and released if the episode does not commit
        plan.Children.Add(reserved);
        await ReplaceFinishedAsync(sub.InstanceId, plan.Operations, CancellationToken.None).ConfigureAwait(false);
        var parent = new ParentInstanceInfo(sub.Id, plan.Record.Name, plan.Instance.Id, plan.Record.ExecutionId);
        reserved.Record = new InstanceRecord(sub.Name, WorkflowRuntimeStatus.Pending, now, now, NewExecutionId(), sub.Input, Parent: parent);
        plan.Operations.Add(Upsert(Meta(sub.InstanceId), reserved.Record));
        plan.Operations.Add(LiveMarker(sub.InstanceId, sub.Name));
        reserved.Start = new InboxItem(null, null, reserved.Record.StartEvent(sub.InstanceId));
    }

    private void PlanMessage(EpisodePlan plan, string targetId, string? executionId, HistoryEvent e)
    {
        if (!_live.TryGetValue(targetId, out WorkflowInstance? target))
        {
            return; // finished or unknown: the message is dropped, as Dapr drops events for finished instances
        }

        string key = Inbox(targetId, NextInboxSequence());
        plan.Operations.Add(Upsert(key, new InboxRecord(executionId, e)));
        plan.Deliveries.Add((target, new InboxItem(key, executionId, e)));
    }

    // After the commit: make memory match the store, then hand out the new work. Nothing here may throw.
    private void Apply(EpisodePlan plan, List<string> consumedTimers)
    {
        WorkflowInstance instance = plan.Instance;
        List<InboxItem>? dropped = null;
        lock (instance.Gate)
        {
            instance.Record = plan.Next!;
            instance.HistoryPages = plan.Pages;
            instance.NotBefore = null;
            instance.WorkKeys.ExceptWith(consumedTimers);
            if (plan.Finished)
            {
                instance.Finished = true;
                instance.WorkKeys.Clear();
                instance.StopTimers();
                dropped = instance.Pending;
                instance.Pending = [];
            }
            else if (plan.Restart is not null)
            {
                instance.History = [];
                instance.WorkKeys.Clear();
                instance.StopTimers();
                instance.Pending.InsertRange(0, plan.Restart);
            }
            else
            {
                instance.History.AddRange(plan.History);
                foreach ((string key, ActivityRecord _) in plan.Activities)
                {
                    instance.WorkKeys.Add(key);
                }

                foreach ((string key, TimerRecord _) in plan.Timers)
                {
                    instance.WorkKeys.Add(key);
                }
            }
        }

        if (plan.Finished)
        {
            _live.TryRemove(KeyValuePair.Create(instance.Id, instance));
            foreach (InboxItem item in dropped!)
            {
                DropQuietly(item);
            }
        }

        foreach ((string key, ActivityRecord work) in plan.Activities)
        {
            Dispatch(instance, key, work);
        }

        foreach ((string key, TimerRecord timer) in plan.Timers)
        {
            Arm(instance, key, timer);
        }

        foreach (ChildStart start in plan.Children)
        {
            lock (start.Child.Gate)
            {
                start.Child.Record = start.Record!;
            }

            Enqueue(start.Child, start.Start!);
            Signal(start.Child.Id);
        }

        foreach ((WorkflowInstance target, InboxItem item) in plan.Deliveries)
        {
            Enqueue(target, item);
        }

        Signal(instance.Id);
    }

    private void Dispatch(WorkflowInstance instance, string key, ActivityRecord work) => _ = Task.Run(() => RunActivityAsync(instance, key, work));

    private async Task RunActivityAsync(WorkflowInstance instance, string key, ActivityRecord work)
    {
        try
        {
            await _activitySlots.WaitAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        ActivityResponse response;
        try
        {
            response = await _activities.ExecuteAsync(new ActivityRequest(work.Name, work.Input, instance.Id, work.TaskId, work.TaskExecutionId)).ConfigureAwait(false);
        }
        finally
        {
            _activitySlots.Release();
        }

        DateTimeOffset now = _time.GetUtcNow();
        HistoryEvent outcome = response.FailureDetails is TaskFailureDetails failure
            ? new TaskFailed(NoId, now, work.TaskId, failure, work.TaskExecutionId)
            : new TaskCompleted(NoId, now, work.TaskId, response.Result, work.TaskExecutionId);
        while (!_stopping)
        {
            bool wanted;
            lock (instance.Gate)
            {
                wanted = !instance.Finished && instance.Record.ExecutionId == work.ExecutionId;
            }

            // The work item goes and the result arrives in one transaction: never both, never neither.
            string? inboxKey = wanted ? Inbox(instance.Id, NextInboxSequence()) : null;
            StateOperation[] operations = wanted ? [Delete(key), Upsert(inboxKey!, new InboxRecord(work.ExecutionId, outcome))] : [Delete(key)];
            try
            {
                await _committer.CommitAsync(operations).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                if (_stopping)
                {
                    return; // the work item stays, and the next engine runs the activity again
                }

                Report(e);
                await Task.Delay(_options.RetryDelay, _time).ConfigureAwait(false);
                continue;
            }

            lock (instance.Gate)
            {
                instance.WorkKeys.Remove(key);
            }

            if (wanted)
            {
                Enqueue(instance, new InboxItem(inboxKey, work.ExecutionId, outcome));
            }

            return;
        }
    }

    private void Arm(WorkflowInstance instance, string key, TimerRecord timer)
    {
        TimeSpan due = timer.FireAt - _time.GetUtcNow();
        due = due < TimeSpan.Zero ? TimeSpan.Zero : due > LongestTimerWait ? LongestTimerWait : due;
        lock (instance.Gate)
        {
            if (instance.Finished || _stopping)
            {
                return;
            }

            instance.Timers.Remove(key, out ITimer? previous);
            previous?.Dispose();
            instance.Timers[key] = _time.CreateTimer(_ => Fire(instance, key, timer), null, due, Timeout.InfiniteTimeSpan);
        }
    }

    private void Fire(WorkflowInstance instance, string key, TimerRecord timer)
    {
        if (_time.GetUtcNow() < timer.FireAt)
        {
            Arm(instance, key, timer); // a long wait, taken in steps
            return;
        }

        lock (instance.Gate)
        {
            if (!instance.Timers.Remove(key, out ITimer? armed))
            {
                return; // stopped meanwhile
            }

            armed.Dispose();
        }

        // Not written to the inbox: the timer record itself is the durable fact until the episode that applies it deletes it.
        Enqueue(instance, new InboxItem(null, timer.ExecutionId, new TimerFired(NoId, _time.GetUtcNow(), timer.FireAt, timer.TimerId), key));
    }

    // Under instance.Gate.
    private void ArmWake(WorkflowInstance instance, TimeSpan due)
    {
        if (_stopping)
        {
            return;
        }

        instance.Wake?.Dispose();
        instance.Wake = _time.CreateTimer(_ => Wake(instance), null, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    private void Wake(WorkflowInstance instance)
    {
        lock (instance.Gate)
        {
            if (instance.NotBefore is DateTimeOffset notBefore && notBefore > _time.GetUtcNow())
            {
                ArmWake(instance, notBefore - _time.GetUtcNow());
                return;
            }

            instance.NotBefore = null;
            if (!instance.Busy && !instance.Finished && instance.Pending.Count > 0)
            {
                StartEpisode(instance);
            }
        }
    }

    private async Task PostAsync(string instanceId, HistoryEvent e, CancellationToken cancellationToken)
    {
        EnsureRunning();
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        if (_live.TryGetValue(instanceId, out WorkflowInstance? instance))
        {
            string key = Inbox(instanceId, NextInboxSequence());
            await _committer.CommitAsync([Upsert(key, new InboxRecord(null, e))]).ConfigureAwait(false);
            Enqueue(instance, new InboxItem(key, null, e));
            return;
        }

        if (await GetWorkflowStateAsync(instanceId, false, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new InvalidOperationException($"there is no workflow instance '{instanceId}'");
        }

        // Finished: there is nothing left to deliver to.
    }

    private async Task<WorkflowState> WaitAsync(string instanceId, bool includeInputsAndOutputs, Func<WorkflowState, bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Take the change signal before reading, so a change between the read and the wait is not missed.
            TaskCompletionSource changed = _changes.GetOrAdd(instanceId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            if (await GetWorkflowStateAsync(instanceId, includeInputsAndOutputs, cancellationToken).ConfigureAwait(false) is WorkflowState state && done(state))
            {
                return state;
            }

            try
            {
                await changed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _changes.TryRemove(KeyValuePair.Create(instanceId, changed)); // an abandoned wait leaves nothing behind
                throw;
            }
        }
    }

    private void Signal(string instanceId)
    {
        if (_changes.TryRemove(instanceId, out TaskCompletionSource? changed))
        {
            changed.TrySetResult();
        }
    }

    private async Task<bool> CollectPurgeAsync(string id, bool recursive, List<StateOperation> operations, HashSet<string> seen, CancellationToken cancellationToken)
    {
        if (!seen.Add(id) || _live.ContainsKey(id) || id.Contains("||", StringComparison.Ordinal))
        {
            return false;
        }

        InstanceRecord? record = null;
        var children = new List<string>();
        int start = operations.Count;
        await foreach ((string key, StateItem item) in _store.ListAsync(Instance(id), cancellationToken).ConfigureAwait(false))
        {
            operations.Add(Delete(key));
            if (key.EndsWith("||meta", StringComparison.Ordinal))
            {
                record = Read<InstanceRecord>(item);
            }
            else if (recursive && key.Contains("||history||", StringComparison.Ordinal))
            {
                foreach (HistoryEvent e in Read<List<HistoryEvent>>(item))
                {
                    if (e is SubOrchestrationInstanceCreated created)
                    {
                        children.Add(created.InstanceId);
                    }
                }
            }
        }

        if (record is null || !WorkflowState.IsTerminal(record.Status))
        {
            operations.RemoveRange(start, operations.Count - start);
            return false;
        }

        foreach (string child in children)
        {
            await CollectPurgeAsync(child, recursive, operations, seen, cancellationToken).ConfigureAwait(false); // a running child stays
        }

        return true;
    }

    // Creating an instance with the id of a finished one replaces it, as durabletask does: the old keys go in the same transaction.
    private async Task ReplaceFinishedAsync(string id, List<StateOperation> operations, CancellationToken cancellationToken)
    {
        if (await _store.GetAsync(Meta(id), cancellationToken).ConfigureAwait(false) is null)
        {
            return;
        }

        await foreach ((string key, StateItem _) in _store.ListAsync(Instance(id), cancellationToken).ConfigureAwait(false))
        {
            operations.Add(Delete(key));
        }
    }

    private static StateOperation LiveMarker(string id, string name) => new StateOperation.Upsert(new StateWrite(Live(id), Encoding.UTF8.GetBytes(name)));

    private static string NewExecutionId() => Guid.NewGuid().ToString("N");

    // Sortable within a run and across runs (wall-clock ticks first), unique across runs (the run id).
    private string NextInboxSequence() =>
        string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow.Ticks:D19}.{Interlocked.Increment(ref _inboxSequence):D10}.{_runId}");

    private void Report(Exception e) => _options.OnError?.Invoke(e);

    /// <summary>A child instance an episode creates: reserved in memory first, its record and start filled in as it is planned.</summary>
    private sealed class ChildStart(WorkflowInstance child)
    {
        public WorkflowInstance Child { get; } = child;

        public InstanceRecord? Record { get; set; }

        public InboxItem? Start { get; set; }
    }

    /// <summary>What one episode will commit, and what to do once it has.</summary>
    private sealed class EpisodePlan(WorkflowInstance instance, InstanceRecord record, DateTimeOffset now, List<StateOperation> operations, List<HistoryEvent> history)
    {
        public WorkflowInstance Instance { get; } = instance;

        public InstanceRecord Record { get; } = record;

        public DateTimeOffset Now { get; } = now;

        public List<StateOperation> Operations { get; } = operations;

        /// <summary>The episode's history page: the applied events, then the events recording its actions.</summary>
        public List<HistoryEvent> History { get; } = history;

        public InstanceRecord? Next { get; set; }

        /// <summary>The history pages the generation has once this episode is committed.</summary>
        public int Pages { get; set; }

        public bool Finished { get; set; }

        public List<InboxItem>? Restart { get; set; }

        public List<(string Key, ActivityRecord Work)> Activities { get; } = [];

        public List<(string Key, TimerRecord Timer)> Timers { get; } = [];

        public List<ChildStart> Children { get; } = [];

        public List<(WorkflowInstance Target, InboxItem Item)> Deliveries { get; } = [];
    }
}
