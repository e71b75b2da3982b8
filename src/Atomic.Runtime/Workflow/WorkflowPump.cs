namespace Atomic.Runtime.Workflow;

/// <summary>
/// The single-threaded synchronization context a workflow runs on during one <see cref="OrchestrationExecutor.Execute"/>:
/// posts from the executing thread are queued and drained between history events; a post from any other thread means
/// the code awaited something that is not a durable task, which is recorded and refused.
/// </summary>
internal sealed class WorkflowPump : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
    private readonly Lock _lock = new();
    private readonly int _threadId = Environment.CurrentManagedThreadId;
    private bool _closed;
    private bool _foreignPost;

    /// <summary>Whether a continuation was posted from another thread (a non-durable await).</summary>
    public bool SawForeignPost
    {
        get
        {
            lock (_lock)
            {
                return _foreignPost;
            }
        }
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return; // the episode is over: a late continuation of a non-durable await goes nowhere
            }

            if (Environment.CurrentManagedThreadId != _threadId)
            {
                _foreignPost = true;
                return;
            }

            _queue.Enqueue((d, state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("a workflow runs on one thread: synchronous Send is not supported");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs queued continuations (and whatever they queue) until none are left.</summary>
    public void Drain()
    {
        while (true)
        {
            (SendOrPostCallback Callback, object? State) next;
            lock (_lock)
            {
                if (!_queue.TryDequeue(out next))
                {
                    return;
                }
            }

            next.Callback(next.State);
        }
    }

    /// <summary>Ends the episode: nothing posted from now on runs.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            _queue.Clear();
        }
    }
}
