using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using Atomic.Sidecar.Components.PubSub;

namespace Atomic.Sidecar.Tests.Components.PubSub;

/// <summary>
/// The pub/sub conformance suite: at-least-once delivery, Retry redelivers, Drop and exhausted retries go to the
/// dead-letter topic, bulk publish, and every subscription of a topic receiving every event.
/// </summary>
public abstract class PubSubConformance
{
    /// <summary>Waits are generous: they bound a hang, they do not measure speed.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static readonly RetryPolicy Quick = new(MaxAttempts: 3, InitialDelay: TimeSpan.FromMilliseconds(5), MaxDelay: TimeSpan.FromMilliseconds(20));

    protected abstract IPubSub CreatePubSub();

    /// <summary>Subscribes to <paramref name="topic"/> and completes with the first event delivered there.</summary>
    private static (IAsyncDisposable Subscription, Task<CloudEvent> First) CollectFirst(IPubSub pubsub, string topic)
    {
        var first = new TaskCompletionSource<CloudEvent>();
        IAsyncDisposable subscription = pubsub.Subscribe(new Subscription("pubsub", topic, (e, _) =>
        {
            first.TrySetResult(e);
            return Task.FromResult(DeliveryResult.Success);
        }));
        return (subscription, first.Task);
    }

    /// <summary>Subscribes to topic <c>t</c> (dead letters to <c>t.dead</c>) with a handler that always gives <paramref name="answer"/>, counting its calls.</summary>
    private static IAsyncDisposable AlwaysAnswering(IPubSub pubsub, DeliveryResult answer, StrongBox<int> attempts) =>
        pubsub.Subscribe(new Subscription("pubsub", "t", (_, _) =>
        {
            Interlocked.Increment(ref attempts.Value);
            return Task.FromResult(answer);
        }, DeadLetterTopic: "t.dead", Retry: Quick));

    private static CloudEvent Event(string topic, string data, string? subject = null) =>
        CloudEvent.Create("pubsub", topic, Encoding.UTF8.GetBytes(data), subject);

    [Fact]
    public async Task Every_published_event_is_delivered_with_its_envelope()
    {
        IPubSub pubsub = CreatePubSub();
        var received = new ConcurrentDictionary<string, CloudEvent>();
        var all = new TaskCompletionSource();
        await using IAsyncDisposable _ = pubsub.Subscribe(new Subscription("pubsub", "beef.submitted", (e, _) =>
        {
            received[e.Id] = e;
            if (received.Count == 100)
            {
                all.TrySetResult();
            }

            return Task.FromResult(DeliveryResult.Success);
        }));

        var sent = Enumerable.Range(0, 100).Select(i => Event("beef.submitted", $"{{\"n\":{i}}}", $"txid{i}")).ToList();
        foreach (CloudEvent e in sent)
        {
            await pubsub.PublishAsync(e);
        }

        await all.Task.WaitAsync(Patience);
        received.Keys.Should().BeEquivalentTo(sent.Select(e => e.Id));
        CloudEvent first = received[sent[0].Id];
        first.Type.Should().Be("beef.submitted");
        first.Subject.Should().Be("txid0");
        Encoding.UTF8.GetString(first.Data.Span).Should().Be("{\"n\":0}");
        first.DataContentType.Should().Be("application/json");
    }

    [Fact]
    public async Task Retry_redelivers_until_the_handler_succeeds()
    {
        IPubSub pubsub = CreatePubSub();
        int attempts = 0;
        var done = new TaskCompletionSource();
        await using IAsyncDisposable _ = pubsub.Subscribe(new Subscription("pubsub", "t", (_, _) =>
        {
            if (Interlocked.Increment(ref attempts) < 3)
            {
                return Task.FromResult(DeliveryResult.Retry);
            }

            done.TrySetResult();
            return Task.FromResult(DeliveryResult.Success);
        }, Retry: Quick));

        await pubsub.PublishAsync(Event("t", "x"));
        await done.Task.WaitAsync(Patience);
        attempts.Should().Be(3);
    }

    [Fact]
    public async Task A_handler_that_throws_is_retried_like_Retry()
    {
        IPubSub pubsub = CreatePubSub();
        int attempts = 0;
        var done = new TaskCompletionSource();
        await using IAsyncDisposable _ = pubsub.Subscribe(new Subscription("pubsub", "t", (_, _) =>
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                throw new InvalidOperationException("transient");
            }

            done.TrySetResult();
            return Task.FromResult(DeliveryResult.Success);
        }, Retry: Quick));

        await pubsub.PublishAsync(Event("t", "x"));
        await done.Task.WaitAsync(Patience);
        attempts.Should().Be(2);
    }

    [Fact]
    public async Task Drop_sends_the_event_to_the_dead_letter_topic_without_retrying()
    {
        IPubSub pubsub = CreatePubSub();
        var attempts = new StrongBox<int>();
        (IAsyncDisposable deadLetters, Task<CloudEvent> dead) = CollectFirst(pubsub, "t.dead");
        await using IAsyncDisposable _d = deadLetters;
        await using IAsyncDisposable _ = AlwaysAnswering(pubsub, DeliveryResult.Drop, attempts);

        CloudEvent sent = Event("t", "poison");
        await pubsub.PublishAsync(sent);
        CloudEvent got = await dead.WaitAsync(Patience);
        got.Id.Should().Be(sent.Id);
        got.Type.Should().Be("t", "the dead letter keeps the original type");
        attempts.Value.Should().Be(1);
    }

    [Fact]
    public async Task Exhausted_retries_go_to_the_dead_letter_topic()
    {
        IPubSub pubsub = CreatePubSub();
        var attempts = new StrongBox<int>();
        (IAsyncDisposable deadLetters, Task<CloudEvent> dead) = CollectFirst(pubsub, "t.dead");
        await using IAsyncDisposable _d = deadLetters;
        await using IAsyncDisposable _ = AlwaysAnswering(pubsub, DeliveryResult.Retry, attempts);

        await pubsub.PublishAsync(Event("t", "never"));
        await dead.WaitAsync(Patience);
        attempts.Value.Should().Be(Quick.MaxAttempts);
    }

    [Fact]
    public async Task Bulk_publish_delivers_every_event_to_every_subscription()
    {
        IPubSub pubsub = CreatePubSub();
        var first = new ConcurrentBag<string>();
        var second = new ConcurrentBag<string>();
        var bothDone = new CountdownEvent(2);
        Subscription Collect(ConcurrentBag<string> into) => new("pubsub", "beef.verified", (e, _) =>
        {
            into.Add(e.Id);
            if (into.Count == 50)
            {
                bothDone.Signal();
            }

            return Task.FromResult(DeliveryResult.Success);
        });

        await using IAsyncDisposable a = pubsub.Subscribe(Collect(first));
        await using IAsyncDisposable b = pubsub.Subscribe(Collect(second));
        var events = Enumerable.Range(0, 50).Select(i => Event("beef.verified", $"{i}")).ToList();
        await pubsub.PublishBulkAsync(events);

        bothDone.Wait(Patience).Should().BeTrue();
        first.Should().BeEquivalentTo(events.Select(e => e.Id));
        second.Should().BeEquivalentTo(events.Select(e => e.Id));
    }

    [Fact]
    public async Task A_disposed_subscription_receives_nothing_more()
    {
        IPubSub pubsub = CreatePubSub();
        int count = 0;
        IAsyncDisposable subscription = pubsub.Subscribe(new Subscription("pubsub", "t", (_, _) =>
        {
            Interlocked.Increment(ref count);
            return Task.FromResult(DeliveryResult.Success);
        }));
        await subscription.DisposeAsync();
        await pubsub.PublishAsync(Event("t", "late"));
        await Task.Delay(50);
        count.Should().Be(0);
    }
}
