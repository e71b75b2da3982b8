using System.Collections.Concurrent;
using Atomic.Runtime.Actors;

namespace Atomic.Runtime.Embedded.Actors;

/// <summary>One registered actor type as the embedded runtime serves it: its settings resolved once, and its active actors.</summary>
internal sealed class ActorTypeRuntime(ActorRegistration registration, ActorRuntimeOptions options)
{
    public ActorRegistration Registration { get; } = registration;

    public string Name => Registration.TypeName;

    public TimeSpan IdleTimeout { get; } = options.IdleTimeoutFor(registration);

    public TimeSpan DrainTimeout { get; } = options.DrainOngoingCallTimeoutFor(registration);

    public ActorReentrancyOptions Reentrancy { get; } = options.ReentrancyFor(registration);

    /// <summary>The active actors of this type by id (an entry exists from the first call until deactivation).</summary>
    public ConcurrentDictionary<string, ActiveActor> Active { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// An actor the embedded runtime has in memory: its activation, the lock that keeps its turns apart, its timers, and
/// what the idle scan needs to know.
/// </summary>
internal sealed class ActiveActor(ActorTypeRuntime type, ActorActivation activation, DateTimeOffset now)
{
    private readonly Dictionary<string, ActorTimerEntry> _timers = new(StringComparer.Ordinal);
    private long _lastUsedTicks = now.UtcTicks;
    private int _pending;
    private int _deactivating;
    private volatile bool _deactivated;

    public ActorTypeRuntime Type { get; } = type;

    public string Id => Activation.Host.Id.Value;

    public ActorActivation Activation { get; } = activation;

    /// <summary>Held for the whole of each turn: one turn at a time per actor. Uncontended, it completes synchronously.</summary>
    public SemaphoreSlim Turn { get; } = new(1, 1);

    /// <summary>Set (while holding <see cref="Turn"/>) when the actor is deactivated; a caller that finds it set starts again with a new activation.</summary>
    public bool Deactivated => _deactivated;

    /// <summary>Turns waiting or running: an actor with any is not idle.</summary>
    public int Pending => Volatile.Read(ref _pending);

    public DateTimeOffset LastUsed => new(Volatile.Read(ref _lastUsedTicks), TimeSpan.Zero);

    public void Enter() => Interlocked.Increment(ref _pending);

    public void Leave() => Interlocked.Decrement(ref _pending);

    public void Touch(DateTimeOffset now) => Volatile.Write(ref _lastUsedTicks, now.UtcTicks);

    /// <summary>Claims the actor for one idle deactivation attempt, so that successive scans do not queue duplicates.</summary>
    public bool TryClaimDeactivation() => Interlocked.Exchange(ref _deactivating, 1) == 0;

    public void ReleaseDeactivationClaim() => Volatile.Write(ref _deactivating, 0);

    /// <summary>Adds or replaces a timer unless the actor is already deactivated (then answers false).</summary>
    public bool TryAddTimer(ActorTimerEntry timer)
    {
        lock (_timers)
        {
            if (_deactivated)
            {
                return false;
            }

            if (_timers.Remove(timer.Timer.Name, out ActorTimerEntry? old))
            {
                old.Stop();
            }

            _timers.Add(timer.Timer.Name, timer);
            timer.Start();
            return true;
        }
    }

    public void RemoveTimer(string name)
    {
        lock (_timers)
        {
            if (_timers.Remove(name, out ActorTimerEntry? old))
            {
                old.Stop();
            }
        }
    }

    /// <summary>Forgets a one-shot timer that has fired, unless it was replaced meanwhile.</summary>
    public void RemoveTimer(ActorTimerEntry timer)
    {
        lock (_timers)
        {
            if (_timers.TryGetValue(timer.Timer.Name, out ActorTimerEntry? current) && current == timer)
            {
                _timers.Remove(timer.Timer.Name);
            }
        }
    }

    /// <summary>Marks the actor deactivated and stops its timers; called while holding <see cref="Turn"/>.</summary>
    public void MarkDeactivated()
    {
        lock (_timers)
        {
            _deactivated = true;
            foreach (ActorTimerEntry timer in _timers.Values)
            {
                timer.Stop();
            }

            _timers.Clear();
        }
    }

    /// <summary>Stops every timer without deactivating (shutdown).</summary>
    public void StopTimers()
    {
        lock (_timers)
        {
            foreach (ActorTimerEntry timer in _timers.Values)
            {
                timer.Stop();
            }

            _timers.Clear();
        }
    }
}

/// <summary>
/// One running timer. Ticks come from the runtime's <see cref="TimeProvider"/>; a tick that arrives while the previous
/// callback still runs is coalesced into one more run right after it, so ticks never pile up.
/// </summary>
internal sealed class ActorTimerEntry(ActiveActor actor, ActorTimer timer, TimeProvider time, Action<ActorTimerEntry> onTick)
{
    private const int Idle = 0, Running = 1, RunningAndDue = 2;

    private ITimer? _timer;
    private int _state;
    private volatile bool _stopped;

    public ActiveActor Actor { get; } = actor;

    public ActorTimer Timer { get; } = timer;

    public bool Stopped => _stopped;

    public void Start() =>
        _timer = Detached.CreateTimer(time, static state => ((ActorTimerEntry)state!).Tick(), this, Timer.DueTime, Timer.Period ?? Timeout.InfiniteTimeSpan);

    public void Stop()
    {
        _stopped = true;
        _timer?.Dispose();
    }

    /// <summary>After a callback run: whether another tick came meanwhile and the callback must run again.</summary>
    public bool FinishRun()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Running) == Running)
        {
            return false;
        }

        Volatile.Write(ref _state, Running);
        return !_stopped;
    }

    private void Tick()
    {
        if (_stopped)
        {
            return;
        }

        while (true)
        {
            int state = Volatile.Read(ref _state);
            int next = state == Idle ? Running : RunningAndDue;
            if (Interlocked.CompareExchange(ref _state, next, state) == state)
            {
                if (state == Idle)
                {
                    onTick(this);
                }

                return;
            }
        }
    }
}
