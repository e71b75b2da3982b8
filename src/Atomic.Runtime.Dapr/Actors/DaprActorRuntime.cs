using Atomic.Runtime.Actors;

namespace Atomic.Runtime.Dapr.Actors;

/// <summary>
/// The actor building block of one app on Dapr: the <see cref="DaprActorHost"/> its callbacks reach and the
/// <see cref="DaprActorClient"/> its actors and services call through, over one sidecar. For types this app hosts it
/// checks what the embedded runtime checks before anything is sent (a timer's callback method, a reminder on a type
/// that cannot receive one). Once disposed (app shutdown) its actors are deactivated and calls are refused.
/// </summary>
public sealed class DaprActorRuntime : IActorClient, IActorReminders, IActorTimers, IAsyncDisposable
{
    private volatile bool _disposed;

    /// <param name="options">The types this app hosts and the settings published at <c>GET /dapr/config</c>.</param>
    /// <param name="sidecar">The client from <see cref="DaprSidecar.CreateHttpClient"/>.</param>
    /// <param name="timeProvider">The clock actors read (<see cref="Actor"/>'s <c>TimeProvider</c>); daprd schedules timers and reminders by its own.</param>
    public DaprActorRuntime(ActorRuntimeOptions options, HttpClient sidecar, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Client = new DaprActorClient(sidecar);
        StateStore = new DaprActorStateStore(sidecar);
        Host = new DaprActorHost(options, new ActorServices(StateStore, this, this, this, timeProvider ?? TimeProvider.System));
        AppId = options.AppId;
    }

    public string AppId { get; }

    public DaprActorHost Host { get; }

    public DaprActorClient Client { get; }

    public DaprActorStateStore StateStore { get; }

    public Task<ReadOnlyMemory<byte>> InvokeMethodAsync(string actorType, string actorId, string method, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Client.InvokeMethodAsync(actorType, actorId, method, body, cancellationToken);
    }

    public Task RegisterReminderAsync(string actorType, string actorId, ActorReminder reminder, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(reminder);
        reminder.Validate();
        if (Host.TryGetRegistration(actorType, out ActorRegistration registration) && !typeof(IRemindable).IsAssignableFrom(registration.ActorClass))
        {
            throw new InvalidOperationException($"actor type {actorType} cannot receive reminders: {registration.ActorClass.Name} does not implement {nameof(IRemindable)}");
        }

        return Client.RegisterReminderAsync(actorType, actorId, reminder, cancellationToken);
    }

    public Task UnregisterReminderAsync(string actorType, string actorId, string reminderName, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Client.UnregisterReminderAsync(actorType, actorId, reminderName, cancellationToken);
    }

    public Task<ActorReminder?> GetReminderAsync(string actorType, string actorId, string reminderName, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Client.GetReminderAsync(actorType, actorId, reminderName, cancellationToken);
    }

    public Task RegisterTimerAsync(string actorType, string actorId, ActorTimer timer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(timer);
        timer.Validate();
        if (Host.TryGetRegistration(actorType, out ActorRegistration registration))
        {
            registration.EnsureTimerCallback(actorId, timer.Callback);
        }

        return Client.RegisterTimerAsync(actorType, actorId, timer, cancellationToken);
    }

    public Task UnregisterTimerAsync(string actorType, string actorId, string timerName, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Client.UnregisterTimerAsync(actorType, actorId, timerName, cancellationToken);
    }

    /// <summary>Deactivates this app's active actors (their last turns may still write state through the sidecar), then refuses calls.</summary>
    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync().ConfigureAwait(false);
        _disposed = true;
    }
}
