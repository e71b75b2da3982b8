using System.Collections.Concurrent;
using System.Collections.Frozen;
using Atomic.Runtime.Actors;

namespace Atomic.Runtime.Dapr.Actors;

/// <summary>
/// The app side of Dapr actors: the activation table behind the callbacks daprd makes (<see cref="DaprActorCallbacks"/>).
/// A call activates its actor on first use; turns run one at a time per id through <see cref="ActorActivation"/>, the
/// dispatch the embedded runtime uses, so actor code is the same on both. daprd already allows one turn per actor
/// across the cluster; the host serializes again so that nothing but one turn ever touches an activation.
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
    public Task<ReadOnlyMemory<byte>> InvokeMethodAsync(string actorType, string actorId, string method, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        return RunTurnAsync(
            actorType,
            actorId,
            method,
            (method, body),
            static async (activation, call, token) => await activation.InvokeMethodAsync(call.method, call.body, token).ConfigureAwait(false),
            cancellationToken);
    }

    /// <summary>Runs a timer's callback as a turn (<c>PUT /actors/{type}/{id}/method/timer/{name}</c>).</summary>
    public Task InvokeTimerAsync(string actorType, string actorId, string timerName, string callback, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(callback);
        return RunTurnAsync(
            actorType,
            actorId,
            $"timer/{timerName}",
            (callback, data),
            static async (activation, timer, token) =>
            {
                await activation.InvokeTimerAsync(timer.callback, timer.data, token).ConfigureAwait(false);
                return ReadOnlyMemory<byte>.Empty;
            },
            cancellationToken);
    }

    /// <summary>Delivers a reminder as a turn (<c>PUT /actors/{type}/{id}/method/remind/{name}</c>).</summary>
    public Task ReceiveReminderAsync(string actorType, string actorId, string reminderName, ReadOnlyMemory<byte> data, TimeSpan dueTime, TimeSpan? period, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reminderName);
        return RunTurnAsync(
            actorType,
            actorId,
            $"remind/{reminderName}",
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

    private async Task<ReadOnlyMemory<byte>> RunTurnAsync<TState>(
        string actorType, string actorId, string method, TState state, Func<ActorActivation, TState, CancellationToken, Task<ReadOnlyMemory<byte>>> turn, CancellationToken cancellationToken)
    {
        ActorRegistration registration = Resolve(actorType, actorId);
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

                try
                {
                    return await turn(slot.Activation, state, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (IsActorFailure(e, cancellationToken))
                {
                    throw ActorInvocationException.Wrap(actorType, actorId, method, e);
                }
            }
            finally
            {
                slot.Turn.Release();
            }
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
        public SemaphoreSlim Turn { get; } = new(1, 1);

        public ActorActivation Activation { get; } = activation;

        public bool Deactivated { get; set; }
    }
}
