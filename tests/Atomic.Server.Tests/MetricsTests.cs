using System.Net;
using Atomic.Server.Hosting;
using Atomic.Services.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Atomic.Server.Tests;

/// <summary><c>GET /metrics</c>: the server's OpenTelemetry metrics in Prometheus' text format (issue #18).</summary>
public sealed class MetricsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task After_a_beef_metrics_exposes_the_pipelines_series_under_prometheus_names()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?> { ["Atomic:Operations:AlertEvaluationSeconds"] = "1" });
        await PipelineTests.RunAsync(server);
        (await server.Client.PostAsync("/v1/check", null)).EnsureSuccessStatusCode();

        // Until an alert evaluation (every second here) has probed the sidecar.
        HttpResponseMessage response;
        string text;
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            response = await server.Client.GetAsync(ServerTelemetry.MetricsPath);
            text = await response.Content.ReadAsStringAsync();
            if (text.Contains("\natomic_sidecar_up{", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                break;
            }

            response.Dispose();
            await Task.Delay(200);
        }

        using HttpResponseMessage _ = response;
        output.WriteLine(text);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        response.Content.Headers.ContentType.Parameters.Should().Contain(p => p.Name == "version" && p.Value == "0.0.4");
        string[] lines = text.Split('\n');
        lines.Should().Contain("# TYPE atomic_beef_accepted_total counter");
        lines.Should().Contain(l => l.StartsWith("atomic_beef_accepted_total{", StringComparison.Ordinal));
        lines.Should().Contain("# TYPE atomic_spv_duration_seconds histogram");
        lines.Should().Contain(l => l.StartsWith("atomic_spv_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("le=\"+Inf\"", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("atomic_broadcast_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("le=\"0.005\"", StringComparison.Ordinal),
            "the durations' buckets are seconds' (5 ms to an hour), not OpenTelemetry's default milliseconds'");
        lines.Should().Contain(l => l.StartsWith("atomic_spv_outcomes_total{", StringComparison.Ordinal) && l.Contains("outcome=\"verified\"", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("atomic_broadcast_outcomes_total{", StringComparison.Ordinal) && l.Contains("verdict=\"Accepted\"", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("atomic_broadcast_duration_seconds_count{", StringComparison.Ordinal));
        foreach (string stage in new[] { "verified", "broadcast", "mined" })
        {
            lines.Should().Contain(l => l.StartsWith("atomic_tx_processing_duration_seconds_sum{", StringComparison.Ordinal) && l.Contains($"stage=\"{stage}\"", StringComparison.Ordinal));
        }

        lines.Should().Contain("# TYPE atomic_pubsub_pending gauge");
        lines.Should().Contain(l => l.StartsWith("atomic_pubsub_pending{", StringComparison.Ordinal)
            && l.Contains($"topic=\"{Names.Topics.BeefSubmitted}\"", StringComparison.Ordinal) && l.Contains("consumer=\"atomic-server\"", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("http_server_request_duration_seconds_bucket{", StringComparison.Ordinal), "ASP.NET Core's meters are exported too");
        lines.Should().Contain(l => l.StartsWith("atomic_sidecar_up{", StringComparison.Ordinal) && l.TrimEnd().EndsWith(" 1", StringComparison.Ordinal),
            "the sidecar answered its probe");
        foreach (string invariant in Atomic.Services.Operations.Invariants.All)
        {
            lines.Should().Contain(l => l.StartsWith("atomic_consistency_violations_total{", StringComparison.Ordinal) && l.Contains($"invariant=\"{invariant}\"", StringComparison.Ordinal),
                "each invariant's series exists before its first violation, for the rule's increase()");
        }
    }

    [Fact]
    public async Task Turned_off_metrics_is_not_found()
    {
        await using ServerHost server = await ServerHost.StartAsync(settings: new Dictionary<string, string?> { [ServerTelemetry.PrometheusKey] = "false" });

        using HttpResponseMessage response = await server.Client.GetAsync(ServerTelemetry.MetricsPath);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        server.Services.GetRequiredService<ServerTelemetry>().Describe().Should().NotContain("Prometheus");
    }

    [Fact]
    public async Task A_setting_that_is_not_a_boolean_stops_start_up_naming_the_key()
    {
        Func<Task> start = async () => await (await ServerHost.StartAsync(settings: new Dictionary<string, string?> { [ServerTelemetry.PrometheusKey] = "yes" })).DisposeAsync();

        (await start.Should().ThrowAsync<ServerConfigurationException>()).WithMessage("Atomic:Metrics:Prometheus must be true or false, got 'yes'");
    }
}
