namespace Atomic.Runtime.Actors;

/// <summary>
/// One activated actor and the turns run on it, shared by every host: activation on the first turn, dispatch of a
/// method, timer or reminder, and the commit of the turn's state changes (or their discard when the turn throws).
/// The host decides when turns run: it must run one turn at a time, except for calls re-entering a running turn.
/// </summary>
/// <remarks>
/// A call that re-enters a running turn (reentrancy) is part of that turn: its changes are committed or discarded with
/// the outermost turn's.
/// </remarks>
public sealed class ActorActivation
{
    private Actor? _actor;
    private int _depth;

    public ActorActivation(ActorRegistration registration, ActorId id, ActorServices services)
    {
        Host = new ActorHost(registration, id, services);
    }

    public ActorHost Host { get; }

    /// <summary>Whether <see cref="Actor.OnActivateAsync"/> has completed, so the actor has an instance.</summary>
    public bool IsActivated => _actor is not null;

    /// <summary>The actor instance, once activated.</summary>
    public Actor? Actor => _actor;

    /// <summary>Runs the method named <paramref name="method"/> with a JSON <paramref name="body"/> as a turn and returns its JSON response.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> InvokeMethodAsync(string method, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ActorMethod target = Host.Registration.Methods.Find(Host.ActorType, Host.Id.Value, method);
        Actor actor = await BeginTurnAsync(cancellationToken).ConfigureAwait(false);
        bool committed = false;
        try
        {
            ReadOnlyMemory<byte> response = await target.InvokeAsync(actor, body, cancellationToken).ConfigureAwait(false);
            await EndTurnAsync().ConfigureAwait(false);
            committed = true;
            return response;
        }
        finally
        {
            LeaveTurn(committed);
        }
    }

    /// <summary>Runs the timer callback method <paramref name="callback"/> with the timer's <paramref name="data"/> as a turn.</summary>
    public async ValueTask InvokeTimerAsync(string callback, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ActorTimerCallback target = Host.Registration.Methods.FindTimerCallback(Host.ActorType, Host.Id.Value, callback);
        Actor actor = await BeginTurnAsync(cancellationToken).ConfigureAwait(false);
        bool committed = false;
        try
        {
            await target.InvokeAsync(actor, data, cancellationToken).ConfigureAwait(false);
            await EndTurnAsync().ConfigureAwait(false);
            committed = true;
        }
        finally
        {
            LeaveTurn(committed);
        }
    }

    /// <summary>Delivers a reminder to <see cref="IRemindable.ReceiveReminderAsync"/> as a turn.</summary>
    public async ValueTask ReceiveReminderAsync(string reminderName, ReadOnlyMemory<byte> state, TimeSpan dueTime, TimeSpan? period, CancellationToken cancellationToken = default)
    {
        Actor actor = await BeginTurnAsync(cancellationToken).ConfigureAwait(false);
        bool committed = false;
        try
        {
            if (actor is not IRemindable remindable)
            {
                throw new InvalidOperationException($"actor type {Host.ActorType} received reminder '{reminderName}' but does not implement {nameof(IRemindable)}");
            }

            await remindable.ReceiveReminderAsync(reminderName, state, dueTime, period).ConfigureAwait(false);
            await EndTurnAsync().ConfigureAwait(false);
            committed = true;
        }
        finally
        {
            LeaveTurn(committed);
        }
    }

    /// <summary>
    /// Runs <see cref="Actor.OnDeactivateAsync"/> as the activation's last turn, if it was ever activated. Afterwards
    /// the activation has no instance; the host drops it (a later turn would activate a new instance).
    /// </summary>
    public async ValueTask DeactivateAsync(CancellationToken cancellationToken = default)
    {
        if (_actor is not Actor actor)
        {
            return;
        }

        Interlocked.Increment(ref _depth);
        bool committed = false;
        try
        {
            await actor.OnDeactivateAsync().ConfigureAwait(false);
            await EndTurnAsync().ConfigureAwait(false);
            committed = true;
        }
        finally
        {
            LeaveTurn(committed);
            _actor = null;
        }
    }

    private ValueTask<Actor> BeginTurnAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _depth);
        return _actor is Actor actor ? new ValueTask<Actor>(actor) : new ValueTask<Actor>(ActivateAsync(cancellationToken));
    }

    private async Task<Actor> ActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            Actor actor = Host.Registration.Factory(Host);
            await actor.OnActivateAsync().ConfigureAwait(false);

            // Activation is a turn of its own: what it set is kept even if the call that triggered it fails.
            await Host.StateManager.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            _actor = actor;
            return actor;
        }
        catch
        {
            Host.StateManager.Discard();
            Interlocked.Decrement(ref _depth);
            throw;
        }
    }

    /// <summary>Commits the turn's changes if this is the outermost turn (a re-entering call's changes belong to it).</summary>
    private ValueTask EndTurnAsync() =>

        // Not the caller's token: once the actor's code has finished, its result is kept even if the caller has gone.
        Volatile.Read(ref _depth) == 1 ? Host.StateManager.CommitAsync(CancellationToken.None) : ValueTask.CompletedTask;

    private void LeaveTurn(bool committed)
    {
        if (Interlocked.Decrement(ref _depth) == 0 && !committed)
        {
            Host.StateManager.Discard();
        }
    }
}
