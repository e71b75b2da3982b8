using System.Collections.Concurrent;
using System.Collections.Frozen;
using Atomic.Runtime.Actors;

namespace Atomic.Runtime.Dapr.Actors;

/// <summary>
/// The app side of Dapr actors: the activation table behind the callbacks daprd makes (<see cref="DaprActorCallbacks"/>).
/// A call activates its actor on first use; turns run one at a time per id through <see cref="ActorActivation"/>, the
/// dispatch the embedded runtime uses, so actor code is the same on both. daprd already allows one turn per actor
/// across the cluster; the host serializes again so that nothing but one turn ever touches an activation, except a
/// call daprd lets in because it re-enters the turn holding the lock (<see cref="DaprCallChain"/>).
/// </summary>
/// <remarks>
/// Idle deactivation is daprd's: it sees every call, timer and reminder, applies <c>actorIdleTimeout</c> from
/// <see cref="Config"/>, stops the actor's timers and sends <c>DELETE /actors/{type}/{id}</c>, which runs
/// <see cref="Actor.OnDeactivateAsync"/> here. The host keeps no clock of its own. Disposing (app shutdown) waits for
/// turns in flight up to the drain timeout and deactivates every active actor.
/// </remarks>
public sealed class DaprActorHost : IAsyncDisposable
{
    private readonly ActorRuntimeOptions _options;
    private readonly ActorServices _services;
    private readonly FrozenDictionary<string, ActorRegistration> _types;
    private readonly ConcurrentDictionary<(string Type, string Id), Slot> _active = new();
    private volatile bool _disposing;

    public DaprActorHost(ActorRuntimeOptions options, ActorServices services)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        options.Validate();
        _options = options;
        _services = services;
        _types = options.Actors.ToFrozenDictionary(r => r.TypeName, StringComparer.Ordinal);
    }

    /// <summary>The actor types this app hosts, in registration order.</summary>
    public IReadOnlyList<string> ActorTypes => [.. _options.Actors.Select(r => r.TypeName)];

    /// <summary>How many actors are active now.</summary>
    public int ActiveCount => _active.Count;

    public bool TryGetRegistration(string actorType, out ActorRegistration registration) => _types.TryGetValue(actorType, out registration!);

    /// <summary>What <c>GET /dapr/config</c> answers: the hosted types and the runtime settings, durations in Go syntax.</summary>
    public DaprActorConfig Config()
    {
        var perType = new List<DaprEntityConfig>();
        foreach (ActorRegistration registration in _options.Actors)
        {
            ActorTypeOptions o = registration.Options;
            if (o.IdleTimeout is not null || o.DrainOngoingCallTimeout is not null || o.Reentrancy is not null)
            {
                perType.Add(new DaprEntityConfig(
                    [registration.TypeName],
                    o.IdleTimeout is TimeSpan idle ? GoDuration.Format(idle) : null,
                    o.DrainOngoingCallTimeout is TimeSpan drain ? GoDuration.Format(drain) : null,
                    o.Reentrancy is ActorReentrancyOptions r ? new DaprReentrancyConfig(r.Enabled, r.MaxStackDepth) : null));
            }
        }

        return new DaprActorConfig(
            ActorTypes,
            GoDuration.Format(_options.IdleTimeout),
            GoDuration.Format(_options.ScanInterval),
            GoDuration.Format(_options.DrainOngoingCallTimeout),
            DrainRebalancedActors: true,
            new DaprReentrancyConfig(_options.Reentrancy.Enabled, _options.Reentrancy.MaxStackDepth),
            perType);
    }

    /// <summary>Runs a method as a turn (<c>PUT /actors/{type}/{id}/method/{method}</c>) and answers its JSON response.</summary>
    /// <param name="caller">The chain the call came in (its headers); null for none.</param>
    public Task<ReadOnlyMemory<byte>> InvokeMethodAsync(string actorType, string actorId, string method, ReadOnlyMemory<byte> body, DaprCallChain? caller = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        return RunTurnAsync(
            actorType,
            actorId,
            method,
            caller,
            (method, body),
            static async (activation, call, token) => await activation.InvokeMethodAsync(call.method, call.body, token).ConfigureAwait(false),
            cancellationToken);
    }

    /// <summary>Runs a timer's callback as a turn (<c>PUT /actors/{type}/{id}/method/timer/{name}</c>).</summary>
    public Task InvokeTimerAsync(string actorType, string actorId, string timerName, string callback, ReadOnlyMemory<byte> data, DaprCallChain? caller = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(callback);
        return RunTurnAsync(
            actorType,
            actorId,
            $"timer/{timerName}",
            caller,
            (callback, data),
            static async (activation, timer, token) =>
            {
                await activation.InvokeTimerAsync(timer.callback, timer.data, token).ConfigureAwait(false);
                return ReadOnlyMemory<byte>.Empty;
            },
            cancellationToken);
    }

    /// <summary>Delivers a reminder as a turn (<c>PUT /actors/{type}/{id}/method/remind/{name}</c>).</summary>
    public Task ReceiveReminderAsync(string actorType, string actorId, string reminderName, ReadOnlyMemory<byte> data, TimeSpan dueTime, TimeSpan? period, DaprCallChain? caller = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reminderName);
        return RunTurnAsync(
            actorType,
            actorId,
            $"remind/{reminderName}",
            caller,
            new ActorReminder(reminderName, data, dueTime, period),
            static async (activation, reminder, token) =>
            {
                await activation.ReceiveReminderAsync(reminder.Name, reminder.Data, reminder.DueTime, reminder.Period, token).ConfigureAwait(false);
                return ReadOnlyMemory<byte>.Empty;
            },
            cancellationToken);
    }

    /// <summary>
    /// Deactivates the actor (<c>DELETE /actors/{type}/{id}</c>) after the turn it is in: runs its last turn, then
    /// forgets it. Answers false when it was not active. A failing <see cref="Actor.OnDeactivateAsync"/> still deactivates.
    /// </summary>
    public async Task<bool> DeactivateAsync(string actorType, string actorId, CancellationToken cancellationToken = default)
    {
        Resolve(actorType, actorId);
        if (!_active.TryGetValue((actorType, actorId), out Slot? slot))
        {
            return false;
        }

        await slot.Turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return !slot.Deactivated && await DeactivateLockedAsync(actorType, actorId, slot).ConfigureAwait(false);
        }
        finally
        {
            slot.Turn.Release();
        }
    }

    /// <summary>Refuses new turns, waits for running ones (up to each type's drain timeout), then deactivates every active actor.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposing)
        {
            return;
        }

        _disposing = true;
        await Task.WhenAll(_active.Select(async active =>
        {
            TimeSpan drain = _options.DrainOngoingCallTimeoutFor(_types[active.Key.Type]);

            // A turn that outlasts the drain timeout is abandoned, and its actor is not deactivated.
            if (!await active.Value.Turn.WaitAsync(drain).ConfigureAwait(false))
            {
                return;
            }

            try
            {
                if (!active.Value.Deactivated)
                {
                    await DeactivateLockedAsync(active.Key.Type, active.Key.Id, active.Value).ConfigureAwait(false);
                }
            }
            finally
            {
                active.Value.Turn.Release();
            }
        })).ConfigureAwait(false);
    }

    private static bool IsActorFailure(Exception error, CancellationToken cancellationToken) =>
        error is not ActorException && !(error is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private ActorRegistration Resolve(string actorType, string actorId)
    {
        ArgumentException.ThrowIfNullOrEmpty(actorType);
        ActorId.Validate(actorId, nameof(actorId));
        ObjectDisposedException.ThrowIf(_disposing, this);
        return _types.TryGetValue(actorType, out ActorRegistration? registration) ? registration : throw new ActorTypeNotRegisteredException(actorType, _types.Keys);
    }

    /// <summary>
    /// Runs one turn: waits for the actor's lock, or, for a call daprd let in because it carries the reentrancy id of
    /// the turn holding that lock, runs inside that turn. The turn's chain (<see cref="DaprCallChain.Current"/>) is the
    /// caller's plus this actor, for the calls it makes.
    /// </summary>
    private async Task<ReadOnlyMemory<byte>> RunTurnAsync<TState>(
        string actorType, string actorId, string method, DaprCallChain? caller, TState state, Func<ActorActivation, TState, CancellationToken, Task<ReadOnlyMemory<byte>>> turn, CancellationToken cancellationToken)
    {
        ActorRegistration registration = Resolve(actorType, actorId);
        ActorReentrancyOptions reentrancy = _options.ReentrancyFor(registration);
        string? reentrancyId = caller?.ReentrancyId;
        if (reentrancyId is not null && _active.TryGetValue((actorType, actorId), out Slot? held) && held.HolderReentrancyId == reentrancyId && !held.Deactivated)
        {
            if (!reentrancy.Enabled)
            {
                throw new ActorReentrancyException(actorType, actorId, caller!.ToString(), "reentrancy is off for this actor type, and waiting for the turn the chain is in would deadlock");
            }

            return await RunInChainAsync(held, actorType, actorId, method, caller!, reentrancy, state, turn, cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposing, this);
            Slot slot = _active.GetOrAdd((actorType, actorId), static (key, host) => new Slot(new ActorActivation(host.registration, new ActorId(key.Id), host.services)), (registration, services: _services));
            await slot.Turn.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Deactivated while this call waited: its successor is a new activation.
                if (slot.Deactivated)
                {
                    continue;
                }

                slot.HolderReentrancyId = reentrancyId;
                try
                {
                    return await RunInChainAsync(slot, actorType, actorId, method, caller ?? DaprCallChain.FromHeaders(null, null), reentrancy, state, turn, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    slot.HolderReentrancyId = null;
                }
            }
            finally
            {
                slot.Turn.Release();
            }
        }
    }

    private static async Task<ReadOnlyMemory<byte>> RunInChainAsync<TState>(
        Slot slot, string actorType, string actorId, string method, DaprCallChain caller, ActorReentrancyOptions reentrancy, TState state,
        Func<ActorActivation, TState, CancellationToken, Task<ReadOnlyMemory<byte>>> turn, CancellationToken cancellationToken)
    {
        DaprCallChain chain = caller.Enter(actorType, actorId, reentrancy);
        DaprCallChain.Current = chain;
        try
        {
            return await turn(slot.Activation, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsActorFailure(e, cancellationToken))
        {
            throw ActorInvocationException.Wrap(actorType, actorId, method, e);
        }
        finally
        {
            chain.Finish();
        }
    }

    private async Task<bool> DeactivateLockedAsync(string actorType, string actorId, Slot slot)
    {
        slot.Deactivated = true;
        try
        {
            await slot.Activation.DeactivateAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Its state changes were discarded; a failing OnDeactivateAsync must not keep the actor in memory.
        }
        finally
        {
            _active.TryRemove(new KeyValuePair<(string, string), Slot>((actorType, actorId), slot));
        }

        return true;
    }

    private sealed class Slot(ActorActivation activation)
    {
        private string? _holderReentrancyId;

        public SemaphoreSlim Turn { get; } = new(1, 1);

        public ActorActivation Activation { get; } = activation;

        public bool Deactivated { get; set; }

        /// <summary>daprd's reentrancy id of the turn holding <see cref="Turn"/>, if it sent one.</summary>
        public string? HolderReentrancyId
        {
            get => Volatile.Read(ref _holderReentrancyId);
            set => Volatile.Write(ref _holderReentrancyId, value);
        }
    }
}
