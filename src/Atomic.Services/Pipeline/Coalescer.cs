namespace Atomic.Services.Pipeline;

/// <summary>
/// Calls made at the same time, sent to the sidecar as one: a call finding fewer than <c>maxInFlight</c> batches under
/// way starts one, which takes its calls once the work already queued on the thread pool has run (no timer, so a lone
/// call in a quiet pipeline goes at once); calls made while batches are under way wait and go together in the next,
/// up to <c>maxBatch</c> at a time. Each caller gets its own answer or the batch's exception. Within a batch a key
/// appears once: a second call for the same key goes in a later batch, so a batch never holds two writes of one key.
/// </summary>
internal sealed class Coalescer<TIn, TOut>(
    Func<TIn, string> keyOf, Func<IReadOnlyList<TIn>, Task<TOut[]>> send, int maxBatch = 128, int maxInFlight = 1)
{
    private readonly object _gate = new();
    private List<Call> _waiting = [];
    private int _inFlight;

    public Task<TOut> CallAsync(TIn input, CancellationToken cancellationToken)
    {
        var call = new Call(input, keyOf(input));
        bool start;
        lock (_gate)
        {
            _waiting.Add(call);
            start = _inFlight < maxInFlight;
            if (start)
            {
                _inFlight++;
            }
        }

        if (start)
        {
            _ = SendAllAsync();
        }

        return cancellationToken.CanBeCanceled ? call.Answer.Task.WaitAsync(cancellationToken) : call.Answer.Task;
    }

    /// <summary>Sends batch after batch until no call waits.</summary>
    private async Task SendAllAsync()
    {
        // To the back of the thread pool's queue (its global one, from a pool thread): the deliveries and requests
        // queued before it make the calls that join this batch. Sent from the first caller's own turn, that call went
        // alone. (Under a task scheduler of its own, the caller's, it goes after what that scheduler has queued.)
        await Task.Yield();

        while (true)
        {
            List<Call> batch;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _inFlight--;
                    return;
                }

                batch = Take();
            }

            var inputs = new TIn[batch.Count];
            for (int i = 0; i < inputs.Length; i++)
            {
                inputs[i] = batch[i].Input;
            }

            try
            {
                TOut[] answers = await send(inputs).ConfigureAwait(false);
                for (int i = 0; i < batch.Count; i++)
                {
                    batch[i].Answer.TrySetResult(answers[i]);
                }
            }
            catch (Exception e)
            {
                foreach (Call call in batch)
                {
                    call.Answer.TrySetException(e);
                }
            }
        }
    }

    /// <summary>The next batch: waiting calls in order, each key once, at most <c>maxBatch</c>; the rest keep waiting.</summary>
    private List<Call> Take()
    {
        var batch = new List<Call>(Math.Min(_waiting.Count, maxBatch));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var rest = new List<Call>();
        foreach (Call call in _waiting)
        {
            if (batch.Count < maxBatch && keys.Add(call.Key))
            {
                batch.Add(call);
            }
            else
            {
                rest.Add(call);
            }
        }

        _waiting = rest;
        return batch;
    }

    private sealed class Call(TIn input, string key)
    {
        public TIn Input { get; } = input;

        public string Key { get; } = key;

        public TaskCompletionSource<TOut> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
