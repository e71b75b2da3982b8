using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Services;
using Atomic.Server.Hosting;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Server.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task A_meter_listener_sees_the_pipelines_counters_histograms_and_queue_depth_move()
    {
        var seen = new ConcurrentDictionary<string, ConcurrentBag<(double Value, Dictionary<string, object?> Tags)>>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == Telemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            seen.GetOrAdd(instrument.Name, _ => []).Add((value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        await using ServerHost server = await ServerHost.StartAsync();
        await PipelineTests.RunAsync(server);
        listener.RecordObservableInstruments();

        seen["atomic.spv.outcomes"].Should().Contain(m => Equals(m.Tags["outcome"], "verified"));
        seen["atomic.spv.duration"].Should().Contain(m => m.Value >= 0);
        seen["atomic.broadcast.outcomes"].Should().Contain(m => Equals(m.Tags["verdict"], "Accepted") && Equals(m.Tags["endpoint"], server.Url + "/arc"));
        seen["atomic.broadcast.duration"].Should().NotBeEmpty();
        seen["atomic.tx.processing.duration"].Select(m => m.Tags["stage"]).Should().Contain(["verified", "broadcast", "mined"]);
        seen["atomic.pubsub.pending"].Should().Contain(m =>
            Equals(m.Tags["pubsub"], "pubsub") && Equals(m.Tags["topic"], Names.Topics.BeefSubmitted) && Equals(m.Tags["consumer"], "atomic-server"));
        seen["atomic.tx.outcomes"].Should().Contain(m => Equals(m.Tags["status"], "mined"));
    }

    [Fact]
    public async Task A_transactions_spans_share_the_trace_of_its_submission_through_the_sidecar_and_every_stage()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is Telemetry.Name or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await using ServerHost server = await ServerHost.StartAsync();
        string txid = await PipelineTests.RunAsync(server);

        Activity Span(string name) => spans.First(a => a.DisplayName == name && Equals(a.GetTagItem("atomic.txid"), txid));
        Activity submitted = Span("beef.submitted process");
        Activity verified = Span("beef.verified process");
        verified.TraceId.Should().Be(submitted.TraceId, "the verifier's publish carried the trace on to the next stage");
        submitted.ParentSpanId.Should().NotBe(default(ActivitySpanId), "the event was published inside a trace");
        spans.Should().Contain(a => a.TraceId == submitted.TraceId && a.Source.Name == "Microsoft.AspNetCore" && a.ParentSpanId == default,
            "the trace began with the app's request for the submission, and the outbox event carried it through the sidecar");
    }

    [Fact]
    public async Task A_beef_the_gateway_refuses_is_counted_with_its_route_and_code()
    {
        var refused = new ConcurrentBag<(object? Route, object? Code)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == Telemetry.Name && instrument.Name == "atomic.beef.refused")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var map = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            refused.Add((map["route"], map["code"]));
        });
        listener.Start();

        await using ServerHost server = await ServerHost.StartAsync();
        using var garbage = new ByteArrayContent([1, 2, 3]);
        garbage.Headers.ContentType = new("application/octet-stream");
        (await server.Client.PostAsync("/v1/beef", garbage)).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        refused.Should().Contain(r => Equals(r.Route, "/v1/beef") && r.Code != null && r.Code.ToString()!.StartsWith("BEEF_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_rejected_beef_counts_as_a_validation_failure_with_its_code()
    {
        var rejected = new ConcurrentBag<string?>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == Telemetry.Name && instrument.Name == "atomic.spv.outcomes")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var map = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            if (Equals(map["outcome"], "rejected"))
            {
                rejected.Add(map["code"] as string);
            }
        });
        listener.Start();

        await using ServerHost server = await ServerHost.StartAsync();
        (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(server.Client, PrivateKey.Random());
        string txid = await PipelineTests.SubmitAsync(server.Client, funding, PipelineTests.Spend(funding, parent, vout, PrivateKey.Random()));
        JsonElement view = await PipelineTests.WaitForAsync(server.Client, txid, "rejected");
        view.GetProperty("error").GetProperty("code").GetString().Should().Be("SCRIPT_FAILED", "the spend is signed by another key");
        rejected.Should().Contain("SCRIPT_FAILED");
    }

    [Fact]
    public async Task With_an_otlp_endpoint_set_metrics_and_traces_are_exported_under_the_service_name()
    {
        await using var collector = await FakeCollector.StartAsync();
        await using (ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "atomic-telemetry-test",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        }))
        {
            await PipelineTests.RunAsync(server);
            string scraped = await server.Client.GetStringAsync(ServerTelemetry.MetricsPath);
            scraped.Should().Contain("atomic_spv_duration_seconds_bucket", "Prometheus' reader sits beside OTLP's on the one meter provider");

            // Another server in the process stopping (as test classes do in parallel) must not silence this one's gauge.
            await (await ServerHost.StartAsync()).DisposeAsync();
            await Task.Delay(1000); // past the export that was under way when it stopped
            int before = collector.Requests.TryGetValue("/v1/metrics", out ConcurrentQueue<byte[]>? earlier) ? earlier.Count : 0;

            // The queue-depth gauge has points only while the stages are subscribed: wait for a later periodic export of it.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!collector.Requests.TryGetValue("/v1/metrics", out ConcurrentQueue<byte[]>? bodies) || !bodies.Skip(before).Any(b => Encoding.UTF8.GetString(b).Contains("atomic.pubsub.pending", StringComparison.Ordinal)))
            {
                await Task.Delay(50, deadline.Token);
            }
        }

        // Stopping flushed both providers.
        collector.Requests.Should().ContainKey("/v1/metrics");
        collector.Requests.Should().ContainKey("/v1/traces");
        string metrics = Encoding.UTF8.GetString(collector.Requests["/v1/metrics"].SelectMany(b => b).ToArray());
        metrics.Should().Contain("atomic-telemetry-test").And.Contain("atomic.spv.duration").And.Contain("atomic.pubsub.pending").And.Contain("http.server.request.duration");
        string traces = Encoding.UTF8.GetString(collector.Requests["/v1/traces"].SelectMany(b => b).ToArray());
        traces.Should().Contain("beef.submitted process").And.Contain("beef.verified process").And.Contain("arc submit");
    }

    [Fact]
    public async Task With_the_zipkin_exporter_chosen_traces_go_to_zipkin_as_dapr_init_runs_it()
    {
        await using var collector = await FakeCollector.StartAsync();
        await using (ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["OTEL_TRACES_EXPORTER"] = "zipkin",
            ["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] = collector.Url + "/api/v2/spans",
            ["OTEL_SERVICE_NAME"] = "atomic-zipkin-test",
        }))
        {
            server.Services.GetRequiredService<ServerTelemetry>().Describe().Should().Contain("Zipkin " + collector.Url + "/api/v2/spans");
            await PipelineTests.RunAsync(server);
        }

        // Stopping flushed the spans: Zipkin's JSON v2, one array per batch.
        collector.Requests.Should().ContainKey("/api/v2/spans");
        string spans = Encoding.UTF8.GetString(collector.Requests["/api/v2/spans"].SelectMany(b => b).ToArray());
        spans.Should().Contain("atomic-zipkin-test").And.Contain("beef.submitted process").And.Contain("beef.verified process");
    }

    [Theory]
    [InlineData("jaeger", null, "OTEL_TRACES_EXPORTER 'jaeger'")]
    [InlineData("zipkin", "localhost:9411", "OTEL_EXPORTER_ZIPKIN_ENDPOINT 'localhost:9411'")]
    public async Task An_exporter_it_cannot_use_stops_start_up_naming_the_variable(string exporter, string? endpoint, string message)
    {
        Func<Task> start = async () => await (await ServerHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["OTEL_TRACES_EXPORTER"] = exporter,
            ["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] = endpoint,
        })).DisposeAsync();
        (await start.Should().ThrowAsync<ServerConfigurationException>()).WithMessage(message + "*");
    }

    /// <summary>An OTLP/HTTP and Zipkin receiver that keeps every request body by path (protobuf strings are plain UTF-8 inside).</summary>
    private sealed class FakeCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private FakeCollector(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }

        public ConcurrentDictionary<string, ConcurrentQueue<byte[]>> Requests { get; } = new();

        public static async Task<FakeCollector> StartAsync()
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            WebApplication app = builder.Build();
            FakeCollector? collector = null;
            // OTLP/HTTP's /v1/{signal}, and Zipkin's /api/v2/spans (JSON, answered 202).
            app.MapPost("/{**path}", async (HttpContext context) =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                collector!.Requests.GetOrAdd(context.Request.Path, _ => new()).Enqueue(body.ToArray());
                context.Response.StatusCode = (int)HttpStatusCode.OK;
                context.Response.ContentType = "application/x-protobuf";
            });
            await app.StartAsync();
            collector = new FakeCollector(app, app.Urls.First());
            return collector;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
