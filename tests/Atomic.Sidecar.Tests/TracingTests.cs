using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Atomic.Sidecar.Components;
using Dapr;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// daprd's <c>kind: Configuration</c> tracing: the sidecar's spans for an SDK publish and for the delivery to the app,
/// in the publisher's trace, exported to Zipkin.
/// </summary>
public sealed class TracingTests
{
    [Fact]
    public async Task With_a_zipkin_configuration_the_publish_and_the_delivery_are_spans_of_the_publishers_trace()
    {
        await using var zipkin = await FakeZipkin.StartAsync();
        await using var resources = new TestResources(Backend.InMemory);
        string config = Config(resources, $$"""
                samplingRate: "1"
                zipkin:
                  endpointAddress: "{{zipkin.Url}}/api/v2/spans"
            """);
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
            web.MapPost("/orders", (Order order, HttpContext context) => PubSubTests.Ok(sub, context, order)).WithTopic("pubsub", "orders"));
        string traceId;
        await using (EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options("traced-app", app.Address) with { ConfigFile = config }))
        {
            using DaprClient client = new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcAddress.AbsoluteUri).UseHttpEndpoint(sidecar.HttpAddress.AbsoluteUri).Build();
            using var listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "tracing-test",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(listener);
            using var source = new ActivitySource("tracing-test");
            using (Activity publishing = source.StartActivity("publish")!)
            {
                traceId = publishing.TraceId.ToHexString();
                await client.PublishEventAsync("pubsub", "orders", new Order("o-z", 1));
            }

            Received delivery = (await app.WaitForAsync("/orders")).Single();
            delivery.Headers["traceparent"].Should().Contain(traceId);
        }

        // Disposing the sidecar exported what was left.
        string spans = zipkin.Body;
        spans.Should().Contain(traceId).And.Contain("traced-app").And.Contain("deliver orders").And.Contain("PublishEvent");
    }

    [Theory]
    [InlineData("samplingRate: \"lots\"", "spec.tracing.samplingRate")]
    [InlineData("zipkin:\n                  endpointAddress: \"not a url\"", "spec.tracing.zipkin.endpointAddress")]
    [InlineData("otel:\n                  endpointAddress: \"localhost:4318\"\n                  protocol: \"udp\"", "spec.tracing.otel.protocol")]
    public async Task A_configuration_it_cannot_use_stops_start_up_naming_the_field(string tracing, string field)
    {
        await using var resources = new TestResources(Backend.InMemory);
        string config = Config(resources, "        " + tracing);
        Func<Task> start = async () => await (await EmbeddedSidecar.StartAsync(resources.Options("app") with { ConfigFile = config })).DisposeAsync();
        (await start.Should().ThrowAsync<ComponentException>()).Which.Message.Should().Contain(field);
    }

    [Fact]
    public async Task Without_a_configuration_file_the_sidecar_makes_no_spans_and_a_missing_one_stops_start_up()
    {
        await using var resources = new TestResources(Backend.InMemory);
        await using (EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options("app")))
        {
            sidecar.Should().NotBeNull();
        }

        Func<Task> start = async () => await (await EmbeddedSidecar.StartAsync(resources.Options("app") with { ConfigFile = Path.Combine(resources.Directory, "none.yaml") })).DisposeAsync();
        (await start.Should().ThrowAsync<ComponentException>()).Which.Message.Should().Contain("does not exist");
    }

    /// <summary>A Configuration file (daprd's <c>--config</c>) beside the resources, with <paramref name="tracing"/> as its <c>spec.tracing</c>.</summary>
    private static string Config(TestResources resources, string tracing)
    {
        string file = Path.Combine(resources.Directory, "config.yaml");
        File.WriteAllText(file, "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: tracing\nspec:\n  tracing:\n" + tracing.Replace("            ", "    ", StringComparison.Ordinal).TrimEnd() + "\n");
        return file;
    }

    /// <summary>A Zipkin receiver keeping every body posted to <c>/api/v2/spans</c>.</summary>
    private sealed class FakeZipkin : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<string> _bodies = new();

        private FakeZipkin(WebApplication app) => _app = app;

        public string Url => _app.Urls.First();

        public string Body => string.Concat(_bodies);

        public static async Task<FakeZipkin> StartAsync()
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            WebApplication app = builder.Build();
            var zipkin = new FakeZipkin(app);
            app.MapPost("/api/v2/spans", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body, Encoding.UTF8);
                zipkin._bodies.Enqueue(await reader.ReadToEndAsync());
                return Results.Accepted();
            });
            await app.StartAsync();
            return zipkin;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
