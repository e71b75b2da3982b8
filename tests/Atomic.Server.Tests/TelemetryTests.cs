using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Services;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

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

            // The queue-depth gauge has points only while the stages are subscribed: wait for a periodic export of it.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!collector.Requests.TryGetValue("/v1/metrics", out ConcurrentBag<byte[]>? bodies) || !bodies.Any(b => Encoding.UTF8.GetString(b).Contains("atomic.pubsub.pending", StringComparison.Ordinal)))
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

    /// <summary>An OTLP/HTTP receiver that keeps every request body by path (protobuf strings are plain UTF-8 inside).</summary>
    private sealed class FakeCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private FakeCollector(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }

        public ConcurrentDictionary<string, ConcurrentBag<byte[]>> Requests { get; } = new();

        public static async Task<FakeCollector> StartAsync()
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            WebApplication app = builder.Build();
            FakeCollector? collector = null;
            app.MapPost("/v1/{signal}", async (HttpContext context) =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                collector!.Requests.GetOrAdd(context.Request.Path, _ => []).Add(body.ToArray());
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
