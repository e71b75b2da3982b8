namespace Atomic.Runtime.Embedded.Actors;

/// <summary>
/// One turn in the logical call chain of the current async flow (an <see cref="AsyncLocal{T}"/> linked list): a call
/// to an actor whose turn is still running further up the chain is a re-entry, which must not wait for that turn.
/// </summary>
internal sealed class CallFrame
{
    private static readonly AsyncLocal<CallFrame?> CurrentFrame = new();

    private volatile bool _running = true;

    public CallFrame(ActiveActor actor, CallFrame? parent)
    {
        Actor = actor;
        Parent = parent;
        Depth = (parent?.Depth ?? 0) + 1;
    }

    /// <summary>The innermost running turn of this async flow, or null outside any turn.</summary>
    public static CallFrame? Current
    {
        get => CurrentFrame.Value;
        set => CurrentFrame.Value = value;
    }

    public ActiveActor Actor { get; }

    public CallFrame? Parent { get; }

    /// <summary>The number of turns in the chain, this one included.</summary>
    public int Depth { get; }

    /// <summary>Marks the turn finished: work it left behind that calls back is no longer a re-entry.</summary>
    public void Finish() => _running = false;

    /// <summary>
    /// The running turn of actor <paramref name="actorId"/> of <paramref name="type"/> in the chain ending at
    /// <paramref name="frame"/>, if any. Types are compared by instance, so a chain through two runtimes in one process
    /// (each with its own types) never mistakes one's actor for the other's.
    /// </summary>
    public static CallFrame? FindRunning(CallFrame? frame, ActorTypeRuntime type, string actorId)
    {
        for (CallFrame? f = frame; f is not null; f = f.Parent)
        {
            if (f._running && f.Actor.Type == type && f.Actor.Id == actorId)
            {
                return f;
            }
        }

        return null;
    }

    /// <summary>The chain, outermost first: <c>Type/id -> Type/id</c>.</summary>
    public override string ToString()
    {
        var frames = new List<string>();
        for (CallFrame? f = this; f is not null; f = f.Parent)
        {
            frames.Add($"{f.Actor.Type.Name}/{f.Actor.Id}");
        }

        frames.Reverse();
        return string.Join(" -> ", frames);
    }
}
