namespace Atomic.Runtime.Actors;

/// <summary>
/// The actor runtime's settings, named and defaulted as Dapr's actor configuration (<c>GET /dapr/config</c>):
/// <c>actorIdleTimeout</c>, <c>actorScanInterval</c>, <c>drainOngoingCallTimeout</c>, <c>reentrancy</c>, and the
/// registered types (<c>entities</c>) with their per-type overrides (<c>entitiesConfig</c>).
/// </summary>
public sealed class ActorRuntimeOptions
{
    /// <summary>The app id, the first part of every actor state key (<c>{appId}||{actorType}||{actorId}||{key}</c>).</summary>
    public required string AppId { get; set; }

    /// <summary>An actor unused this long is deactivated (Dapr's default: 60 minutes).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>How often idle actors are looked for (Dapr's default: 30 seconds).</summary>
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long shutting down waits for running turns before deactivating their actors (Dapr's default: 60 seconds, wall clock).</summary>
    public TimeSpan DrainOngoingCallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether a call chain may come back to an actor it is waiting on (off by default, as in Dapr).</summary>
    public ActorReentrancyOptions Reentrancy { get; set; } = new();

    /// <summary>The actor types this runtime serves.</summary>
    public ActorRegistrationCollection Actors { get; } = new();

    /// <summary>The idle timeout that applies to <paramref name="registration"/>.</summary>
    public TimeSpan IdleTimeoutFor(ActorRegistration registration) => (registration ?? throw new ArgumentNullException(nameof(registration))).Options.IdleTimeout ?? IdleTimeout;

    /// <summary>The drain timeout that applies to <paramref name="registration"/>.</summary>
    public TimeSpan DrainOngoingCallTimeoutFor(ActorRegistration registration) => (registration ?? throw new ArgumentNullException(nameof(registration))).Options.DrainOngoingCallTimeout ?? DrainOngoingCallTimeout;

    /// <summary>The reentrancy settings that apply to <paramref name="registration"/>.</summary>
    public ActorReentrancyOptions ReentrancyFor(ActorRegistration registration) => (registration ?? throw new ArgumentNullException(nameof(registration))).Options.Reentrancy ?? Reentrancy;

    /// <summary>Throws <see cref="ArgumentException"/> for settings no runtime can honour.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(AppId, nameof(AppId));
        if (AppId.Contains(ActorId.KeySeparator, StringComparison.Ordinal))
        {
            throw new ArgumentException($"app id '{AppId}' must not contain '{ActorId.KeySeparator}'", nameof(AppId));
        }

        Positive(IdleTimeout, nameof(IdleTimeout));
        Positive(ScanInterval, nameof(ScanInterval));
        Positive(DrainOngoingCallTimeout, nameof(DrainOngoingCallTimeout));
        Reentrancy.Validate();
        foreach (ActorRegistration registration in Actors)
        {
            if (registration.Options.IdleTimeout is TimeSpan idle)
            {
                Positive(idle, $"{registration.TypeName}.{nameof(ActorTypeOptions.IdleTimeout)}");
            }

            if (registration.Options.DrainOngoingCallTimeout is TimeSpan drain)
            {
                Positive(drain, $"{registration.TypeName}.{nameof(ActorTypeOptions.DrainOngoingCallTimeout)}");
            }

            registration.Options.Reentrancy?.Validate();
        }
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, "must be positive");
        }
    }
}

/// <summary>Settings of one actor type that override the runtime's (Dapr's <c>entitiesConfig</c>); null means "as the runtime".</summary>
public sealed class ActorTypeOptions
{
    public TimeSpan? IdleTimeout { get; set; }

    public TimeSpan? DrainOngoingCallTimeout { get; set; }

    public ActorReentrancyOptions? Reentrancy { get; set; }
}

/// <summary>Dapr's reentrancy configuration: whether a call chain may re-enter an actor, and how deep the chain may grow.</summary>
public sealed class ActorReentrancyOptions
{
    public bool Enabled { get; set; }

    /// <summary>The longest call chain that may re-enter an actor (Dapr's default: 32).</summary>
    public int MaxStackDepth { get; set; } = 32;

    public void Validate()
    {
        if (MaxStackDepth < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxStackDepth), MaxStackDepth, "must be at least 1");
        }
    }
}
