namespace Atomic.Runtime.Actors;

/// <summary>
/// The identity of one actor within its type (Dapr's actor id). Any non-empty string without <c>||</c>, because
/// <c>||</c> separates the parts of actor state keys and an id containing it could collide with another actor's keys.
/// </summary>
public readonly record struct ActorId
{
    /// <summary>The separator of the parts of actor state keys (Dapr's <c>{appId}||{actorType}||{actorId}||{key}</c>).</summary>
    public const string KeySeparator = "||";

    public ActorId(string value)
    {
        Validate(value, nameof(value));
        Value = value;
    }

    public string Value { get; }

    public override string ToString() => Value;

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="actorId"/> can be an actor id.</summary>
    public static void Validate(string actorId, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(actorId, paramName);
        if (actorId.Contains(KeySeparator, StringComparison.Ordinal))
        {
            throw new ArgumentException($"actor id '{actorId}' must not contain '{KeySeparator}', the separator of actor state keys", paramName);
        }
    }
}
