namespace Atomic.Runtime.Actors;

/// <summary>
/// Calls actor methods by name with a JSON body, as Dapr's <c>PUT /v1.0/actors/{type}/{id}/method/{method}</c> does:
/// the one primitive every host implements (typed calls are the extension methods of <see cref="ActorClientExtensions"/>).
/// </summary>
public interface IActorClient
{
    /// <summary>
    /// Runs <paramref name="method"/> as one turn of the actor (activating it first if needed) and returns its JSON
    /// response (empty for methods returning <see cref="Task"/>). The actor's own failure arrives as
    /// <see cref="ActorInvocationException"/>; a call the runtime refuses arrives as another <see cref="ActorException"/>.
    /// </summary>
    Task<ReadOnlyMemory<byte>> InvokeMethodAsync(string actorType, string actorId, string method, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default);
}

/// <summary>
/// The actor state a host keeps (Dapr: <c>GET /v1.0/actors/{type}/{id}/state/{key}</c> and
/// <c>POST /v1.0/actors/{type}/{id}/state</c>): one key read at a time, a turn's changes written as one transaction.
/// Values are JSON.
/// </summary>
public interface IActorStateStore
{
    /// <summary>The stored JSON of <paramref name="key"/>, or null when the actor has no such state.</summary>
    Task<ReadOnlyMemory<byte>?> GetAsync(string actorType, string actorId, string key, CancellationToken cancellationToken = default);

    /// <summary>Applies every operation or none (Dapr's actor state transaction, a bare array of upserts and deletes).</summary>
    Task SaveAsync(string actorType, string actorId, IReadOnlyList<ActorStateOperation> operations, CancellationToken cancellationToken = default);
}

/// <summary>What one operation of an actor state transaction does (Dapr's <c>upsert</c> and <c>delete</c>).</summary>
public enum ActorStateOperationKind
{
    Upsert,
    Delete,
}

/// <summary>One operation of an actor state transaction; <see cref="Value"/> is the JSON an upsert writes.</summary>
public readonly record struct ActorStateOperation(ActorStateOperationKind Kind, string Key, ReadOnlyMemory<byte> Value)
{
    public static ActorStateOperation Upsert(string key, ReadOnlyMemory<byte> value) => new(ActorStateOperationKind.Upsert, key, value);

    public static ActorStateOperation Delete(string key) => new(ActorStateOperationKind.Delete, key, default);
}

/// <summary>
/// Durable reminders (Dapr: <c>/v1.0/actors/{type}/{id}/reminders/{name}</c>): they survive deactivation and restarts,
/// and a reminder that comes due activates its actor and calls <see cref="IRemindable.ReceiveReminderAsync"/>.
/// </summary>
public interface IActorReminders
{
    /// <summary>Registers the reminder, replacing one of the same name on the same actor.</summary>
    Task RegisterReminderAsync(string actorType, string actorId, ActorReminder reminder, CancellationToken cancellationToken = default);

    /// <summary>Removes the reminder; removing one that does not exist is not an error.</summary>
    Task UnregisterReminderAsync(string actorType, string actorId, string reminderName, CancellationToken cancellationToken = default);

    /// <summary>The reminder as registered, or null.</summary>
    Task<ActorReminder?> GetReminderAsync(string actorType, string actorId, string reminderName, CancellationToken cancellationToken = default);
}

/// <summary>
/// Timers (Dapr: <c>/v1.0/actors/{type}/{id}/timers/{name}</c>): like reminders, but kept only in memory and only while
/// the actor is active; each firing calls the actor's callback method as a turn.
/// </summary>
public interface IActorTimers
{
    /// <summary>Starts the timer, replacing one of the same name on the same actor.</summary>
    Task RegisterTimerAsync(string actorType, string actorId, ActorTimer timer, CancellationToken cancellationToken = default);

    /// <summary>Stops the timer; stopping one that does not exist is not an error.</summary>
    Task UnregisterTimerAsync(string actorType, string actorId, string timerName, CancellationToken cancellationToken = default);
}

/// <summary>A reminder: first due <see cref="DueTime"/> after registration, then every <see cref="Period"/> (null: once).</summary>
public sealed record ActorReminder(string Name, ReadOnlyMemory<byte> Data, TimeSpan DueTime, TimeSpan? Period = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> for an empty name, a negative due time or a period that is not positive.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Name, nameof(Name));
        ActorSchedule.Validate(DueTime, Period);
    }
}

/// <summary>A timer: calls the actor's <see cref="Callback"/> method with <see cref="Data"/> after <see cref="DueTime"/>, then every <see cref="Period"/> (null: once).</summary>
public sealed record ActorTimer(string Name, string Callback, ReadOnlyMemory<byte> Data, TimeSpan DueTime, TimeSpan? Period = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> for an empty name or callback, a negative due time or a period that is not positive.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Name, nameof(Name));
        ArgumentException.ThrowIfNullOrEmpty(Callback, nameof(Callback));
        ActorSchedule.Validate(DueTime, Period);
    }
}

/// <summary>The one rule timers and reminders share about their schedule.</summary>
internal static class ActorSchedule
{
    public static void Validate(TimeSpan dueTime, TimeSpan? period)
    {
        if (dueTime < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "a due time cannot be negative");
        }

        if (period is TimeSpan p && p <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(period), p, "a period must be positive (null for a single firing)");
        }
    }
}
