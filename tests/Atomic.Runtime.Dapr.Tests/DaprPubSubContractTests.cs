using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atomic.Runtime.Dapr.PubSub;
using Atomic.Runtime.Dapr.Tests.Fakes;
using Atomic.Runtime.PubSub;

namespace Atomic.Runtime.Dapr.Tests;

/// <summary>
/// What <see cref="DaprPubSub"/> sends the sidecar, and what the app callbacks answer it: the subscription list, the
/// token check and SUCCESS / RETRY / DROP. Deliveries here are posted to the app directly, as daprd would.
/// </summary>
public sealed class DaprPubSubContractTests : IAsyncLifetime
{
    private const string AppToken = "app-token";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private DaprTestApp _app = null!;
    private HttpClient _sidecarSide = null!;

    public async Task InitializeAsync()
    {
        _app = await DaprTestApp.StartAsync(new FakeSidecarOptions { AppApiToken = AppToken, RefuseEvent = id => id.StartsWith("refuse", StringComparison.Ordinal) ? "broker said no" : null });
        _sidecarSide = new HttpClient { BaseAddress = _app.AppAddress };
        _sidecarSide.DefaultRequestHeaders.Add("dapr-api-token", AppToken);
    }

    public async Task DisposeAsync()
    {
        _sidecarSide.Dispose();
        await _app.DisposeAsync();
    }

    private static CloudEvent Event(string topic, string data = "{\"n\":1}", string? id = null) =>
        CloudEvent.Create("pubsub", topic, Encoding.UTF8.GetBytes(data), "txid") with { Id = id ?? Guid.NewGuid().ToString("n") };

    private IAsyncDisposable Answering(string topic, DeliveryResult answer, string? consumer = null, RetryPolicy? retry = null) =>
        _app.PubSub().Subscribe(new Subscription("pubsub", topic, (_, _) => Task.FromResult(answer), Consumer: consumer, Retry: retry));

    private async Task<(HttpStatusCode Status, string? Answer)> DeliverAsync(string topic, CloudEvent e, HttpClient? client = null)
    {
        using var content = new ByteArrayContent(CloudEventJson.Serialize(e));
        content.Headers.ContentType = new("application/cloudevents+json");
        using HttpResponseMessage response = await (client ?? _sidecarSide).PostAsync(DaprSubscriptionTable.RouteFor("pubsub", topic).TrimStart('/'), content);
        return (response.StatusCode, response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<DaprDeliveryAnswer>())!.Status : null);
    }

    [Fact]
    public async Task Publish_posts_a_structured_CloudEvent_to_the_publish_endpoint()
    {
        CloudEvent e = Event("beef.submitted");
        await _app.PubSub().PublishAsync(e);

        RecordedRequest publish = _app.Sidecar.Requests.Single(r => r.Method == "POST");
        publish.Path.Should().Be("/v1.0/publish/pubsub/beef.submitted");
        publish.ContentType.Should().Be("application/cloudevents+json");
        JsonElement body = JsonDocument.Parse(publish.Body).RootElement;
        body.GetProperty("specversion").GetString().Should().Be("1.0");
        body.GetProperty("id").GetString().Should().Be(e.Id);
        body.GetProperty("type").GetString().Should().Be("beef.submitted");
        body.GetProperty("subject").GetString().Should().Be("txid");
        body.GetProperty("data").GetRawText().Should().Be("{\"n\":1}");
    }

    [Fact]
    public async Task Bulk_publish_posts_one_request_per_topic_with_entry_ids_and_content_types()
    {
        await _app.PubSub().PublishBulkAsync([Event("a"), Event("b"), Event("a")]);

        var bulk = _app.Sidecar.Requests.Where(r => r.Method == "POST").ToList();
        bulk.Select(r => r.Path).Should().Equal("/v1.0-alpha1/publish/bulk/pubsub/a", "/v1.0-alpha1/publish/bulk/pubsub/b");
        JsonElement entries = JsonDocument.Parse(bulk[0].Body).RootElement;
        entries.GetArrayLength().Should().Be(2);
        entries[1].GetProperty("entryId").GetString().Should().Be("1");
        entries[1].GetProperty("contentType").GetString().Should().Be("application/cloudevents+json");
        entries[1].GetProperty("event").GetProperty("type").GetString().Should().Be("a");
    }

    [Fact]
    public async Task Failed_bulk_entries_are_reported_by_event_id()
    {
        Func<Task> publish = () => _app.PubSub().PublishBulkAsync([Event("a", id: "fine"), Event("a", id: "refuse-me")]);
        DaprBulkPublishException e = (await publish.Should().ThrowAsync<DaprBulkPublishException>()).Which;
        e.Failed.Should().Equal(("refuse-me", "broker said no"));
    }

    [Fact]
    public async Task The_app_lists_one_subscription_per_topic_with_its_route_and_dead_letter_topic()
    {
        await using IAsyncDisposable a = _app.PubSub().Subscribe(new Subscription("pubsub", "beef.verified", (_, _) => Task.FromResult(DeliveryResult.Success), DeadLetterTopic: "beef.dead"));
        await using IAsyncDisposable b = _app.PubSub().Subscribe(new Subscription("pubsub", "beef.verified", (_, _) => Task.FromResult(DeliveryResult.Success), DeadLetterTopic: "beef.dead", Consumer: "x"));
        await using IAsyncDisposable c = Answering("tx.mined", DeliveryResult.Success);

        string list = await _sidecarSide.GetStringAsync("dapr/subscribe");
        JsonDocument.Parse(list).RootElement.GetRawText().Should().Be(
            "[{\"pubsubname\":\"pubsub\",\"topic\":\"beef.verified\",\"route\":\"/dapr/pubsub/pubsub/beef.verified\",\"deadLetterTopic\":\"beef.dead\"}," +
            "{\"pubsubname\":\"pubsub\",\"topic\":\"tx.mined\",\"route\":\"/dapr/pubsub/pubsub/tx.mined\"}]");
    }

    [Fact]
    public void Without_a_pub_sub_to_publish_to_consumers_of_one_topic_must_agree_on_the_dead_letter_topic()
    {
        var table = new DaprSubscriptionTable();
        table.Add(new Subscription("pubsub", "t", (_, _) => Task.FromResult(DeliveryResult.Success), DeadLetterTopic: "t.dead"));
        FluentActions.Invoking(() => table.Add(new Subscription("pubsub", "t", (_, _) => Task.FromResult(DeliveryResult.Success), DeadLetterTopic: "t.other.dead", Consumer: "x")))
            .Should().Throw<InvalidOperationException>().WithMessage("*one dead-letter topic*'t.other.dead'*");
        table.Entries().Single().DeadLetterTopic.Should().Be("t.dead");
    }

    [Fact]
    public async Task Each_consumer_of_a_topic_keeps_its_dead_letter_topic_the_sidecars_or_one_the_app_publishes_to()
    {
        var deadLetters = new System.Collections.Concurrent.ConcurrentQueue<(string Topic, string Id)>();
        IAsyncDisposable Record(string topic) => _app.PubSub().Subscribe(new Subscription("pubsub", topic, (e, _) =>
        {
            deadLetters.Enqueue((e.Topic, e.Id));
            return Task.FromResult(DeliveryResult.Success);
        }));
        await using IAsyncDisposable d1 = Record("t.first.dead");
        await using IAsyncDisposable d2 = Record("t.second.dead");
        var firstAnswers = new Queue<DeliveryResult>([DeliveryResult.Success, DeliveryResult.Retry, DeliveryResult.Retry]);
        await using IAsyncDisposable first = _app.PubSub().Subscribe(new Subscription("pubsub", "t", (_, _) => Task.FromResult(firstAnswers.Dequeue()), DeadLetterTopic: "t.first.dead", Consumer: "first",
            Retry: new RetryPolicy(MaxAttempts: 2, InitialDelay: TimeSpan.FromMilliseconds(1), MaxDelay: TimeSpan.FromMilliseconds(1))));
        await using IAsyncDisposable second = _app.PubSub().Subscribe(new Subscription("pubsub", "t", (_, _) => Task.FromResult(DeliveryResult.Drop), DeadLetterTopic: "t.second.dead", Consumer: "second"));

        JsonDocument.Parse(await _sidecarSide.GetStringAsync("dapr/subscribe")).RootElement.EnumerateArray()
            .Single(s => s.GetProperty("topic").GetString() == "t").GetProperty("deadLetterTopic").GetString().Should().Be("t.first.dead", "the sidecar knows the first consumer's");

        // The second consumer drops the event: the app publishes it to t.second.dead itself, and the first, which took it, is done.
        CloudEvent one = Event("t");
        await _app.PubSub().PublishAsync(one);
        await WaitUntilAsync(() => deadLetters.Contains(("t.second.dead", one.Id)));
        await _app.Sidecar.WhenDeliveriesSettledAsync(Patience);
        _app.Sidecar.Deliveries.Single(r => r.Route == "/dapr/pubsub/pubsub/t").Answer.Should().Be("{\"status\":\"SUCCESS\"}", "the sidecar has nothing to dead-letter");

        // Both give up on the next one: the first's goes to the sidecar's dead-letter topic (DROP), the second's is published by the app.
        CloudEvent two = Event("t");
        await _app.PubSub().PublishAsync(two);
        await WaitUntilAsync(() => deadLetters.Contains(("t.first.dead", two.Id)) && deadLetters.Contains(("t.second.dead", two.Id)));
        await _app.Sidecar.WhenDeliveriesSettledAsync(Patience);
        _app.Sidecar.Deliveries.Where(r => r.Route == "/dapr/pubsub/pubsub/t" && r.EventId == two.Id).Select(r => r.Answer)
            .Should().Equal("{\"status\":\"RETRY\"}", "{\"status\":\"DROP\"}");
        _app.Sidecar.Requests.Where(r => r.Path == "/v1.0/publish/pubsub/t.second.dead").Should().HaveCount(2);
        deadLetters.Should().HaveCount(3, "each dead letter once");
        _app.Sidecar.Faults.Should().BeEmpty();
    }

    [Fact]
    public async Task A_consumer_without_a_dead_letter_topic_drops_what_it_gives_up_on_instead_of_using_another_consumers()
    {
        var deadLetters = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using IAsyncDisposable d = _app.PubSub().Subscribe(new Subscription("pubsub", "t.dead", (e, _) =>
        {
            deadLetters.Enqueue(e.Id);
            return Task.FromResult(DeliveryResult.Success);
        }));
        await using IAsyncDisposable first = _app.PubSub().Subscribe(new Subscription("pubsub", "t", (_, _) => Task.FromResult(DeliveryResult.Success), DeadLetterTopic: "t.dead", Consumer: "first"));
        await using IAsyncDisposable second = _app.PubSub().Subscribe(new Subscription("pubsub", "t", (_, _) => Task.FromResult(DeliveryResult.Drop), Consumer: "second"));

        CloudEvent sent = Event("t");
        await _app.PubSub().PublishAsync(sent);
        await _app.Sidecar.WhenDeliveriesSettledAsync(Patience);

        _app.Sidecar.Deliveries.Single(r => r.EventId == sent.Id).Answer.Should().Be("{\"status\":\"SUCCESS\"}");
        deadLetters.Should().BeEmpty("t.dead is the first consumer's, which took the event");
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    [Fact]
    public async Task Without_the_APP_API_TOKEN_the_app_answers_401_to_every_callback()
    {
        await using IAsyncDisposable _ = Answering("t", DeliveryResult.Success);
        using var stranger = new HttpClient { BaseAddress = _app.AppAddress };
        stranger.DefaultRequestHeaders.Add("dapr-api-token", "wrong");
        (await stranger.GetAsync("dapr/subscribe")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await DeliverAsync("t", Event("t"), stranger)).Status.Should().Be(HttpStatusCode.Unauthorized);
        using var anonymous = new HttpClient { BaseAddress = _app.AppAddress };
        (await anonymous.GetAsync("dapr/subscribe")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData(DeliveryResult.Success, "SUCCESS")]
    [InlineData(DeliveryResult.Retry, "RETRY")]
    [InlineData(DeliveryResult.Drop, "DROP")]
    public async Task A_delivery_is_answered_200_with_the_handlers_status(DeliveryResult result, string status)
    {
        await using IAsyncDisposable _ = Answering("t", result);
        (await DeliverAsync("t", Event("t"))).Should().Be((HttpStatusCode.OK, status));
    }

    [Fact]
    public async Task A_body_that_is_no_CloudEvent_is_dropped_and_a_topic_without_subscription_is_retried()
    {
        await using IAsyncDisposable _ = Answering("t", DeliveryResult.Success);
        using var garbage = new StringContent("{\"id\":1}", Encoding.UTF8, "application/cloudevents+json");
        using HttpResponseMessage response = await _sidecarSide.PostAsync("dapr/pubsub/pubsub/t", garbage);
        (await response.Content.ReadFromJsonAsync<DaprDeliveryAnswer>())!.Status.Should().Be("DROP");

        (await DeliverAsync("nobody", Event("nobody"))).Should().Be((HttpStatusCode.OK, "RETRY"));
    }

    [Fact]
    public async Task After_the_retry_policys_attempts_the_app_answers_DROP_so_the_sidecar_dead_letters()
    {
        await using IAsyncDisposable _ = Answering("t", DeliveryResult.Retry, retry: new RetryPolicy(MaxAttempts: 3));
        CloudEvent e = Event("t");
        var answers = new List<string?>();
        for (int i = 0; i < 4; i++)
        {
            answers.Add((await DeliverAsync("t", e)).Answer);
        }

        answers.Should().Equal("RETRY", "RETRY", "DROP", "RETRY");
    }

    [Fact]
    public async Task Each_consumer_gets_the_event_and_subscriptions_of_one_consumer_share_it()
    {
        int shared = 0, alone = 0;
        Subscription Counting(Action count, string? consumer) => new("pubsub", "t", (_, _) =>
        {
            count();
            return Task.FromResult(DeliveryResult.Success);
        }, Consumer: consumer);

        await using IAsyncDisposable a = _app.PubSub().Subscribe(Counting(() => Interlocked.Increment(ref shared), "group"));
        await using IAsyncDisposable b = _app.PubSub().Subscribe(Counting(() => Interlocked.Increment(ref shared), "group"));
        await using IAsyncDisposable c = _app.PubSub().Subscribe(Counting(() => Interlocked.Increment(ref alone), null));
        for (int i = 0; i < 4; i++)
        {
            (await DeliverAsync("t", Event("t"))).Answer.Should().Be("SUCCESS");
        }

        shared.Should().Be(4);
        alone.Should().Be(4);
    }

    [Fact]
    public async Task A_subscription_runs_at_most_MaxConcurrency_handlers_at_once()
    {
        int running = 0, peak = 0;
        var twoRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using IAsyncDisposable _ = _app.PubSub().Subscribe(new Subscription("pubsub", "t", async (_, _) =>
        {
            int now = Interlocked.Increment(ref running);
            lock (twoRunning)
            {
                peak = Math.Max(peak, now);
            }

            if (now == 2)
            {
                twoRunning.TrySetResult();
            }

            await twoRunning.Task.WaitAsync(Patience);
            Interlocked.Decrement(ref running);
            return DeliveryResult.Success;
        }, MaxConcurrency: 2));

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => DeliverAsync("t", Event("t"))));
        answers.Should().OnlyContain(a => a.Answer == "SUCCESS");
        peak.Should().Be(2);
    }

    [Fact]
    public async Task The_sidecar_delivers_with_the_app_token_and_dead_letters_a_dropped_event()
    {
        var dead = new TaskCompletionSource<CloudEvent>();
        await using IAsyncDisposable d = _app.PubSub().Subscribe(new Subscription("pubsub", "t.dead", (e, _) =>
        {
            dead.TrySetResult(e);
            return Task.FromResult(DeliveryResult.Success);
        }));
        await using IAsyncDisposable _ = _app.PubSub().Subscribe(new Subscription("pubsub", "t", (_, _) => Task.FromResult(DeliveryResult.Drop), DeadLetterTopic: "t.dead"));

        CloudEvent sent = Event("t");
        await _app.PubSub().PublishAsync(sent);
        (await dead.Task.WaitAsync(Patience)).Id.Should().Be(sent.Id);
        await _app.Sidecar.WhenDeliveriesSettledAsync(Patience);

        _app.Sidecar.Deliveries.Select(r => (r.Route, r.Attempt, r.Answer)).Should().Equal(
            ("/dapr/pubsub/pubsub/t", 1, "{\"status\":\"DROP\"}"),
            ("/dapr/pubsub/pubsub/t.dead", 1, "{\"status\":\"SUCCESS\"}"));
        _app.Sidecar.Deliveries.Should().OnlyContain(r => r.Token == AppToken && r.Status == 200);
        _app.Sidecar.Faults.Should().BeEmpty();
    }
}
