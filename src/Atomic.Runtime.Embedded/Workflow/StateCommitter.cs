using System.Threading.Channels;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Embedded.Workflow;

/// <summary>
/// Group commit: units of state operations queue up while the store is busy, and the next transaction applies all
/// that are waiting at once, so a burst of episodes and activity results costs one store transaction instead of one
/// each. Each unit still commits all-or-nothing; if a combined transaction fails, its units are retried one by one so
/// that one bad unit cannot fail the others.
/// </summary>
internal sealed class StateCommitter : IAsyncDisposable
{
    private readonly IStateStore _store;
    private readonly int _maxOperations;
    private readonly Channel<Unit> _queue = Channel.CreateUnbounded<Unit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public StateCommitter(IStateStore store, int maxOperations)
    {
        _store = store;
        _maxOperations = maxOperations;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Completes once <paramref name="operations"/> are committed, together or not at all.</summary>
    public Task CommitAsync(IReadOnlyList<StateOperation> operations)
    {
        var unit = new Unit(operations);
        return _queue.Writer.TryWrite(unit) ? unit.Done.Task : Task.FromException(new ObjectDisposedException(nameof(StateCommitter)));
    }

    /// <summary>Commits what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var batch = new List<Unit>();
        var operations = new List<StateOperation>();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            operations.Clear();
            while (operations.Count < _maxOperations && _queue.Reader.TryRead(out Unit? unit))
            {
                batch.Add(unit);
                operations.AddRange(unit.Operations);
            }

            try
            {
                await _store.ExecuteTransactionAsync(operations).ConfigureAwait(false);
                foreach (Unit unit in batch)
                {
                    unit.Done.TrySetResult();
                }
            }
            catch (Exception) when (batch.Count > 1)
            {
                foreach (Unit unit in batch)
                {
                    await CommitAloneAsync(unit).ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                batch[0].Done.TrySetException(e);
            }
        }
    }

    private async Task CommitAloneAsync(Unit unit)
    {
        try
        {
            await _store.ExecuteTransactionAsync(unit.Operations).ConfigureAwait(false);
            unit.Done.TrySetResult();
        }
        catch (Exception e)
        {
            unit.Done.TrySetException(e);
        }
    }

    private sealed class Unit(IReadOnlyList<StateOperation> operations)
    {
        public IReadOnlyList<StateOperation> Operations { get; } = operations;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
