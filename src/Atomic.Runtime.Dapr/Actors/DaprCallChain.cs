using System.Globalization;
using System.Text;
using Atomic.Runtime.Actors;

namespace Atomic.Runtime.Dapr.Actors;

/// <summary>
/// The call chain an actor turn runs in on Dapr, carried across apps in two headers:
/// <list type="bullet">
/// <item><c>Dapr-Reentrancy-Id</c>: daprd's. With reentrancy on for a type, daprd sends it on every callback and lets a
/// call carrying the id of the turn that holds the actor's lock in, instead of queueing it behind that turn. The app
/// must pass it on with every actor call it makes during the turn.</item>
/// <item><c>atomic-actor-chain</c>: ours. The actors the chain has passed through, outermost first, each with its
/// type's allowed stack depth (0: reentrancy off). Every actor call checks it before anything is sent, as the embedded
/// runtime checks its frames: a call back into an actor of the chain whose type does not allow reentrancy fails at once
/// with <see cref="ActorReentrancyException"/> (daprd would queue it behind the turn it waits for until the call timed
/// out), and so does a re-entry deeper than the type allows.</item>
/// </list>
/// </summary>
public sealed class DaprCallChain
{
    /// <summary>daprd's reentrancy header.</summary>
    public const string ReentrancyHeader = "Dapr-Reentrancy-Id";

    /// <summary>The chain of actors, outermost first: <c>{depth}:{type}/{id}</c> joined by <c>,</c>, type and id percent-encoded.</summary>
    public const string ChainHeader = "atomic-actor-chain";

    /// <summary>The most entries a chain header may hold (Dapr's default stack depth is 32).</summary>
    public const int MaxEntries = 1024;

    /// <summary>The longest header value read.</summary>
    public const int MaxHeaderLength = 256 * 1024;

    private static readonly AsyncLocal<DaprCallChain?> CurrentChain = new();

    private readonly Entry[] _entries;
    private volatile bool _running = true;

    private DaprCallChain(string? reentrancyId, Entry[] entries)
    {
        ReentrancyId = reentrancyId;
        _entries = entries;
    }

    /// <summary>The chain of the turn running in this async flow, or null outside any turn or once that turn ended.</summary>
    public static DaprCallChain? Current
    {
        get => CurrentChain.Value is { _running: true } chain ? chain : null;
        internal set => CurrentChain.Value = value;
    }

    /// <summary>daprd's id for the chain, when reentrancy is on for the type the turn runs on.</summary>
    public string? ReentrancyId { get; }

    /// <summary>The actors of the chain, outermost first; the running turn's actor last.</summary>
    public IReadOnlyList<Entry> Entries => _entries;

    /// <summary>One actor of the chain and its type's allowed stack depth (0: no reentrancy).</summary>
    public readonly record struct Entry(string ActorType, string ActorId, int MaxStackDepth);

    /// <summary>A chain read from a callback's headers; an empty chain when neither is there. A malformed chain is an <see cref="ArgumentException"/>.</summary>
    public static DaprCallChain FromHeaders(string? reentrancyId, string? chain)
    {
        reentrancyId = string.IsNullOrWhiteSpace(reentrancyId) ? null : reentrancyId.Trim();
        if (string.IsNullOrEmpty(chain))
        {
            return new DaprCallChain(reentrancyId, []);
        }

        if (chain.Length > MaxHeaderLength)
        {
            throw new ArgumentException($"the {ChainHeader} header is longer than {MaxHeaderLength} characters");
        }

        string[] parts = chain.Split(',');
        if (parts.Length > MaxEntries)
        {
            throw new ArgumentException($"the {ChainHeader} header holds more than {MaxEntries} actors");
        }

        var entries = new Entry[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            int colon = part.IndexOf(':', StringComparison.Ordinal);
            int slash = part.IndexOf('/', StringComparison.Ordinal);
            if (colon <= 0 || slash < colon + 2 || slash == part.Length - 1
                || !int.TryParse(part.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out int depth))
            {
                throw new ArgumentException($"the {ChainHeader} header's entry {i} '{part}' is not {{depth}}:{{type}}/{{id}}");
            }

            entries[i] = new Entry(Uri.UnescapeDataString(part[(colon + 1)..slash]), Uri.UnescapeDataString(part[(slash + 1)..]), depth);
        }

        return new DaprCallChain(reentrancyId, entries);
    }

    /// <summary>This chain with the turn of <paramref name="actorType"/>/<paramref name="actorId"/> added.</summary>
    public DaprCallChain Enter(string actorType, string actorId, ActorReentrancyOptions reentrancy)
    {
        ArgumentNullException.ThrowIfNull(reentrancy);
        return new DaprCallChain(ReentrancyId, [.. _entries, new Entry(actorType, actorId, reentrancy.Enabled ? reentrancy.MaxStackDepth : 0)]);
    }

    /// <summary>
    /// Throws <see cref="ActorReentrancyException"/> when a call to <paramref name="actorType"/>/<paramref name="actorId"/>
    /// would re-enter an actor of this chain that does not allow it, or would make the chain deeper than that actor allows.
    /// </summary>
    public void CheckCall(string actorType, string actorId)
    {
        for (int i = _entries.Length - 1; i >= 0; i--)
        {
            Entry entry = _entries[i];
            if (entry.ActorType != actorType || entry.ActorId != actorId)
            {
                continue;
            }

            if (entry.MaxStackDepth == 0)
            {
                throw new ActorReentrancyException(actorType, actorId, ToString(), "reentrancy is off for this actor type, and waiting for the turn the chain is in would deadlock");
            }

            if (_entries.Length >= entry.MaxStackDepth)
            {
                throw new ActorReentrancyException(actorType, actorId, ToString(), $"the chain would be {_entries.Length + 1} calls deep, more than the {entry.MaxStackDepth} allowed");
            }

            return;
        }
    }

    /// <summary>The <see cref="ChainHeader"/> value.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        foreach (Entry entry in _entries)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(entry.MaxStackDepth.ToString(CultureInfo.InvariantCulture)).Append(':')
                .Append(Uri.EscapeDataString(entry.ActorType)).Append('/').Append(Uri.EscapeDataString(entry.ActorId));
        }

        return text.ToString();
    }

    /// <summary>Marks the turn ended: work it left behind that calls back is no longer part of the chain.</summary>
    internal void Finish() => _running = false;

    /// <summary>The chain as the embedded runtime writes it: <c>Type/id -> Type/id</c>.</summary>
    public override string ToString() => string.Join(" -> ", _entries.Select(e => $"{e.ActorType}/{e.ActorId}"));
}
