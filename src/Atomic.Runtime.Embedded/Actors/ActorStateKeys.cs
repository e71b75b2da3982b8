using Atomic.Runtime.Actors;

namespace Atomic.Runtime.Embedded.Actors;

/// <summary>
/// Where the embedded actor runtime keeps actors in the state store. Actor state uses Dapr's own layout, so a store
/// written by one runtime reads the same in the other; reminders live under a prefix of their own, one key each, so a
/// restart finds them all with one prefix listing.
/// </summary>
public static class ActorStateKeys
{
    private const string Sep = ActorId.KeySeparator;

    /// <summary>An actor's state value: <c>{appId}||{actorType}||{actorId}||{key}</c>, the value being the JSON of the state.</summary>
    public static string State(string appId, string actorType, string actorId, string key) =>
        string.Concat(appId, Sep, actorType, Sep, actorId, Sep, key);

    /// <summary>Every reminder of an app: <c>{appId}||actors||reminders||</c>.</summary>
    public static string RemindersPrefix(string appId) => string.Concat(appId, Sep, "actors", Sep, "reminders", Sep);

    /// <summary>
    /// One reminder: <c>{appId}||actors||reminders||{actorType}||{actorId}||{name}</c>, the value being a JSON record
    /// (<c>actorType</c>, <c>actorId</c>, <c>name</c>, <c>data</c> in base64, <c>dueTime</c>, <c>period</c>,
    /// <c>dueAt</c> (when it next fires), <c>lastFiredAt</c>). The type name <c>actors</c> is reserved so that these
    /// keys can never be an actor's state key.
    /// </summary>
    public static string Reminder(string appId, string actorType, string actorId, string name) =>
        string.Concat(RemindersPrefix(appId), actorType, Sep, actorId, Sep, name);
}
