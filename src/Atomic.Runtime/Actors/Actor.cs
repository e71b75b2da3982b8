namespace Atomic.Runtime.Actors;

/// <summary>
/// The base of every actor (Dapr's virtual actor): an object with an identity whose public methods are called by name,
/// one turn at a time, whose state is committed at the end of each turn, and which the runtime activates on first use
/// and deactivates when idle. A derived class takes an <see cref="ActorHost"/> in its constructor.
/// </summary>
/// <remarks>
/// Callable methods are the public instance methods declared by the derived classes that return <see cref="Task"/>,
/// <see cref="Task{TResult}"/>, <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/> and take nothing, a
/// request, a request and a <see cref="CancellationToken"/>, or only a <see cref="CancellationToken"/>. They are
/// called by their name, or by their name without the <c>Async</c> suffix; overloads are not allowed.
/// </remarks>
public abstract class Actor
{
    protected Actor(ActorHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        Host = host;
    }

    /// <summary>The runtime's view of this actor: identity, ports and clock.</summary>
    public ActorHost Host { get; }

    public ActorId Id => Host.Id;

    public string ActorType => Host.ActorType;

    /// <summary>This actor's state, committed at the end of each turn.</summary>
    public IActorStateManager StateManager => Host.StateManager;

    /// <summary>Calls other actors (and, with reentrancy enabled for its type, this one).</summary>
    protected IActorClient Actors => Host.Services.Client;

    /// <summary>The clock the runtime schedules by; read time from here rather than from <see cref="DateTimeOffset.UtcNow"/>.</summary>
    protected TimeProvider TimeProvider => Host.Services.TimeProvider;

    /// <summary>Runs as a turn before the first call of an activation; its state changes are committed like any turn's.</summary>
    protected internal virtual Task OnActivateAsync() => Task.CompletedTask;

    /// <summary>Runs as the last turn of an activation, when the runtime deactivates the actor (idle, or shutting down).</summary>
    protected internal virtual Task OnDeactivateAsync() => Task.CompletedTask;

    /// <summary>
    /// Registers a durable reminder on this actor: <see cref="IRemindable.ReceiveReminderAsync"/> is called
    /// <paramref name="dueTime"/> from now, then every <paramref name="period"/> (null: once), even after deactivation
    /// or a restart. Registering a name again replaces the reminder.
    /// </summary>
    protected Task RegisterReminderAsync(string reminderName, ReadOnlyMemory<byte> state, TimeSpan dueTime, TimeSpan? period = null, CancellationToken cancellationToken = default)
    {
        if (this is not IRemindable)
        {
            throw new InvalidOperationException($"actor type {ActorType} registers a reminder but does not implement {nameof(IRemindable)}");
        }

        var reminder = new ActorReminder(reminderName, state, dueTime, period);
        reminder.Validate();
        return Host.Services.Reminders.RegisterReminderAsync(ActorType, Id.Value, reminder, cancellationToken);
    }

    protected Task UnregisterReminderAsync(string reminderName, CancellationToken cancellationToken = default) =>
        Host.Services.Reminders.UnregisterReminderAsync(ActorType, Id.Value, reminderName, cancellationToken);

    protected Task<ActorReminder?> GetReminderAsync(string reminderName, CancellationToken cancellationToken = default) =>
        Host.Services.Reminders.GetReminderAsync(ActorType, Id.Value, reminderName, cancellationToken);

    /// <summary>
    /// Starts a timer that calls <paramref name="callback"/> (a method of this actor taking nothing, a <c>byte[]</c> or
    /// a <see cref="ReadOnlyMemory{T}"/> of bytes, optionally then a <see cref="CancellationToken"/>, and returning
    /// <see cref="Task"/> or <see cref="ValueTask"/>; it may be private) as a turn, <paramref name="dueTime"/> from now
    /// and then every <paramref name="period"/> (null: once). Timers end with the activation.
    /// </summary>
    protected Task RegisterTimerAsync(string timerName, string callback, ReadOnlyMemory<byte> state, TimeSpan dueTime, TimeSpan? period = null, CancellationToken cancellationToken = default)
    {
        var timer = new ActorTimer(timerName, callback, state, dueTime, period);
        timer.Validate();
        Host.Registration.EnsureTimerCallback(Id.Value, callback);
        return Host.Services.Timers.RegisterTimerAsync(ActorType, Id.Value, timer, cancellationToken);
    }

    protected Task UnregisterTimerAsync(string timerName, CancellationToken cancellationToken = default) =>
        Host.Services.Timers.UnregisterTimerAsync(ActorType, Id.Value, timerName, cancellationToken);
}

/// <summary>An actor that receives reminders (Dapr's <c>IRemindable</c>); each reminder is delivered as a turn.</summary>
public interface IRemindable
{
    /// <param name="reminderName">The name it was registered under.</param>
    /// <param name="state">The bytes given at registration.</param>
    /// <param name="dueTime">The due time given at registration.</param>
    /// <param name="period">The period given at registration (null: a single firing).</param>
    Task ReceiveReminderAsync(string reminderName, ReadOnlyMemory<byte> state, TimeSpan dueTime, TimeSpan? period);
}

/// <summary>What a host gives every actor it activates: the ports it implements and its clock.</summary>
public sealed record ActorServices(IActorStateStore StateStore, IActorReminders Reminders, IActorTimers Timers, IActorClient Client, TimeProvider TimeProvider);

/// <summary>One actor's identity, registration and services, handed to its constructor (Dapr SDK's <c>ActorHost</c>).</summary>
public sealed class ActorHost
{
    public ActorHost(ActorRegistration registration, ActorId id, ActorServices services)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(services);
        ActorId.Validate(id.Value, nameof(id));
        Registration = registration;
        Id = id;
        Services = services;
        StateManager = new ActorStateManager(services.StateStore, registration.TypeName, id.Value);
    }

    public ActorRegistration Registration { get; }

    public string ActorType => Registration.TypeName;

    public ActorId Id { get; }

    public ActorServices Services { get; }

    internal ActorStateManager StateManager { get; }
}
