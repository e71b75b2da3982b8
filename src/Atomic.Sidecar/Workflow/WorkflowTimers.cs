namespace Atomic.Sidecar.Workflow;

/// <summary>
/// The durable timers' clock: an in-memory agenda of what falls due when (rebuilt from the stored instances at start),
/// one loop that sleeps until the earliest entry and hands each due entry to the backend. A timer beyond
/// <see cref="Horizon"/> (the SDK's "wait for ever" sentinel of year 9999) is never put on the agenda.
/// </summary>
internal sealed class WorkflowTimers(TimeProvider time, Func<TimerEntry, Task> fire) : IAsyncDisposable
{
    private static readonly DateTimeOffset Horizon = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan LongestSleep = TimeSpan.FromMinutes(10);

    private readonly Lock _lock = new();
    private readonly SortedSet<TimerEntry> _agenda = new(TimerEntry.Order);
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _sequence;
    private int _disposed;
    private Task? _loop;

    public void Start() => _loop ??= Task.Run(RunAsync);

    /// <summary>Puts an entry on the agenda (a timer id, or <see cref="WorkflowBackend.StartTimerId"/> for a scheduled start).</summary>
    public void Schedule(DateTimeOffset due, string instanceId, string executionId, int timerId)
    {
        if (due >= Horizon)
        {
            return;
        }

        TaskCompletionSource wake;
        lock (_lock)
        {
            _agenda.Add(new TimerEntry(due, Interlocked.Increment(ref _sequence), instanceId, executionId, timerId));
            wake = _wake;
            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        wake.TrySetResult();
    }

    private async Task RunAsync()
    {
        CancellationToken stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            List<TimerEntry> due = [];
            Task wake;
            TimeSpan sleep = LongestSleep;
            lock (_lock)
            {
                DateTimeOffset now = time.GetUtcNow();
                while (_agenda.Count > 0 && _agenda.Min!.Due <= now)
                {
                    TimerEntry first = _agenda.Min!;
                    _agenda.Remove(first);
                    due.Add(first);
                }

                if (_agenda.Count > 0)
                {
                    TimeSpan untilNext = _agenda.Min!.Due - now;
                    sleep = untilNext < sleep ? untilNext : sleep;
                }

                wake = _wake.Task;
            }

            foreach (TimerEntry entry in due)
            {
                try
                {
                    await fire(entry).ConfigureAwait(false);
                }
                catch (Exception) when (!stopping.IsCancellationRequested)
                {
                    // the store refused: try again shortly (the timer stays pending in the stored state)
                    Schedule(time.GetUtcNow().AddSeconds(1), entry.InstanceId, entry.ExecutionId, entry.TimerId);
                }
                catch (Exception)
                {
                    return;
                }
            }

            if (due.Count > 0)
            {
                continue;
            }

            using var sleeping = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            await Task.WhenAny(wake, Task.Delay(sleep + TimeSpan.FromMilliseconds(1), time, sleeping.Token)).ConfigureAwait(false);
            await sleeping.CancelAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // stopped
            }
        }

        _stopping.Dispose();
    }
}

/// <summary>One entry of the agenda.</summary>
internal sealed record TimerEntry(DateTimeOffset Due, long Sequence, string InstanceId, string ExecutionId, int TimerId)
{
    public static readonly IComparer<TimerEntry> Order = Comparer<TimerEntry>.Create((a, b) =>
    {
        int byDue = a.Due.CompareTo(b.Due);
        return byDue != 0 ? byDue : a.Sequence.CompareTo(b.Sequence);
    });
}
