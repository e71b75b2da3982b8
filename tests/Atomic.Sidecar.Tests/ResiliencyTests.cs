using System.Net;
using System.Text.Json;
using Atomic.Sidecar.Components;
using Atomic.Sidecar.Resiliency;
using Dapr;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// The Resiliency resource as daprd applies it, seen through the official SDK: a timeout and a circuit breaker on
/// an invoked app (<c>DaprClient.CreateInvokeHttpClient</c>), a timeout on deliveries to a <c>Dapr.AspNetCore</c>
/// subscriber, and resources the sidecar cannot use stopping start-up.
/// </summary>
public sealed class ResiliencyTests
{
    private const string AppId = "orders-app";

    /// <summary>Long enough for any wait on a busy machine; conditions are polled, never slept on.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_timeout_on_an_invoked_app_answers_500_ERR_DIRECT_INVOKE_with_deadline_exceeded()
    {
        await using var resources = new TestResources(Backend.InMemory, $"""
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: resiliency
            spec:
              policies:
                timeouts:
                  quick: 200ms
              targets:
                apps:
                  {AppId}:
                    timeout: quick
            """);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            web.MapGet("/slow", async (HttpContext context) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                return Results.Ok();
            });
            web.MapGet("/fast", () => Results.Text("quick"));
        });
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using HttpClient client = Invoke(sidecar);

        HttpResponseMessage timedOut = await InvokeAsync(client, "slow");

        timedOut.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (string code, string message) = await ErrorAsync(timedOut);
        code.Should().Be("ERR_DIRECT_INVOKE");
        message.Should().Be($"failed to invoke, id: {AppId}, err: context deadline exceeded");
        HttpResponseMessage fast = await InvokeAsync(client, "fast");
        (await fast.Content.ReadAsStringAsync()).Should().Be("quick", "a call within the timeout is answered");
    }

    [Fact]
    public async Task A_circuit_opens_after_the_trip_refuses_fast_while_open_and_closes_after_a_successful_probe()
    {
        await using var resources = new TestResources(Backend.InMemory, $"""
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: resiliency
            spec:
              policies:
                circuitBreakers:
                  flaky:
                    maxRequests: 1
                    timeout: 1s
                    trip: consecutiveFailures >= 3
              targets:
                apps:
                  {AppId}:
                    circuitBreaker: flaky
            """);
        int calls = 0;
        bool failing = true;
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) => web.MapGet("/flaky", () =>
        {
            Interlocked.Increment(ref calls);
            return Volatile.Read(ref failing) ? Results.Text("broken", statusCode: 503) : Results.Text("fine");
        }));
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using HttpClient client = Invoke(sidecar);

        for (int i = 0; i < 3; i++)
        {
            HttpResponseMessage failed = await InvokeAsync(client, "flaky");
            failed.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "the app's own error comes back while the circuit is closed");
            (await failed.Content.ReadAsStringAsync()).Should().Be("broken");
        }

        HttpResponseMessage refused = await InvokeAsync(client, "flaky");
        refused.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await ErrorAsync(refused)).Should().Be(("ERR_DIRECT_INVOKE", $"failed to invoke, id: {AppId}, err: circuit breaker is open"));
        Volatile.Read(ref calls).Should().Be(3, "an open circuit answers without calling the app");

        // Half-open after the timeout: one probe reaches the app; while it still fails, the circuit opens again.
        await UntilAsync(async () => (await InvokeAsync(client, "flaky")).StatusCode == HttpStatusCode.ServiceUnavailable);
        Volatile.Read(ref calls).Should().Be(4);
        (await ErrorAsync(await InvokeAsync(client, "flaky"))).Message.Should().EndWith("circuit breaker is open");

        Volatile.Write(ref failing, false);
        await UntilAsync(async () => (await InvokeAsync(client, "flaky")).StatusCode == HttpStatusCode.OK);
        for (int i = 0; i < 3; i++)
        {
            (await InvokeAsync(client, "flaky")).StatusCode.Should().Be(HttpStatusCode.OK, "a successful probe closes the circuit");
        }
    }

    [Fact]
    public async Task A_retry_policy_on_an_app_retries_its_error_statuses_and_answers_the_last_one()
    {
        await using var resources = new TestResources(Backend.InMemory, $"""
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: resiliency
            spec:
              policies:
                retries:
                  twice:
                    policy: constant
                    duration: 20ms
                    maxRetries: 2
                    matching:
                      httpStatusCodes: "500-599"
              targets:
                apps:
                  {AppId}:
                    retry: twice
            """);
        int flaky = 0;
        int teapot = 0;
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            web.MapPost("/flaky", async (HttpRequest request) =>
            {
                string body = await new StreamReader(request.Body).ReadToEndAsync();
                return Interlocked.Increment(ref flaky) < 3 ? Results.Text("again", statusCode: 500) : Results.Text("got " + body);
            });
            web.MapGet("/teapot", () =>
            {
                Interlocked.Increment(ref teapot);
                return Results.Text("short and stout", statusCode: 418);
            });
        });
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using HttpClient client = Invoke(sidecar);

        using HttpResponseMessage answered = await client.PostAsync("/flaky", new StringContent("hello"));
        (await answered.Content.ReadAsStringAsync()).Should().Be("got hello", "the third attempt, sent the same body, succeeds");
        Volatile.Read(ref flaky).Should().Be(3);

        HttpResponseMessage refused = await InvokeAsync(client, "teapot");
        ((int)refused.StatusCode).Should().Be(418);
        Volatile.Read(ref teapot).Should().Be(1, "matching.httpStatusCodes does not list 418");
    }

    [Fact]
    public async Task A_delivery_that_runs_past_the_inbound_timeout_is_retried()
    {
        await using var resources = new TestResources(Backend.InMemory, """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: resiliency
            spec:
              policies:
                timeouts:
                  delivery: 300ms
                retries:
                  quick:
                    policy: constant
                    duration: 50ms
                    maxRetries: 5
              targets:
                components:
                  pubsub:
                    inbound:
                      timeout: delivery
                      retry: quick
            """);
        int attempts = 0;
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
        {
            web.MapPost("/orders", async (Order order, HttpContext context) =>
            {
                sub.Record(context, order);
                if (Interlocked.Increment(ref attempts) == 1)
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted); // cancelled when the sidecar gives up on it
                }

                return Results.Ok();
            }).WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", DeadLetterTopic = "orders-dead" });
            web.MapPost("/dead", (Order order, HttpContext context) =>
            {
                sub.Record(context, order);
                return Results.Ok();
            }).WithTopic("pubsub", "orders-dead");
        });
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId, app.Address));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("slow-1", 1));

        IReadOnlyList<Received> deliveries = await app.WaitForAsync("/orders", 2);
        deliveries.Select(d => d.Attribute("id")).Distinct().Should().ContainSingle("the timed-out delivery is retried with the same event");
        app.At("/dead").Should().BeEmpty();
    }

    [Theory]
    [InlineData("policies:\n    timeouts:\n      general: 5 seconds\n", "spec.policies.timeouts.general")]
    [InlineData("policies:\n    retries:\n      r:\n        policy: linear\n", "spec.policies.retries.r.policy")]
    [InlineData("policies:\n    retries:\n      r:\n        duration: soon\n", "spec.policies.retries.r.duration")]
    [InlineData("policies:\n    retries:\n      r:\n        matching:\n          httpStatusCodes: \"500-99\"\n", "spec.policies.retries.r.matching.httpStatusCodes")]
    [InlineData("policies:\n    circuitBreakers:\n      cb:\n        trip: consecutiveFailures >>= 5\n", "spec.policies.circuitBreakers.cb.trip")]
    [InlineData("policies:\n    circuitBreakers:\n      cb:\n        trip: failures > 5\n", "spec.policies.circuitBreakers.cb.trip")]
    [InlineData("policies:\n    circuitBreakers:\n      cb:\n        interval: 1 minute\n", "spec.policies.circuitBreakers.cb.interval")]
    [InlineData("targets:\n    apps:\n      billing:\n        retry: nope\n", "spec.targets.apps.billing.retry")]
    [InlineData("targets:\n    components:\n      pubsub:\n        outbound:\n          circuitBreaker: nope\n", "spec.targets.components.pubsub.outbound.circuitBreaker")]
    public async Task A_Resiliency_resource_the_sidecar_cannot_use_stops_start_up_naming_the_file_and_field(string spec, string field)
    {
        await using var resources = new TestResources(Backend.InMemory, "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: bad\nspec:\n  " + spec);

        Func<Task> start = async () => await (await EmbeddedSidecar.StartAsync(resources.Options(AppId))).DisposeAsync();

        ComponentException error = (await start.Should().ThrowAsync<ComponentException>()).Which;
        error.File.Should().EndWith("extra.yaml");
        error.Field.Should().Be(field);
    }

    [Fact]
    public async Task The_repositorys_own_Resiliency_resource_loads()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Atomic.Dapr.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        directory.Should().NotBeNull("the tests run inside the repository");
        await using var resources = new TestResources(Backend.InMemory, await File.ReadAllTextAsync(Path.Combine(directory!, "components", "resiliency.yaml")));

        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(AppId));
        using DaprClient client = Client(sidecar);
        await client.PublishEventAsync("pubsub", "orders", new Order("o-1", 1)); // under the pubsub's outbound policy
        await client.SaveStateAsync("statestore", "k", "v");
        (await client.GetStateAsync<string>("statestore", "k")).Should().Be("v");
    }

    [Theory]
    [InlineData("consecutiveFailures >= 5", 0, 0, 5, 0, 5, true)]
    [InlineData("consecutiveFailures >= 5", 9, 5, 4, 0, 4, false)]
    [InlineData("requests > 5 && totalFailures > 3", 6, 2, 4, 0, 1, true)]
    [InlineData("requests > 5 && totalFailures > 3", 5, 1, 4, 0, 1, false)]
    [InlineData("totalFailures * 2 > requests || consecutiveFailures > 8", 10, 4, 6, 0, 1, true)]
    [InlineData("!(consecutiveSuccesses > 0) && (totalFailures % 2 == 0)", 4, 0, 4, 0, 4, true)]
    [InlineData("totalFailures / requests > 0.5", 4, 1, 3, 0, 3, false)] // integers divide as CEL's do: 3 / 4 is 0
    [InlineData("totalFailures * 1.0 / requests > 0.5", 4, 1, 3, 0, 3, true)]
    public void A_trip_expression_evaluates_daprds_counts(string expression, long requests, long successes, long failures, long consecutiveSuccesses, long consecutiveFailures, bool trips) =>
        TripExpression.Parse(expression).Evaluate(new BreakerCounts(requests, successes, failures, consecutiveSuccesses, consecutiveFailures)).Should().Be(trips);

    private static DaprClient Client(EmbeddedSidecar sidecar) => new DaprClientBuilder()
        .UseHttpEndpoint(sidecar.HttpAddress.ToString().TrimEnd('/'))
        .UseGrpcEndpoint(sidecar.GrpcAddress.ToString().TrimEnd('/'))
        .Build();

    /// <summary>The SDK's invocation client for the app (<c>DaprClient.CreateInvokeHttpClient</c>, its recommended form).</summary>
    private static HttpClient Invoke(EmbeddedSidecar sidecar) => DaprClient.CreateInvokeHttpClient(AppId, sidecar.HttpAddress.ToString().TrimEnd('/'));

    /// <summary>One GET of the app's <paramref name="method"/>, answered whatever its status.</summary>
    private static async Task<HttpResponseMessage> InvokeAsync(HttpClient client, string method)
    {
        HttpResponseMessage response = await client.GetAsync("/" + method);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static async Task<(string Code, string Message)> ErrorAsync(HttpResponseMessage response)
    {
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (body.RootElement.GetProperty("errorCode").GetString()!, body.RootElement.GetProperty("message").GetString()!);
    }

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        DateTime deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the condition did not hold within {Deadline}");
            }

            await Task.Delay(50);
        }
    }
}
