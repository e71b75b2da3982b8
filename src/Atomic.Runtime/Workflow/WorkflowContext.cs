namespace Atomic.Runtime.Workflow;

/// <summary>
/// Everything a workflow may do, in the shape of Dapr's <c>WorkflowContext</c> and durabletask-dotnet's
/// <c>TaskOrchestrationContext</c>: one abstract primitive per capability; the convenience overloads are concrete and
/// delegate to them. Every task returned here is durable: it completes from history, so a replay sees the same
/// results in the same order.
/// </summary>
public abstract class WorkflowContext
{
    /// <summary>The workflow's registered name.</summary>
    public abstract string Name { get; }

    /// <summary>The instance id.</summary>
    public abstract string InstanceId { get; }

    /// <summary>The time of the current episode, from history: the same on every replay.</summary>
    public abstract DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the code re-runs events already in history (for example, to skip logging).</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>Runs activity <paramref name="name"/> and returns its result; throws <see cref="WorkflowTaskFailedException"/> when it fails (after the retries of <paramref name="options"/>).</summary>
    public abstract Task<T> CallActivityAsync<T>(string name, object? input = null, WorkflowTaskOptions? options = null);

    /// <summary>Runs activity <paramref name="name"/>, ignoring its result.</summary>
    public Task CallActivityAsync(string name, object? input = null, WorkflowTaskOptions? options = null) => CallActivityAsync<object?>(name, input, options);

    /// <summary>A durable timer that fires at <paramref name="fireAt"/> (UTC); cancelling the token abandons it.</summary>
    public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken = default);

    /// <summary>A durable timer that fires <paramref name="delay"/> after <see cref="CurrentUtcDateTime"/>.</summary>
    public Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken = default) => CreateTimer(CurrentUtcDateTime + delay, cancellationToken);

    /// <summary>
    /// The payload of the next external event named <paramref name="eventName"/> (names are case-insensitive; events
    /// raised before the wait are kept, first in first out). Cancelling the token cancels the wait.
    /// </summary>
    public abstract Task<T> WaitForExternalEventAsync<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits for event <paramref name="eventName"/> at most <paramref name="timeout"/> (a durable timer): on timeout
    /// throws <see cref="TaskCanceledException"/>, as Dapr's SDK does.
    /// </summary>
    public async Task<T> WaitForExternalEventAsync<T>(string eventName, TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return await WaitForExternalEventAsync<T>(eventName);
        }

        using var timerCancellation = new CancellationTokenSource();
        using var eventCancellation = new CancellationTokenSource();
        Task timer = CreateTimer(timeout, timerCancellation.Token);
        Task<T> received = WaitForExternalEventAsync<T>(eventName, eventCancellation.Token);
        Task first = await Task.WhenAny(received, timer);
        // Cancel synchronously: the callbacks must run on the orchestrator's own thread, never on the thread pool.
        (first == received ? timerCancellation : eventCancellation).Cancel();

        return await received;
    }

    /// <summary>Runs child workflow <paramref name="name"/> and returns its output; throws <see cref="WorkflowTaskFailedException"/> when it fails.</summary>
    public abstract Task<T> CallChildWorkflowAsync<T>(string name, object? input = null, ChildWorkflowTaskOptions? options = null);

    /// <summary>Runs child workflow <paramref name="name"/>, ignoring its output.</summary>
    public Task CallChildWorkflowAsync(string name, object? input = null, ChildWorkflowTaskOptions? options = null) =>
        CallChildWorkflowAsync<object?>(name, input, options);

    /// <summary>Raises event <paramref name="eventName"/> on another instance (fire and forget).</summary>
    public abstract void SendEvent(string instanceId, string eventName, object? payload = null);

    /// <summary>
    /// Ends this generation and starts the workflow again with <paramref name="newInput"/> and a fresh history; return
    /// right after calling it. With <paramref name="preserveUnprocessedEvents"/>, events raised but not yet awaited are
    /// delivered to the next generation.
    /// </summary>
    public abstract void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);

    /// <summary>A value the outside sees in the instance's state (null clears it).</summary>
    public abstract void SetCustomStatus(object? customStatus);

    /// <summary>A GUID that is the same on every replay.</summary>
    public abstract Guid NewGuid();
}
