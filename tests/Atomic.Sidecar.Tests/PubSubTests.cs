using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Sidecar.Components;
using Atomic.Sidecar.AppChannel;
using Dapr;
using Dapr.Client;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;
using DaprGrpc = Dapr.Client.Autogen.Grpc.v1;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// Pub/sub end to end with the official SDK on both sides: a <c>Dapr.AspNetCore</c> subscriber app (its
/// <c>/dapr/subscribe</c>, <c>UseCloudEvents</c>, SUCCESS/RETRY/DROP answers) and <c>Dapr.Client</c> publishing through
/// the sidecar's gRPC API.
/// </summary>
public sealed class PubSubTests(ITestOutputHelper output)
{
    private const string AppId = "orders-app";

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task An_event_published_with_DaprClient_arrives_once_at_its_route_as_a_CloudEvent(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
            web.MapPost("/orders", (Order order, HttpContext context) => Ok(sub, context, order)).WithTopic("pubsub", "orders"));
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("o-1", 3));

        Received delivery = (await app.WaitForAsync("/orders")).Single();
        delivery.Order.Should().Be(new Order("o-1", 3));
        delivery.Headers["content-type"].Should().StartWith("application/cloudevents+json");
        delivery.Attribute("id").Should().NotBeNullOrEmpty();
        delivery.Attribute("specversion").Should().Be("1.0");
        delivery.Attribute("source").Should().Be(AppId);
        delivery.Attribute("type").Should().Be("com.dapr.event.sent");
        delivery.Attribute("topic").Should().Be("orders");
        delivery.Attribute("pubsubname").Should().Be("pubsub");
        delivery.Attribute("datacontenttype").Should().Be("application/json");
        await Task.Delay(500);
        app.At("/orders").Should().HaveCount(1, "a SUCCESS (an empty 200) settles the event");
    }

    [Fact]
    public async Task The_publishers_trace_context_travels_with_the_event_to_the_subscriber()
    {
        await using var resources = new TestResources(Backend.InMemory);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
            web.MapPost("/orders", (Order order, HttpContext context) => Ok(sub, context, order)).WithTopic("pubsub", "orders"));
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "trace-test",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var source = new System.Diagnostics.ActivitySource("trace-test");

        string traceId;
        using (System.Diagnostics.Activity publishing = source.StartActivity("publish")!)
        {
            traceId = publishing.TraceId.ToHexString();
            await client.PublishEventAsync("pubsub", "orders", new Order("o-t", 1)); // the SDK's gRPC call carries traceparent
        }

        Received delivery = (await app.WaitForAsync("/orders")).Single();
        delivery.Headers["traceparent"].Should().Contain(traceId, "daprd delivers with the publisher's trace context");
        delivery.Attribute("traceparent").Should().Contain(traceId, "and keeps it in the CloudEvent");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task The_subscriptions_Dapr_AspNetCore_declares_are_read_with_their_dead_letter_topics(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            web.MapPost("/orders", (Order order, HttpContext context) => Ok(sub, context, order))
                .WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", DeadLetterTopic = "orders-dead" });
            web.MapPost("/dead", (Order order, HttpContext context) => Ok(sub, context, order)).WithTopic("pubsub", "orders-dead");
        });
        using var http = new HttpClient();
        output.WriteLine(await http.GetStringAsync(new Uri(app.Address, "dapr/subscribe")));

        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));

        sidecar.Subscriptions.Should().BeEquivalentTo(new[]
        {
            new SubscriptionInfo("pubsub", "orders", "/orders", [], "orders-dead", "PROGRAMMATIC", new Dictionary<string, string>()),
            new SubscriptionInfo("pubsub", "orders-dead", "/dead", [], null, "PROGRAMMATIC", new Dictionary<string, string>()),
        }, o => o.ComparingByMembers<SubscriptionInfo>());
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_RETRY_answer_is_redelivered_until_the_app_answers_SUCCESS(Backend backend)
    {
        await using var resources = new TestResources(backend);
        int attempts = 0;
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
            web.MapPost("/orders", (Order order, HttpContext context) =>
            {
                sub.Record(context, order);
                return Results.Json(new { status = Interlocked.Increment(ref attempts) <= 2 ? "RETRY" : "SUCCESS" });
            }).WithTopic("pubsub", "orders"));
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("o-2", 1));

        IReadOnlyList<Received> deliveries = await app.WaitForAsync("/orders", 3);
        deliveries.Select(d => d.Attribute("id")).Distinct().Should().ContainSingle("the same event is redelivered");
        deliveries.Should().AllSatisfy(d => d.Order.Should().Be(new Order("o-2", 1)));
        await Task.Delay(700);
        app.At("/orders").Should().HaveCount(3, "the SUCCESS of the third delivery settles it");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_DROP_answer_sends_the_event_to_the_dead_letter_topic_route(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            web.MapPost("/orders", (Order order, HttpContext context) =>
            {
                sub.Record(context, order);
                return Results.Json(new { status = "DROP" });
            }).WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", DeadLetterTopic = "orders-dead" });
            web.MapPost("/dead", (Order order, HttpContext context) => Ok(sub, context, order)).WithTopic("pubsub", "orders-dead");
        });
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("o-3", 2));

        Received dead = (await app.WaitForAsync("/dead")).Single();
        Received dropped = app.At("/orders").Single();
        dead.Attribute("id").Should().Be(dropped.Attribute("id"));
        dead.Order.Should().Be(new Order("o-3", 2));
        await Task.Delay(300);
        app.At("/orders").Should().HaveCount(1, "a DROP is not retried");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_route_that_answers_404_drops_the_event_without_retrying(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            web.MapPost("/orders", (Order order, HttpContext context) =>
            {
                sub.Record(context, order);
                return Results.NotFound();
            }).WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", DeadLetterTopic = "orders-dead" });
            web.MapPost("/dead", (Order order, HttpContext context) => Ok(sub, context, order)).WithTopic("pubsub", "orders-dead");
        });
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("o-4", 5));

        (await app.WaitForAsync("/dead")).Single().Order.Should().Be(new Order("o-4", 5));
        await Task.Delay(300);
        app.At("/orders").Should().HaveCount(1, "daprd drops an event whose route is not found");
    }

    [Fact]
    public async Task An_event_the_app_keeps_failing_is_not_lost_and_is_delivered_after_a_sidecar_restart()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        bool failing = true;
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
            web.MapPost("/orders", (Order order, HttpContext context) =>
            {
                sub.Record(context, order);
                return Volatile.Read(ref failing) ? Results.StatusCode(500) : Results.Ok();
            }).WithTopic("pubsub", "orders"));
        SidecarOptions options = resources.Options(AppId, app.Address);
        await using (EmbeddedSidecar first = await EmbeddedSidecar.StartAsync(options))
        {
            using DaprClient client = Client(first);
            await client.PublishEventAsync("pubsub", "orders", new Order("o-5", 8));
            await app.WaitForAsync("/orders", 2); // answered 500, redelivered, answered 500 again
        }

        Volatile.Write(ref failing, false);
        int before = app.At("/orders").Count;
        await using EmbeddedSidecar second = await EmbeddedSidecar.StartAsync(options);

        IReadOnlyList<Received> deliveries = await app.WaitForAsync("/orders", before + 1);
        deliveries.Select(d => d.Attribute("id")).Distinct().Should().ContainSingle();
        deliveries[^1].Order.Should().Be(new Order("o-5", 8));
        await Task.Delay(500);
        app.At("/orders").Should().HaveCount(before + 1, "the app's SUCCESS after the restart settles the kept event");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task Routing_rules_send_events_to_the_route_their_type_matches(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            web.MapPost("/orders/priority", (Order order, HttpContext context) => Ok(sub, context, order))
                .WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", Match = "event.type == \"order.priority\"", Priority = 1 });
            web.MapPost("/orders", (Order order, HttpContext context) => Ok(sub, context, order)).WithTopic("pubsub", "orders");
        });
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("urgent", 1), new Dictionary<string, string> { ["cloudevent.type"] = "order.priority" });
        await client.PublishEventAsync("pubsub", "orders", new Order("normal", 1));

        using var http = new HttpClient();
        output.WriteLine(await http.GetStringAsync(new Uri(app.Address, "dapr/subscribe")));
        (await app.WaitForAsync("/orders/priority")).Single().Order!.Id.Should().Be("urgent");
        (await app.WaitForAsync("/orders")).Single().Order!.Id.Should().Be("normal");
        sidecar.Subscriptions.Single().Rules.Should().Equal(("event.type == \"order.priority\"", "/orders/priority"));
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_Resiliency_inbound_retry_policy_bounds_the_redeliveries_before_the_dead_letter_topic(Backend backend)
    {
        await using var resources = new TestResources(backend, """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: resiliency
            spec:
              policies:
                retries:
                  quick:
                    policy: constant
                    duration: 50ms
                    maxRetries: 2
              targets:
                components:
                  pubsub:
                    inbound:
                      retry: quick
            """);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            web.MapPost("/orders", (Order order, HttpContext context) =>
            {
                sub.Record(context, order);
                return Results.Json(new { status = "RETRY" });
            }).WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", DeadLetterTopic = "orders-dead" });
            web.MapPost("/dead", (Order order, HttpContext context) => Ok(sub, context, order)).WithTopic("pubsub", "orders-dead");
        });
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("o-8", 1));

        (await app.WaitForAsync("/dead")).Single().Order.Should().Be(new Order("o-8", 1));
        app.At("/orders").Should().HaveCount(3, "maxRetries: 2 is the first delivery and two retries");
    }

    [Fact]
    public async Task A_routing_rule_the_sidecar_cannot_evaluate_fails_start_up_naming_the_expression()
    {
        await using var resources = new TestResources(Backend.InMemory);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            web.MapPost("/big", (Order order, HttpContext context) => Ok(sub, context, order))
                .WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", Match = "event.data.quantity > 10", Priority = 1 });
            web.MapPost("/orders", (Order order, HttpContext context) => Ok(sub, context, order)).WithTopic("pubsub", "orders");
        });

        Func<Task> start = async () => await (await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address))).DisposeAsync();

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("*event.data.quantity > 10*");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_declarative_Subscription_resource_delivers_to_its_routes_for_the_apps_in_its_scopes(Backend backend)
    {
        await using var resources = new TestResources(backend, $"""
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: invoices
            spec:
              pubsubname: pubsub
              topic: invoices
              routes:
                rules:
                - match: event.type == 'invoice.paid'
                  path: /invoices/paid
                default: /invoices
              deadLetterTopic: invoices-dead
              metadata:
                rawPayload: "false"
            scopes:
            - {AppId}
            ---
            apiVersion: dapr.io/v1alpha1
            kind: Subscription
            metadata:
              name: refunds
            spec:
              pubsubname: pubsub
              topic: refunds
              route: refunds
            ---
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: not-mine
            spec:
              pubsubname: pubsub
              topic: shipments
              routes:
                default: /shipments
            scopes:
            - another-app
            """);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            foreach (string path in new[] { "/invoices", "/invoices/paid", "/refunds", "/shipments" })
            {
                web.MapPost(path, (Order order, HttpContext context) => Ok(sub, context, order));
            }
        });
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "invoices", new Order("i-1", 1));
        await client.PublishEventAsync("pubsub", "invoices", new Order("i-2", 1), new Dictionary<string, string> { ["cloudevent.type"] = "invoice.paid" });
        await client.PublishEventAsync("pubsub", "refunds", new Order("r-1", 1));
        await client.PublishEventAsync("pubsub", "shipments", new Order("s-1", 1));

        (await app.WaitForAsync("/invoices")).Single().Order!.Id.Should().Be("i-1");
        (await app.WaitForAsync("/invoices/paid")).Single().Order!.Id.Should().Be("i-2");
        (await app.WaitForAsync("/refunds")).Single().Order!.Id.Should().Be("r-1");
        app.At("/shipments").Should().BeEmpty("that subscription is scoped to another app");
        sidecar.Subscriptions.Should().BeEquivalentTo(new[]
        {
            new SubscriptionInfo("pubsub", "invoices", "/invoices", [("event.type == 'invoice.paid'", "/invoices/paid")], "invoices-dead", "DECLARATIVE",
                new Dictionary<string, string> { ["rawPayload"] = "false" }),
            new SubscriptionInfo("pubsub", "refunds", "/refunds", [], null, "DECLARATIVE", new Dictionary<string, string>()),
        }, o => o.ComparingByMembers<SubscriptionInfo>());
    }

    [Theory]
    [InlineData("spec:\n  pubsubname: pubsub\n  routes:\n    default: /orders\n", "spec.topic")]
    [InlineData("spec:\n  pubsubname: pubsub\n  topic: orders\n", "spec.routes")]
    [InlineData("spec:\n  pubsubname: pubsub\n  topic: orders\n  routes:\n    rules:\n    - match: event.data.x == 1\n      path: /x\n", "spec.routes.rules[0].match")]
    [InlineData("spec:\n  pubsubname: pubsub\n  topic: orders\n  routes:\n    default: /orders\n  metadata:\n  - a\n", "spec.metadata")]
    public async Task A_malformed_Subscription_resource_fails_start_up_naming_the_file_and_field(string spec, string field)
    {
        await using var resources = new TestResources(Backend.InMemory, "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: bad\n" + spec);
        await using SubscriberApp app = await SubscriberApp.StartAsync((_, _) => { });

        Func<Task> start = async () => await (await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address))).DisposeAsync();

        ComponentException error = (await start.Should().ThrowAsync<ComponentException>()).Which;
        error.File.Should().EndWith("extra.yaml");
        error.Field.Should().Be(field);
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task A_subscribe_answer_entry_of_the_wrong_shape_is_skipped_and_the_others_subscribed(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using SubscriberApp app = await SubscriberApp.StartAsync(
            (web, sub) =>
            {
                web.MapGet("/dapr/subscribe", () => Results.Text(
                    """[{"pubsubname":"pubsub","topic":"orders","route":"orders"},{"pubsubname":"pubsub","topic":5},"junk",{"pubsubname":"pubsub","topic":"refunds"},{"pubsubname":"nope","topic":"x","route":"/x"}]""",
                    "application/json"));
                web.MapPost("/orders", (Order order, HttpContext context) => Ok(sub, context, order));
            },
            subscribeHandler: false);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        sidecar.Subscriptions.Should().ContainSingle().Which.Route.Should().Be("/orders", "a route gains its leading slash");
        await client.PublishEventAsync("pubsub", "orders", new Order("o-6", 1));
        (await app.WaitForAsync("/orders")).Single().Order.Should().Be(new Order("o-6", 1));
    }

    [Fact]
    public async Task An_app_without_a_subscribe_route_starts_with_no_subscriptions()
    {
        await using var resources = new TestResources(Backend.InMemory);
        await using SubscriberApp app = await SubscriberApp.StartAsync((_, _) => { }, subscribeHandler: false);

        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));

        sidecar.Subscriptions.Should().BeEmpty();
        app.At("/dapr/subscribe").Should().ContainSingle("the sidecar asked, and the 404 means none");
    }

    [Fact]
    public async Task The_sidecar_waits_for_an_app_that_starts_listening_after_it()
    {
        await using var resources = new TestResources(Backend.InMemory);
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        Task<EmbeddedSidecar> starting = EmbeddedSidecar.StartAsync(resources.Options(AppId, new Uri($"http://127.0.0.1:{port}/")));
        await Task.Delay(700);
        await using SubscriberApp app = await SubscriberApp.StartAsync(
            (web, sub) => web.MapPost("/orders", (Order order, HttpContext context) => Ok(sub, context, order)).WithTopic("pubsub", "orders"),
            port: port);
        await using EmbeddedSidecar sidecar = await starting;
        using DaprClient client = Client(sidecar);

        sidecar.Subscriptions.Should().ContainSingle().Which.Topic.Should().Be("orders");
        await client.PublishEventAsync("pubsub", "orders", new Order("o-9", 1));
        (await app.WaitForAsync("/orders")).Single().Order.Should().Be(new Order("o-9", 1));
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task The_APP_API_TOKEN_is_sent_on_every_call_to_the_app(Backend backend)
    {
        await using var resources = new TestResources(backend);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
            web.MapPost("/orders", (Order order, HttpContext context) => Ok(sub, context, order)).WithTopic("pubsub", "orders"));
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address) with { AppApiToken = "app-secret" });
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("o-7", 1));

        (await app.WaitForAsync("/orders")).Single().Headers["dapr-api-token"].Should().Be("app-secret");
        app.At("/dapr/subscribe").Single().Headers["dapr-api-token"].Should().Be("app-secret");
    }

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task The_metadata_API_lists_the_programmatic_and_declarative_subscriptions(Backend backend)
    {
        await using var resources = new TestResources(backend, """
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: invoices
            spec:
              pubsubname: pubsub
              topic: invoices
              routes:
                default: /invoices
            """);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            web.MapPost("/orders", (Order order, HttpContext context) => Ok(sub, context, order))
                .WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", DeadLetterTopic = "orders-dead" });
            web.MapPost("/invoices", (Order order, HttpContext context) => Ok(sub, context, order));
        });
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        DaprMetadata metadata = await client.GetMetadataAsync();
        metadata.Id.Should().Be(AppId);

        // Dapr.Client 1.19.1's DaprMetadata has no subscriptions: the SDK's own generated gRPC client reads them.
        using GrpcChannel channel = GrpcChannel.ForAddress(sidecar.GrpcAddress);
        DaprGrpc.GetMetadataResponse grpc = await new DaprGrpc.Dapr.DaprClient(channel).GetMetadataAsync(new DaprGrpc.GetMetadataRequest());
        grpc.Subscriptions.Select(s => (s.PubsubName, s.Topic, s.DeadLetterTopic, s.Type, s.Rules.Rules.Last().Path)).Should().BeEquivalentTo(new[]
        {
            ("pubsub", "invoices", string.Empty, DaprGrpc.PubsubSubscriptionType.Declarative, "/invoices"),
            ("pubsub", "orders", "orders-dead", DaprGrpc.PubsubSubscriptionType.Programmatic, "/orders"),
        });

        using var http = new HttpClient();
        JsonElement body = await http.GetFromJsonAsync<JsonElement>(new Uri(sidecar.HttpAddress, "v1.0/metadata"));
        body.GetProperty("subscriptions").EnumerateArray().Select(s => (s.GetProperty("topic").GetString(), s.GetProperty("type").GetString()))
            .Should().BeEquivalentTo(new[] { ("invoices", "DECLARATIVE"), ("orders", "PROGRAMMATIC") });
    }

    internal static IResult Ok(SubscriberApp app, HttpContext context, Order order)
    {
        app.Record(context, order);
        return Results.Ok();
    }

    private static DaprClient Client(EmbeddedSidecar sidecar) => new DaprClientBuilder()
        .UseGrpcEndpoint(sidecar.GrpcAddress.ToString().TrimEnd('/'))
        .UseHttpEndpoint(sidecar.HttpAddress.ToString().TrimEnd('/'))
        .Build();
}
