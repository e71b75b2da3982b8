using System.Net;
using System.Text.Json;
using Atomic.Sidecar.Hosting;
using Dapr;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using DaprGrpc = Dapr.Client.Autogen.Grpc.v1;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// daprd's app health checks (<c>--enable-app-health-check</c>) with a <c>Dapr.AspNetCore</c> subscriber whose
/// <c>/healthz</c> the test turns on and off: deliveries pause while it fails and resume, none lost, when it recovers;
/// invocations of an unhealthy app are refused; the metadata reports the settings.
/// </summary>
public sealed class AppHealthTests
{
    private const string AppId = "health-app";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Theory]
    [MemberData(nameof(TestResources.Backends), MemberType = typeof(TestResources))]
    public async Task Deliveries_pause_while_the_app_is_unhealthy_and_all_arrive_once_it_recovers(Backend backend)
    {
        await using var resources = new TestResources(backend);
        var health = new HealthSwitch();
        await using SubscriberApp app = await StartAppAsync(health);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(Options(resources, app));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("before", 1));
        await app.WaitForAsync("/orders");

        health.Healthy = false;
        await UntilAsync(async () => await InvokeStatusAsync(sidecar) == HttpStatusCode.InternalServerError); // the sidecar saw it
        for (int i = 0; i < 5; i++)
        {
            await client.PublishEventAsync("pubsub", "orders", new Order($"while-{i}", i));
        }

        await Task.Delay(600); // several probe intervals: nothing may arrive meanwhile (a slower machine only waits longer)
        app.At("/orders").Should().HaveCount(1, "deliveries wait while the app is unhealthy");

        health.Healthy = true;
        IReadOnlyList<Received> deliveries = await app.WaitForAsync("/orders", 6);
        deliveries.Select(d => d.Order!.Id).Should().BeEquivalentTo(["before", "while-0", "while-1", "while-2", "while-3", "while-4"]);
        app.At("/dead").Should().BeEmpty("a paused event is neither retried to exhaustion nor dead-lettered");
    }

    [Fact]
    public async Task An_app_is_unhealthy_until_its_first_good_probe_and_invocations_of_it_are_refused_meanwhile()
    {
        await using var resources = new TestResources(Backend.InMemory);
        var health = new HealthSwitch { Healthy = false };
        await using SubscriberApp app = await StartAppAsync(health);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(Options(resources, app));
        using DaprClient client = Client(sidecar);

        await client.PublishEventAsync("pubsub", "orders", new Order("early", 1));
        using (HttpClient invoke = DaprClient.CreateInvokeHttpClient(AppId, sidecar.HttpAddress.ToString().TrimEnd('/')))
        using (HttpResponseMessage refused = await invoke.GetAsync("/ping"))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
            using JsonDocument body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            body.RootElement.GetProperty("errorCode").GetString().Should().Be("ERR_DIRECT_INVOKE");
            body.RootElement.GetProperty("message").GetString().Should().Be($"failed to invoke, id: {AppId}, err: app is not in a healthy state");
        }

        app.At("/ping").Should().BeEmpty("the call is refused by the sidecar");
        app.At("/orders").Should().BeEmpty();

        health.Healthy = true;
        (await app.WaitForAsync("/orders")).Single().Order!.Id.Should().Be("early");
        await UntilAsync(async () => await InvokeStatusAsync(sidecar) == HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_metadata_reports_the_health_check_settings_as_daprd_does()
    {
        await using var resources = new TestResources(Backend.InMemory);
        var health = new HealthSwitch();
        await using SubscriberApp app = await StartAppAsync(health);
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(Options(resources, app));
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(sidecar.GrpcAddress);
        var grpc = new DaprGrpc.Dapr.DaprClient(channel);

        DaprGrpc.GetMetadataResponse metadata = await grpc.GetMetadataAsync(new DaprGrpc.GetMetadataRequest());

        metadata.AppConnectionProperties.Port.Should().Be(app.Address.Port);
        metadata.AppConnectionProperties.Health.Should().BeEquivalentTo(new DaprGrpc.AppConnectionHealthProperties
        {
            HealthCheckPath = "/healthz",
            HealthProbeInterval = "100ms",
            HealthProbeTimeout = "500ms",
            HealthThreshold = 2,
        });
    }

    [Fact]
    public void A_run_template_reads_the_health_check_fields_from_the_app_or_common()
    {
        IReadOnlyList<RunApp> apps = RunTemplate.Parse("""
            version: 1
            common:
              appHealthThreshold: 4
            apps:
            - appID: checked
              appPort: 7001
              enableAppHealthCheck: true
              appHealthCheckPath: /health
              appHealthProbeInterval: 3
              appHealthProbeTimeout: 200
            - appID: unchecked
              appPort: 7002
            """, Path.Combine(Path.GetTempPath(), "dapr.yaml"));

        apps[0].HealthCheck.Should().Be(new AppHealthCheck("/health", TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(200), 4));
        apps[1].HealthCheck.Should().BeNull();
    }

    private static SidecarOptions Options(TestResources resources, SubscriberApp app) => resources.Options(AppId, app.Address) with
    {
        EnableAppHealthCheck = true,
        AppHealthProbeInterval = TimeSpan.FromMilliseconds(100),
        AppHealthThreshold = 2,
    };

    private static Task<SubscriberApp> StartAppAsync(HealthSwitch health) => SubscriberApp.StartAsync((web, sub) =>
    {
        web.MapGet("/healthz", () => health.Healthy ? Results.Ok() : Results.StatusCode(503));
        web.MapGet("/ping", () => Results.Text("pong"));
        web.MapPost("/orders", (Order order, HttpContext context) =>
        {
            sub.Record(context, order);
            return Results.Ok();
        }).WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "orders", DeadLetterTopic = "orders-dead" });
        web.MapPost("/dead", (Order order, HttpContext context) =>
        {
            sub.Record(context, order);
            return Results.Ok();
        }).WithTopic("pubsub", "orders-dead");
    });

    private static DaprClient Client(EmbeddedSidecar sidecar) => new DaprClientBuilder()
        .UseHttpEndpoint(sidecar.HttpAddress.ToString().TrimEnd('/'))
        .UseGrpcEndpoint(sidecar.GrpcAddress.ToString().TrimEnd('/'))
        .Build();

    /// <summary>The status of a GET of the app's <c>/ping</c> through the SDK's invocation client.</summary>
    private static async Task<HttpStatusCode> InvokeStatusAsync(EmbeddedSidecar sidecar)
    {
        using HttpClient invoke = DaprClient.CreateInvokeHttpClient(AppId, sidecar.HttpAddress.ToString().TrimEnd('/'));
        using HttpResponseMessage response = await invoke.GetAsync("/ping");
        return response.StatusCode;
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

    /// <summary>What the app's <c>/healthz</c> answers: 200 when healthy, 503 otherwise.</summary>
    private sealed class HealthSwitch
    {
        private volatile bool _healthy = true;

        public bool Healthy
        {
            get => _healthy;
            set => _healthy = value;
        }
    }
}
