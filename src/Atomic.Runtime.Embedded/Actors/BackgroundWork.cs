using System.Collections.Concurrent;

namespace Atomic.Runtime.Embedded.Actors;

/// <summary>
/// Starts work that belongs to the runtime rather than to whoever triggered it, so that it inherits no call chain
/// (an <see cref="AsyncLocal{T}"/> that flows by default into tasks and timers).
/// </summary>
internal static class Detached
{
    public static Task Run(Func<Task> work)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return Task.Run(work);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }

    public static ITimer CreateTimer(TimeProvider time, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return time.CreateTimer(callback, state, dueTime, period);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return time.CreateTimer(callback, state, dueTime, period);
        }
    }
}

/// <summary>The runtime's background work in flight (reminder deliveries, timer turns, idle deactivations), so that shutting down can wait for it.</summary>
internal sealed class BackgroundWork
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    public void Run(Func<Task> work)
    {
        Task task = Detached.Run(work);
        _running.TryAdd(task, 0);

        // Added before the continuation is attached, so a task that is already done is still removed.
        task.ContinueWith(static (done, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(done, out _), _running, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits (wall clock) until no work is in flight, or <paramref name="timeout"/> has passed.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!_running.IsEmpty)
        {
            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            Task all = Task.WhenAll(_running.Keys);
            try
            {
                await all.WaitAsync(left).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return;
            }
            catch (Exception) when (all.IsFaulted || all.IsCanceled)
            {
                // The work's own failures were already dealt with by the work; draining only waits for it to end.
            }
        }
    }
}
