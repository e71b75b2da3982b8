using System.Collections.Frozen;
using Atomic.Runtime.Actors;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Embedded.Actors;

/// <summary>
/// The actor building block in process: actors are activated on their first call, run one turn at a time per id (ids
/// in parallel), keep their state in the given state store in Dapr's key layout with one transaction per turn that
/// changed something, and are deactivated when idle. Timers live in memory; reminders are stored and survive restarts.
/// A call chain that comes back to an actor it is waiting on fails with <see cref="ActorReentrancyException"/> unless
/// the actor's type allows reentrancy. Every wait is on the given <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// One runtime owns an app id's actors in a store: two runtimes over the same store and app id would each activate
/// the same actor. Drain timeouts are wall-clock.
/// </remarks>
public sealed class EmbeddedActorRuntime : IActorClient, IActorReminders, IActorTimers, IAsyncDisposable
{
    /// <summary>The type name the reminder keys use as their second part (<see cref="ActorStateKeys.Reminder"/>).</summary>
    private const string ReservedTypeName = "actors";

    private readonly ActorRuntimeOptions _options;
    private readonly TimeProvider _time;
    private readonly FrozenDictionary<string, ActorTypeRuntime> _types;
    private readonly ActorServices _services;
    private readonly ReminderScheduler _reminders;
    private readonly BackgroundWork _background = new();
    private ITimer? _scanTimer;
    private int _scanState;
    private volatile bool _disposing;
    private TaskCompletionSource? _disposed;

    private EmbeddedActorRuntime(ActorRuntimeOptions options, IStateStore stateStore, TimeProvider time)
    {
        _options = options;
        _time = time;
        var types = new Dictionary<string, ActorTypeRuntime>(StringComparer.Ordinal);
        foreach (ActorRegistration registration in options.Actors)
        {
            if (registration.TypeName == ReservedTypeName)
            {
                throw new ArgumentException($"actor type name '{ReservedTypeName}' is reserved: reminder keys use it", nameof(options));
            }

            types.Add(registration.TypeName, new ActorTypeRuntime(registration, options));
        }

        _types = types.ToFrozenDictionary(StringComparer.Ordinal);
        _services = new ActorServices(new StateStoreActorStateStore(stateStore, options.AppId), this, this, this, time);
        _reminders = new ReminderScheduler(stateStore, options.AppId, time, _background, DeliverReminderAsync);
    }

    public string AppId => _options.AppId;

    /// <summary>The registered actor type names.</summary>
    public IReadOnlyCollection<string> ActorTypes => _types.Keys;

    /// <summary>
    /// Starts a runtime serving <paramref name="options"/>' actor types over <paramref name="stateStore"/>: loads the
    /// stored reminders (overdue ones fire at once) and starts the reminder scheduler and the idle scan.
    /// </summary>
    public static async Task<EmbeddedActorRuntime> StartAsync(ActorRuntimeOptions options, IStateStore stateStore, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stateStore);
        options.Validate();
        var runtime = new EmbeddedActorRuntime(options, stateStore, timeProvider ?? TimeProvider.System);
        await runtime._reminders.StartAsync(runtime._types.Keys.ToFrozenSet(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        runtime._scanTimer = Detached.CreateTimer(runtime._time, static state => ((EmbeddedActorRuntime)state!).RequestScan(), runtime, options.ScanInterval, options.ScanInterval);
        return runtime;
    }

    public Task<ReadOnlyMemory<byte>> InvokeMethodAsync(string actorType, string actorId, string method, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ActorTypeRuntime type = Resolve(actorType, actorId);
        ArgumentException.ThrowIfNullOrEmpty(method);
        return RunTurnAsync(
            type,
            actorId,
            method,
            (method, body),
            static (activation, call, token) => activation.InvokeMethodAsync(call.method, call.body, token),
            cancellationToken);
    }

    public Task RegisterReminderAsync(string actorType, string actorId, ActorReminder reminder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reminder);
        reminder.Validate();
        ActorTypeRuntime type = Resolve(actorType, actorId);
        ActorId.Validate(actorId, nameof(actorId));
        if (!typeof(IRemindable).IsAssignableFrom(type.Registration.ActorClass))
        {
            throw new InvalidOperationException($"actor type {actorType} cannot receive reminders: {type.Registration.ActorClass.Name} does not implement {nameof(IRemindable)}");
        }

        return _reminders.RegisterAsync(actorType, actorId, reminder, cancellationToken);
    }

    public Task UnregisterReminderAsync(string actorType, string actorId, string reminderName, CancellationToken cancellationToken = default)
    {
        Resolve(actorType, actorId);
        ArgumentException.ThrowIfNullOrEmpty(reminderName);
        return _reminders.UnregisterAsync(actorType, actorId, reminderName, cancellationToken);
    }

    public Task<ActorReminder?> GetReminderAsync(string actorType, string actorId, string reminderName, CancellationToken cancellationToken = default)
    {
        Resolve(actorType, actorId);
        ArgumentException.ThrowIfNullOrEmpty(reminderName);
        return Task.FromResult(_reminders.Get(actorType, actorId, reminderName));
    }

    public Task RegisterTimerAsync(string actorType, string actorId, ActorTimer timer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(timer);
        timer.Validate();
        ActorTypeRuntime type = Resolve(actorType, actorId);
        type.Registration.EnsureTimerCallback(actorId, timer.Callback);
        return AddTimerAsync(type, actorId, timer, cancellationToken);
    }

    public Task UnregisterTimerAsync(string actorType, string actorId, string timerName, CancellationToken cancellationToken = default)
    {
        ActorTypeRuntime type = Resolve(actorType, actorId);
        ArgumentException.ThrowIfNullOrEmpty(timerName);
        if (type.Active.TryGetValue(actorId, out ActiveActor? actor))
        {
            actor.RemoveTimer(timerName);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops the reminder scheduler, the idle scan and every timer, waits for turns in flight (up to the drain
    /// timeout), then deactivates every active actor. Calls made afterwards throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var disposal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _disposed, disposal, null) is TaskCompletionSource earlier)
        {
            await earlier.Task.ConfigureAwait(false);
            return;
        }

        try
        {
            await ShutDownAsync().ConfigureAwait(false);
            disposal.SetResult();
        }
        catch (Exception e)
        {
            disposal.SetException(e);
            throw;
        }
    }

    private static bool IsActorFailure(Exception error, CancellationToken cancellationToken) =>
        error is not ActorException && !(error is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private async Task ShutDownAsync()
    {
        _disposing = true;
        _scanTimer?.Dispose();
        await _reminders.StopAsync().ConfigureAwait(false);
        foreach (ActorTypeRuntime type in _types.Values)
        {
            foreach (KeyValuePair<string, ActiveActor> active in type.Active)
            {
                active.Value.StopTimers();
            }
        }

        await _background.DrainAsync(_options.DrainOngoingCallTimeout).ConfigureAwait(false);
        var deactivations = new List<Task>();
        foreach (ActorTypeRuntime type in _types.Values)
        {
            foreach (KeyValuePair<string, ActiveActor> active in type.Active)
            {
                deactivations.Add(DrainAndDeactivateAsync(active.Value));
            }
        }

        await Task.WhenAll(deactivations).ConfigureAwait(false);
    }

    private ActorTypeRuntime Resolve(string actorType, string actorId)
    {
        ArgumentException.ThrowIfNullOrEmpty(actorType);
        ArgumentException.ThrowIfNullOrEmpty(actorId);
        ObjectDisposedException.ThrowIf(_disposing, this);
        return _types.TryGetValue(actorType, out ActorTypeRuntime? type) ? type : throw new ActorTypeNotRegisteredException(actorType, _types.Keys);
    }

    private ActiveActor GetOrAddActive(ActorTypeRuntime type, string actorId)
    {
        if (type.Active.TryGetValue(actorId, out ActiveActor? actor))
        {
            return actor;
        }

        ActorId.Validate(actorId, nameof(actorId));
        return type.Active.GetOrAdd(
            actorId,
            static (id, state) => new ActiveActor(state.type, new ActorActivation(state.type.Registration, new ActorId(id), state.runtime._services), state.runtime._time.GetUtcNow()),
            (type, runtime: this));
    }

    /// <summary>
    /// Runs one turn on the actor: waits for its lock (or, for a re-entering call, runs inside the turn it re-enters),
    /// records the turn in the call chain, and reports the actor's own failures as <see cref="ActorInvocationException"/>.
    /// </summary>
    private async Task<TResult> RunTurnAsync<TState, TResult>(
        ActorTypeRuntime type, string actorId, string method, TState state, Func<ActorActivation, TState, CancellationToken, ValueTask<TResult>> turn, CancellationToken cancellationToken)
    {
        CallFrame? caller = CallFrame.Current;
        if (caller is not null && CallFrame.FindRunning(caller, type, actorId) is CallFrame reentered)
        {
            return await ReenterAsync(type, actorId, method, caller, reentered.Actor, state, turn, cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposing, this);
            ActiveActor actor = GetOrAddActive(type, actorId);
            actor.Enter();
            try
            {
                await actor.Turn.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                actor.Leave();
                throw;
            }

            try
            {
                // Deactivated while this call waited: its successor is a new activation.
                if (actor.Deactivated)
                {
                    continue;
                }

                var frame = new CallFrame(actor, caller);
                CallFrame.Current = frame;
                try
                {
                    return await turn(actor.Activation, state, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (IsActorFailure(e, cancellationToken))
                {
                    throw ActorInvocationException.Wrap(type.Name, actorId, method, e);
                }
                finally
                {
                    frame.Finish();
                    actor.Touch(_time.GetUtcNow());
                }
            }
            finally
            {
                actor.Leave();
                actor.Turn.Release();
            }
        }
    }

    private static async Task<TResult> ReenterAsync<TState, TResult>(
        ActorTypeRuntime type, string actorId, string method, CallFrame caller, ActiveActor actor, TState state, Func<ActorActivation, TState, CancellationToken, ValueTask<TResult>> turn, CancellationToken cancellationToken)
    {
        ActorReentrancyOptions reentrancy = type.Reentrancy;
        if (!reentrancy.Enabled)
        {
            throw new ActorReentrancyException(type.Name, actorId, caller.ToString(), "reentrancy is off for this actor type, and waiting for the turn the chain is in would deadlock");
        }

        if (caller.Depth >= reentrancy.MaxStackDepth)
        {
            throw new ActorReentrancyException(type.Name, actorId, caller.ToString(), $"the chain would be {caller.Depth + 1} calls deep, more than the {reentrancy.MaxStackDepth} allowed");
        }

        // The chain already holds this actor's lock: the call runs inside the turn it re-enters.
        var frame = new CallFrame(actor, caller);
        CallFrame.Current = frame;
        try
        {
            return await turn(actor.Activation, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsActorFailure(e, cancellationToken))
        {
            throw ActorInvocationException.Wrap(type.Name, actorId, method, e);
        }
        finally
        {
            frame.Finish();
        }
    }

    /// <summary>Delivers a due reminder as a turn; answers false when shutting down prevented the turn.</summary>
    private async Task<bool> DeliverReminderAsync(ReminderScheduler.Entry entry)
    {
        if (_disposing || !_types.TryGetValue(entry.Key.Type, out ActorTypeRuntime? type))
        {
            return false;
        }

        try
        {
            await RunTurnAsync(
                type,
                entry.Key.Id,
                $"remind/{entry.Key.Name}",
                entry.Reminder,
                static async (activation, reminder, token) =>
                {
                    await activation.ReceiveReminderAsync(reminder.Name, reminder.Data, reminder.DueTime, reminder.Period, token).ConfigureAwait(false);
                    return true;
                },
                CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (ObjectDisposedException) when (_disposing)
        {
            return false;
        }
    }

    private async Task AddTimerAsync(ActorTypeRuntime type, string actorId, ActorTimer timer, CancellationToken cancellationToken)
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposing, this);
            ActiveActor actor = GetOrAddActive(type, actorId);
            if (actor.TryAddTimer(new ActorTimerEntry(actor, timer, _time, OnTimerTick)))
            {
                return;
            }

            // Being deactivated. From its own last turn, a timer would end with the activation at once; from outside,
            // wait for the deactivation to finish and start the timer on the next activation.
            if (CallFrame.FindRunning(CallFrame.Current, type, actorId)?.Actor == actor)
            {
                return;
            }

            await actor.Turn.WaitAsync(cancellationToken).ConfigureAwait(false);
            actor.Turn.Release();
        }
    }

    private void OnTimerTick(ActorTimerEntry timer) => _background.Run(() => RunTimerAsync(timer));

    private async Task RunTimerAsync(ActorTimerEntry timer)
    {
        ActiveActor actor = timer.Actor;
        do
        {
            if (timer.Stopped || actor.Deactivated || _disposing)
            {
                return;
            }

            actor.Enter();
            await actor.Turn.WaitAsync().ConfigureAwait(false);
            try
            {
                if (timer.Stopped || actor.Deactivated)
                {
                    return;
                }

                var frame = new CallFrame(actor, null);
                CallFrame.Current = frame;
                try
                {
                    await actor.Activation.InvokeTimerAsync(timer.Timer.Callback, timer.Timer.Data).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The callback's state changes were discarded; the timer keeps its schedule, as Dapr's does.
                }
                finally
                {
                    frame.Finish();

                    // A timer firing counts as use of the actor, as in Dapr.
                    actor.Touch(_time.GetUtcNow());
                }
            }
            finally
            {
                actor.Leave();
                actor.Turn.Release();
            }

            if (timer.Timer.Period is null)
            {
                actor.RemoveTimer(timer);
                return;
            }
        }
        while (timer.FinishRun());
    }

    /// <summary>Starts a scan, or asks the running one to go round again, so that the last tick is always followed by a scan.</summary>
    private void RequestScan()
    {
        while (true)
        {
            int state = Volatile.Read(ref _scanState);
            if (state == 2)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _scanState, state + 1, state) == state)
            {
                if (state == 0)
                {
                    _background.Run(() =>
                    {
                        do
                        {
                            ScanForIdleActors();
                        }
                        while (Interlocked.Decrement(ref _scanState) > 0);
                        return Task.CompletedTask;
                    });
                }

                return;
            }
        }
    }

    private void ScanForIdleActors()
    {
        if (_disposing)
        {
            return;
        }

        DateTimeOffset now = _time.GetUtcNow();
        foreach (ActorTypeRuntime type in _types.Values)
        {
            foreach (KeyValuePair<string, ActiveActor> active in type.Active)
            {
                ActiveActor actor = active.Value;
                if (!actor.Deactivated && actor.Pending == 0 && now - actor.LastUsed >= type.IdleTimeout && actor.TryClaimDeactivation())
                {
                    _background.Run(() => DeactivateIdleAsync(actor, now));
                }
            }
        }
    }

    private async Task DeactivateIdleAsync(ActiveActor actor, DateTimeOffset scannedAt)
    {
        await actor.Turn.WaitAsync().ConfigureAwait(false);
        try
        {
            // Used since the scan looked, or a call is waiting: not idle after all.
            if (!actor.Deactivated && !_disposing && actor.Pending == 0 && scannedAt - actor.LastUsed >= actor.Type.IdleTimeout)
            {
                await DeactivateAsync(actor).ConfigureAwait(false);
            }
        }
        finally
        {
            actor.ReleaseDeactivationClaim();
            actor.Turn.Release();
        }
    }

    private async Task DrainAndDeactivateAsync(ActiveActor actor)
    {
        // A turn that outlasts the drain timeout is abandoned, and its actor is not deactivated.
        if (!await actor.Turn.WaitAsync(actor.Type.DrainTimeout).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            if (!actor.Deactivated)
            {
                await DeactivateAsync(actor).ConfigureAwait(false);
            }
        }
        finally
        {
            actor.Turn.Release();
        }
    }

    /// <summary>Deactivates the actor while holding its lock: stops its timers, runs its last turn, and only then forgets it, so a successor reads what that turn committed.</summary>
    private static async Task DeactivateAsync(ActiveActor actor)
    {
        actor.MarkDeactivated();
        var frame = new CallFrame(actor, null);
        CallFrame.Current = frame;
        try
        {
            await actor.Activation.DeactivateAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Its state changes were discarded; a failing OnDeactivateAsync must not keep the actor in memory.
        }
        finally
        {
            frame.Finish();
            actor.Type.Active.TryRemove(new KeyValuePair<string, ActiveActor>(actor.Id, actor));
        }
    }
}
