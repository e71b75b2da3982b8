namespace Atomic.Runtime.Actors;

/// <summary>
/// An actor's named state values, typed through JSON (<see cref="ActorJson.Options"/>). Reads come from a cache kept
/// while the actor is active, so a value is read from the store at most once per activation. Changes are tracked and
/// written as one transaction when the turn ends, and discarded if the turn throws.
/// </summary>
/// <remarks>
/// A read of a reference type hands out the cached object: change it in place and the change is only written once it
/// is passed to <see cref="SetAsync{T}"/> again. Use the state manager only inside the actor's turns.
/// </remarks>
public interface IActorStateManager
{
    /// <summary>Whether the actor has state under <paramref name="name"/>.</summary>
    ValueTask<bool> ContainsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The value under <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> when there is none.</summary>
    ValueTask<T> GetAsync<T>(string name, CancellationToken cancellationToken = default);

    /// <summary>The value under <paramref name="name"/>, if there is one.</summary>
    ValueTask<ConditionalValue<T>> TryGetAsync<T>(string name, CancellationToken cancellationToken = default);

    /// <summary>Adds or replaces the value under <paramref name="name"/>.</summary>
    ValueTask SetAsync<T>(string name, T value, CancellationToken cancellationToken = default);

    /// <summary>Adds the value unless <paramref name="name"/> already has one; answers whether it did.</summary>
    ValueTask<bool> TryAddAsync<T>(string name, T value, CancellationToken cancellationToken = default);

    /// <summary>Adds the value; throws <see cref="InvalidOperationException"/> when <paramref name="name"/> already has one.</summary>
    ValueTask AddAsync<T>(string name, T value, CancellationToken cancellationToken = default);

    /// <summary>The value under <paramref name="name"/>, adding <paramref name="value"/> first when there is none.</summary>
    ValueTask<T> GetOrAddAsync<T>(string name, T value, CancellationToken cancellationToken = default);

    /// <summary>Sets <paramref name="addValue"/> when there is no value, else the result of <paramref name="updateValueFactory"/> on the current one; answers the value set.</summary>
    ValueTask<T> AddOrUpdateAsync<T>(string name, T addValue, Func<string, T, T> updateValueFactory, CancellationToken cancellationToken = default);

    /// <summary>Removes the value under <paramref name="name"/>; answers whether there was one.</summary>
    ValueTask<bool> TryRemoveAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Removes the value under <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> when there is none.</summary>
    ValueTask RemoveAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>A value that may be absent (the answer of <see cref="IActorStateManager.TryGetAsync{T}"/>).</summary>
public readonly record struct ConditionalValue<T>(bool HasValue, T Value);
