using System.Collections.Concurrent;
using Atomic.Sidecar.AppChannel;
using Dapr;
using Dapr.AspNetCore;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// Bulk subscribe with the official SDK on the app's side: a route marked <c>WithBulkSubscribe</c> in
/// <c>Dapr.AspNetCore</c> takes <c>BulkSubscribeMessage</c>s and answers <c>BulkSubscribeAppResponse</c>, one status
/// per entry, and each event then follows its own course (settled, redelivered, dead-lettered).
/// </summary>
public sealed class BulkSubscribeTests
{
    private const string AppId = "orders-app";

    /// <summary>What a bulk route received: one request's entries.</summary>
    private sealed record Bulk(string Topic, IReadOnlyList<(string EntryId, string? ContentType, Order? Order, string? Type)> Entries);

    private static DaprClient Client(EmbeddedSidecar sidecar) => new DaprClientBuilder()
        .UseGrpcEndpoint(sidecar.GrpcAddress.ToString().TrimEnd('/'))
        .UseHttpEndpoint(sidecar.HttpAddress.ToString().TrimEnd('/'))
        .Build();

    private static Bulk Read(BulkSubscribeMessage<BulkMessageModel<Order>> message) =>
        new(message.Topic, [.. message.Entries.Select(e => (e.EntryId, (string?)e.ContentType, (Order?)e.Event?.Data, (string?)e.Event?.Type))]);

    private static async Task WaitUntilAsync(Func<bool> done, string what)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (!done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(what);
            }

            await Task.Delay(20);
        }
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task Events_ready_while_the_app_handles_a_bulk_go_together_in_the_next_up_to_maxMessagesCount(Backend backend)
    {
        await using var resources = new TestResources(backend);
        var bulks = new ConcurrentQueue<Bulk>();
        var firstHeld = new TaskCompletionSource();
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, _) =>
            web.MapPost("/orders-bulk", async (BulkSubscribeMessage<BulkMessageModel<Order>> message) =>
            {
                bool first = bulks.IsEmpty;
                bulks.Enqueue(Read(message));
                if (first)
                {
                    await firstHeld.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the others pile up meanwhile
                }

                return new BulkSubscribeAppResponse([.. message.Entries.Select(e => new BulkSubscribeAppResponseEntry(e.EntryId, BulkSubscribeAppResponseStatus.SUCCESS))]);
            })
            .WithTopic("pubsub", "orders")
            .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = "orders", MaxMessagesCount = 10, MaxAwaitDurationMs = 100 }));
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("first", 1));
        await WaitUntilAsync(() => !bulks.IsEmpty, "the first bulk never came");
        for (int i = 0; i < 25; i++)
        {
            await client.PublishEventAsync("pubsub", "orders", new Order("o-" + i, i));
        }

        firstHeld.SetResult();
        await WaitUntilAsync(() => bulks.Sum(b => b.Entries.Count) >= 26, "not every event arrived");
        await Task.Delay(300);

        Bulk[] all = [.. bulks];
        all.SelectMany(b => b.Entries).Select(e => e.Order!.Id).Should().BeEquivalentTo(["first", .. Enumerable.Range(0, 25).Select(i => "o-" + i)], "each event once");
        all.Should().OnlyContain(b => b.Entries.Count <= 10 && b.Topic == "orders");
        all.Length.Should().BeLessThan(10, "the 25 events that waited went many to a request");
        all.SelectMany(b => b.Entries).Should().OnlyContain(e => e.ContentType == "application/cloudevents+json" && e.Type == "com.dapr.event.sent",
            "each entry is the event's CloudEvent");
        all.SelectMany(b => b.Entries).Select(e => e.EntryId).Should().OnlyHaveUniqueItems();
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task Each_entry_follows_its_own_status_retried_dropped_to_the_dead_letter_topic_or_settled(Backend backend)
    {
        await using var resources = new TestResources(backend);
        var seen = new ConcurrentQueue<string>();
        var dead = new ConcurrentQueue<string>();
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, _) =>
        {
            web.MapPost("/orders-bulk", (BulkSubscribeMessage<BulkMessageModel<Order>> message) =>
            {
                var statuses = new List<BulkSubscribeAppResponseEntry>();
                foreach (BulkSubscribeMessageEntry<BulkMessageModel<Order>> entry in message.Entries)
                {
                    Order order = entry.Event.Data;
                    bool again = seen.Contains(order.Id);
                    seen.Enqueue(order.Id);
                    switch (order.Id)
                    {
                        case "retry-once":
                            statuses.Add(new(entry.EntryId, again ? BulkSubscribeAppResponseStatus.SUCCESS : BulkSubscribeAppResponseStatus.RETRY));
                            break;
                        case "drop":
                            statuses.Add(new(entry.EntryId, BulkSubscribeAppResponseStatus.DROP));
                            break;
                        case "unanswered-once":
                            if (again)
                            {
                                statuses.Add(new(entry.EntryId, BulkSubscribeAppResponseStatus.SUCCESS));
                            }

                            break; // left out of the first answer: a RETRY
                        default:
                            statuses.Add(new(entry.EntryId, BulkSubscribeAppResponseStatus.SUCCESS));
                            break;
                    }
                }

                return new BulkSubscribeAppResponse(statuses);
            })
            .WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", DeadLetterTopic = "orders-dead" })
            .WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = "orders", MaxMessagesCount = 50, MaxAwaitDurationMs = 10 });
            web.MapPost("/dead", (Order order) =>
            {
                dead.Enqueue(order.Id);
                return Results.Ok();
            }).WithTopic("pubsub", "orders-dead");
        });
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        await client.BulkPublishEventAsync("pubsub", "orders", new[] { new Order("ok", 1), new Order("retry-once", 2), new Order("drop", 3), new Order("unanswered-once", 4) });

        await WaitUntilAsync(() => !dead.IsEmpty && seen.Count(s => s == "retry-once") >= 2 && seen.Count(s => s == "unanswered-once") >= 2, "not every entry ran its course");
        await Task.Delay(700);
        seen.Count(s => s == "ok").Should().Be(1, "a SUCCESS settles its entry alone");
        seen.Count(s => s == "retry-once").Should().Be(2, "a RETRY redelivers that entry until SUCCESS");
        seen.Count(s => s == "unanswered-once").Should().Be(2, "an entry the answer leaves out is a RETRY");
        seen.Count(s => s == "drop").Should().Be(1, "a DROP is not retried");
        dead.Should().Equal("drop");
    }

    [Fact]
    public void The_subscribe_answer_s_bulkSubscribe_is_read_and_a_malformed_one_refuses_that_entry()
    {
        IReadOnlyList<AppSubscription> read = SubscriptionReader.ParseProgrammatic("""
            [
              {"pubsubname": "pubsub", "topic": "a", "route": "/a", "bulkSubscribe": {"enabled": true, "maxMessagesCount": 7, "maxAwaitDurationMs": 30}},
              {"pubsubname": "pubsub", "topic": "b", "route": "/b", "bulkSubscribe": {"enabled": false, "maxMessagesCount": 7}},
              {"pubsubname": "pubsub", "topic": "c", "route": "/c", "bulkSubscribe": {"enabled": true}},
              {"pubsubname": "pubsub", "topic": "d", "route": "/d", "bulkSubscribe": {"enabled": true, "maxMessagesCount": "many"}}
            ]
            """u8, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        read.Select(s => s.Info.Topic).Should().Equal("a", "b", "c");
        read[0].Info.Bulk.Should().Be(new BulkSubscribe(7, 30));
        read[1].Info.Bulk.Should().BeNull("not enabled");
        read[2].Info.Bulk.Should().Be(new BulkSubscribe(BulkSubscribe.DefaultMaxMessagesCount, BulkSubscribe.DefaultMaxAwaitDurationMs));
    }
}
