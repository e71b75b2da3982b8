using Atomic.Runtime.Workflow;

namespace Atomic.Runtime.Embedded.Workflow;

/// <summary>A message on its way into an instance's history, with the keys to delete once it is applied.</summary>
internal sealed record InboxItem(string? Key, string? ExecutionId, HistoryEvent Event, string? TimerKey = null);

/// <summary>
/// An unfinished instance as the engine holds it in memory: its committed record and history (so an episode never
/// re-reads them), its outstanding work, and the queue of messages for its next episode. At most one episode runs
/// per instance (<see cref="Busy"/>); fields marked "under Gate" are also touched by timers and activity results.
/// </summary>
internal sealed class WorkflowInstance(string id)
{
    public string Id { get; } = id;

    public Lock Gate { get; } = new();

    /// <summary>The committed record (replaced under Gate).</summary>
    public InstanceRecord Record { get; set; } = null!;

    /// <summary>The committed history of the current generation (only the running episode touches it).</summary>
    public List<HistoryEvent> History { get; set; } = [];

    /// <summary>How many history pages the current generation has in the store (only the running episode touches it).</summary>
    public int HistoryPages { get; set; }

    /// <summary>Keys of activity and timer records of the current generation still in the store (under Gate).</summary>
    public HashSet<string> WorkKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>Armed durable timers by record key (under Gate).</summary>
    public Dictionary<string, ITimer> Timers { get; } = new(StringComparer.Ordinal);

    /// <summary>Messages for the next episode (under Gate).</summary>
    public List<InboxItem> Pending { get; set; } = [];

    /// <summary>An episode is running or queued (under Gate).</summary>
    public bool Busy { get; set; }

    /// <summary>The instance reached a final status (under Gate).</summary>
    public bool Finished { get; set; }

    /// <summary>A scheduled start not yet due: only a terminate runs an episode before it (under Gate).</summary>
    public DateTimeOffset? NotBefore { get; set; }

    /// <summary>The timer for <see cref="NotBefore"/> or for retrying a failed episode (under Gate).</summary>
    public ITimer? Wake { get; set; }

    /// <summary>Stops every timer (under Gate).</summary>
    public void StopTimers()
    {
        foreach (ITimer timer in Timers.Values)
        {
            timer.Dispose();
        }

        Timers.Clear();
        Wake?.Dispose();
        Wake = null;
    }
}
