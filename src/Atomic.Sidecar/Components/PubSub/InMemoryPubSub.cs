using System.Collections.Concurrent;
using System.Threading.Channels;
using Atomic.Sidecar.Components.PubSub;

namespace Atomic.Sidecar.Components.PubSub;

/// <summary>
/// <c>pubsub.in-memory</c>: delivery through in-process channels, one delivery loop per subscription, with
/// backoff retries and dead-lettering. Not durable: a crash loses what was not yet delivered (the durable embedded
/// pub/sub stores events in the state database).
/// </summary>
public sealed class InMemoryPubSub(string name, TimeProvider? timeProvider = null) : IPubSub, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ImmutableSubscriptions> _topics = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public string Name { get; } = name;

    public Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        if (_topics.TryGetValue(cloudEvent.Topic, out ImmutableSubscriptions? subscriptions))
        {
            foreach (Worker worker in subscriptions.Workers)
            {
                worker.Enqueue(new Delivery(cloudEvent, 1));
            }
        }

        return Task.CompletedTask;
    }

    public async Task PublishBulkAsync(IReadOnlyList<CloudEvent> cloudEvents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cloudEvents);
        foreach (CloudEvent cloudEvent in cloudEvents)
        {
            await PublishAsync(cloudEvent, cancellationToken).ConfigureAwait(false);
        }
    }

    public IAsyncDisposable Subscribe(Subscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        var worker = new Worker(this, subscription);
        _topics.AddOrUpdate(subscription.Topic, _ => new ImmutableSubscriptions([worker]), (_, s) => new ImmutableSubscriptions([.. s.Workers, worker]));
        return worker;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ImmutableSubscriptions subscriptions in _topics.Values)
        {
            foreach (Worker worker in subscriptions.Workers)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private void Remove(Worker worker) =>
        _topics.AddOrUpdate(worker.Subscription.Topic, _ => new ImmutableSubscriptions([]), (_, s) => new ImmutableSubscriptions(s.Workers.Where(w => w != worker).ToArray()));

    private sealed record ImmutableSubscriptions(Worker[] Workers);

    private sealed record Delivery(CloudEvent Event, int Attempt);

    /// <summary>The delivery loop of one subscription.</summary>
    private sealed class Worker : IAsyncDisposable
    {
        private readonly InMemoryPubSub _owner;
        private readonly Channel<Delivery> _queue = Channel.CreateUnbounded<Delivery>();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public Worker(InMemoryPubSub owner, Subscription subscription)
        {
            _owner = owner;
            Subscription = subscription;
            _loop = Task.Run(RunAsync);
        }

        public Subscription Subscription { get; }

        public void Enqueue(Delivery delivery) => _queue.Writer.TryWrite(delivery);

        public async ValueTask DisposeAsync()
        {
            _owner.Remove(this);
            _queue.Writer.TryComplete();
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // stopping
            }

            _stop.Dispose();
        }

        private async Task RunAsync()
        {
            await foreach (Delivery delivery in _queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                DeliveryResult result;
                try
                {
                    result = await Subscription.Handler(delivery.Event, _stop.Token).ConfigureAwait(false);
                }
                catch (Exception) when (!_stop.IsCancellationRequested)
                {
                    result = DeliveryResult.Retry; // a handler failure is a retry, as Dapr treats an error response
                }

                RetryPolicy policy = Subscription.Retry ?? RetryPolicy.Default;
                if (result == DeliveryResult.Retry && delivery.Attempt < policy.MaxAttempts)
                {
                    _ = RedeliverLaterAsync(delivery with { Attempt = delivery.Attempt + 1 }, policy.DelayBefore(delivery.Attempt));
                }
                else if (result != DeliveryResult.Success && Subscription.DeadLetterTopic is string deadLetter)
                {
                    CloudEvent dead = delivery.Event with { Topic = deadLetter };
                    await _owner.PublishAsync(dead, _stop.Token).ConfigureAwait(false);
                }
            }
        }

        private async Task RedeliverLaterAsync(Delivery delivery, TimeSpan delay)
        {
            try
            {
                await Task.Delay(delay, _owner._time, _stop.Token).ConfigureAwait(false);
                Enqueue(delivery);
            }
            catch (OperationCanceledException)
            {
                // stopping
            }
        }
    }
}
