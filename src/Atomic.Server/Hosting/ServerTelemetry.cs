using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Services;
using Atomic.Services.Operations;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Builder;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Atomic.Server.Hosting;

/// <summary>
/// The server's OpenTelemetry: the pipeline's meter and activity source (<c>Atomic.Services</c>), ASP.NET Core's and
/// HttpClient's, exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or its <c>_METRICS_</c>/<c>_TRACES_</c>
/// variant) is set; the resource's service name is <c>OTEL_SERVICE_NAME</c> (default <c>atomic-server</c>). The metrics
/// are also scraped at <c>GET /metrics</c> in Prometheus' text format unless <c>Atomic:Metrics:Prometheus</c> is false,
/// whether or not OTLP export is on (one meter provider with a reader for each). Also owns the queue-depth gauge
/// <c>atomic.pubsub.pending</c> and <c>atomic.sidecar.up</c>. Built at start, flushed and disposed at shutdown.
/// </summary>
internal sealed class ServerTelemetry : IHostedService, IDisposable
{
    public const string DefaultServiceName = "atomic-server";

    /// <summary>Where Prometheus scrapes the metrics.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The setting that turns <see cref="MetricsPath"/> off (true by default).</summary>
    public const string PrometheusKey = "Atomic:Metrics:Prometheus";

    private static readonly string[] Meters = [Telemetry.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http"];
    private static readonly string[] Sources = [Telemetry.Name, "Microsoft.AspNetCore", "System.Net.Http"];

    // One gauge for the process, on the pipeline's static meter, reading every live server's sidecar. A gauge per host on
    // a meter of its own shared the metric stream with the other hosts' in the process, and OpenTelemetry ends a stream
    // when any of its instruments is disposed: a host stopping (as tests do in parallel) silenced the others' gauges.
    private static readonly ConcurrentDictionary<ServerTelemetry, IServiceProvider> Live = new();
    private static readonly ObservableGauge<int> PendingGauge = Telemetry.Meter.CreateObservableGauge(
        "atomic.pubsub.pending", Observe, "{event}", "deliveries held and not yet settled, per pub/sub, topic and consumer");
    private static readonly ObservableGauge<int> SidecarUpGauge = Telemetry.Meter.CreateObservableGauge(
        "atomic.sidecar.up", ObserveSidecar, "{up}", "1 while the sidecar answers its health endpoint, else 0 (with several servers in one process, 0 when any finds its sidecar down)");

    private readonly IConfiguration _configuration;
    private MeterProvider? _meterProvider;
    private readonly IServiceProvider _services;
    private TracerProvider? _tracerProvider;
    private RequestDelegate? _scrape;

    public ServerTelemetry(IConfiguration configuration, IServiceProvider services)
    {
        _configuration = configuration;
        _services = services;
        Prometheus = PrometheusEnabled(configuration);
        ServiceName = Setting(configuration, "OTEL_SERVICE_NAME") ?? DefaultServiceName;
        MetricsEndpoint = Setting(configuration, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") ?? Setting(configuration, "OTEL_EXPORTER_OTLP_ENDPOINT");
        TracesExporter = (Setting(configuration, "OTEL_TRACES_EXPORTER") ?? "otlp").Trim().ToLowerInvariant() switch
        {
            "otlp" => "otlp",
            "zipkin" => "zipkin",
            "none" => "none",
            string other => throw new ServerConfigurationException($"OTEL_TRACES_EXPORTER '{other}' is not an exporter this server has: use otlp, zipkin or none"),
        };
        TracesEndpoint = TracesExporter switch
        {
            "zipkin" => Setting(configuration, "OTEL_EXPORTER_ZIPKIN_ENDPOINT") ?? DefaultZipkinEndpoint,
            "otlp" => Setting(configuration, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? Setting(configuration, "OTEL_EXPORTER_OTLP_ENDPOINT"),
            _ => null,
        };
        if (TracesExporter == "zipkin" && !(Uri.TryCreate(TracesEndpoint, UriKind.Absolute, out Uri? zipkin) && zipkin.Scheme is "http" or "https"))
        {
            throw new ServerConfigurationException($"OTEL_EXPORTER_ZIPKIN_ENDPOINT '{TracesEndpoint}' is not an absolute http(s) URL (Zipkin's is http://host:9411/api/v2/spans)");
        }
        _ = PendingGauge;
        _ = SidecarUpGauge;
        Live[this] = services;
    }

    public string ServiceName { get; }

    public string? MetricsEndpoint { get; }

    /// <summary>Whether <see cref="MetricsPath"/> answers (<c>Atomic:Metrics:Prometheus</c>, true by default).</summary>
    public bool Prometheus { get; }

    public string? TracesEndpoint { get; }

    /// <summary><c>OTEL_TRACES_EXPORTER</c>: <c>otlp</c> (the default, on when an OTLP endpoint is set), <c>zipkin</c> or <c>none</c>.</summary>
    public string TracesExporter { get; }

    /// <summary>Where <c>dapr init</c>'s Zipkin listens, and so where daprd's own spans go by default.</summary>
    public const string DefaultZipkinEndpoint = "http://localhost:9411/api/v2/spans";

    /// <summary>One line for the start-up banner.</summary>
    public string Describe() =>
        (MetricsEndpoint is null && TracesEndpoint is null
            ? $"export off (set OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_TRACES_EXPORTER=zipkin); meter and activity source {Telemetry.Name}"
            : $"as {ServiceName}: metrics → {(MetricsEndpoint is null ? "off" : "OTLP " + MetricsEndpoint)}, traces → {(TracesEndpoint is null ? "off" : (TracesExporter == "zipkin" ? "Zipkin " : "OTLP ") + TracesEndpoint)}")
        + (Prometheus ? $"; Prometheus scrapes GET {MetricsPath}" : "");

    /// <summary>Reads <see cref="PrometheusKey"/>: true unless set to false.</summary>
    public static bool PrometheusEnabled(IConfiguration configuration) =>
        configuration[PrometheusKey] is not { Length: > 0 } text ? true
        : bool.TryParse(text, out bool on) ? on
        : throw new ServerConfigurationException($"{PrometheusKey} must be true or false, got '{text}'");

    /// <summary>Answers a scrape of <see cref="MetricsPath"/> with the Prometheus exporter (404 before start or when off).</summary>
    public Task ScrapeAsync(HttpContext context)
    {
        if (Volatile.Read(ref _scrape) is not RequestDelegate scrape)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return scrape(context);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        ResourceBuilder resource = ResourceBuilder.CreateDefault().AddService(ServiceName);
        if (MetricsEndpoint is not null || Prometheus)
        {
            // One provider, a reader per destination: the Prometheus exporter's pull reader and OTLP's periodic one.
            MeterProviderBuilder metrics = Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(resource)
                .AddMeter(Meters);
            if (Prometheus)
            {
                metrics = metrics.AddPrometheusExporter();
            }

            if (MetricsEndpoint is string endpoint)
            {
                metrics = metrics.AddOtlpExporter((exporter, reader) =>
                {
                    Configure(exporter, "METRICS", endpoint);
                    if (Milliseconds("OTEL_METRIC_EXPORT_INTERVAL") is int interval)
                    {
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval;
                    }
                });
            }

            _meterProvider = metrics.Build();
            if (Prometheus)
            {
                // The exporter's middleware needs the provider when its pipeline is built, and the provider is built
                // here, at start, after the routes were mapped: the route calls this branch, built once now.
                IApplicationBuilder branch = new ApplicationBuilder(_services);
                branch.UseOpenTelemetryPrometheusScrapingEndpoint(_meterProvider, _ => true, null, null, null);
                Volatile.Write(ref _scrape, branch.Build());
            }
        }

        if (TracesEndpoint is not null)
        {
            TracerProviderBuilder traces = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .AddSource(Sources);
            // OpenTelemetry .NET marks its Zipkin exporter obsolete (1.21.0) in favour of OTLP; kept because the Zipkin
            // that `dapr init` runs on 9411, where daprd's own spans go, reads only Zipkin's format.
#pragma warning disable CS0618
            traces = TracesExporter == "zipkin"
                ? traces.AddZipkinExporter(zipkin => zipkin.Endpoint = new Uri(TracesEndpoint))
                : traces.AddOtlpExporter(exporter => Configure(exporter, "TRACES", TracesEndpoint));
#pragma warning restore CS0618
            _tracerProvider = traces.Build();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _meterProvider?.ForceFlush(2000);
        _tracerProvider?.ForceFlush(2000);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _meterProvider?.Dispose();
        _tracerProvider?.Dispose();
        Live.TryRemove(this, out _);
    }

    private static IEnumerable<Measurement<int>> Observe()
    {
        foreach (IServiceProvider services in Live.Values)
        {
            IReadOnlyDictionary<string, IPubSub>? pubsubs;
            try
            {
                pubsubs = services.GetService<EmbeddedSidecarHost>()?.Components.PubSubs;
            }
            catch (ObjectDisposedException)
            {
                continue; // a host between disposing its services and this telemetry
            }

            foreach (Measurement<int> measurement in Pending(pubsubs))
            {
                yield return measurement;
            }
        }
    }

    /// <summary><c>atomic.sidecar.up</c>: the live servers' last sidecar probes (<see cref="SidecarHealth"/>), the lowest; none before a probe.</summary>
    private static IEnumerable<Measurement<int>> ObserveSidecar()
    {
        int? up = null;
        foreach (IServiceProvider services in Live.Values)
        {
            bool? probed;
            try
            {
                probed = services.GetService<SidecarHealth>()?.Up;
            }
            catch (ObjectDisposedException)
            {
                continue; // a host between disposing its services and this telemetry
            }

            if (probed is bool b)
            {
                up = Math.Min(up ?? 1, b ? 1 : 0);
            }
        }

        return up is int value ? [new Measurement<int>(value)] : [];
    }

    /// <summary>The embedded sidecar's durable pub/subs (none under a sidecar outside this process).</summary>
    private static IEnumerable<Measurement<int>> Pending(IReadOnlyDictionary<string, Atomic.Sidecar.Components.PubSub.IPubSub>? pubsubs)
    {
        foreach ((string name, Atomic.Sidecar.Components.PubSub.IPubSub pubsub) in pubsubs ?? new Dictionary<string, Atomic.Sidecar.Components.PubSub.IPubSub>())
        {
            if (pubsub is not DurablePubSub durable)
            {
                continue;
            }

            foreach (DurablePubSub.PendingDeliveries pending in durable.PendingCounts())
            {
                yield return new Measurement<int>(
                    pending.Count,
                    new KeyValuePair<string, object?>("pubsub", name),
                    new KeyValuePair<string, object?>("topic", pending.Topic),
                    new KeyValuePair<string, object?>("consumer", pending.Consumer));
            }
        }
    }

    /// <summary>
    /// The exporter reads the all-signal variables from the environment itself; without OpenTelemetry.Extensions.Hosting
    /// it ignores the per-signal ones, so those (endpoint, protocol, headers, and the metric export interval) are applied
    /// here from the configuration (which includes the environment), as the specification reads them.
    /// </summary>
    private void Configure(OtlpExporterOptions exporter, string signal, string endpoint)
    {
        string? protocol = Setting(_configuration, $"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL") ?? Setting(_configuration, "OTEL_EXPORTER_OTLP_PROTOCOL");
        if (protocol is not null)
        {
            exporter.Protocol = protocol.Trim().ToLowerInvariant() switch
            {
                "grpc" => OtlpExportProtocol.Grpc,
                "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
                _ => throw new ServerConfigurationException($"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL '{protocol}' is not grpc or http/protobuf"),
            };
        }

        bool signalSpecific = Setting(_configuration, $"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT") is not null;
        string path = signal == "METRICS" ? "v1/metrics" : "v1/traces";
        string url = !signalSpecific && exporter.Protocol == OtlpExportProtocol.HttpProtobuf
            ? endpoint.TrimEnd('/') + "/" + path // the base endpoint gets the signal's path appended for http/protobuf
            : endpoint;
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri))
        {
            throw new ServerConfigurationException($"the OTLP endpoint '{endpoint}' is not an absolute URL");
        }

        exporter.Endpoint = uri;
        if (Setting(_configuration, $"OTEL_EXPORTER_OTLP_{signal}_HEADERS") is string headers)
        {
            exporter.Headers = headers;
        }
    }

    /// <summary>A positive whole number of milliseconds from <paramref name="key"/>, or null when unset.</summary>
    private int? Milliseconds(string key) =>
        Setting(_configuration, key) is not string text ? null
        : int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) && value > 0 ? value
        : throw new ServerConfigurationException($"{key} must be a positive number of milliseconds, got '{text}'");

    private static string? Setting(IConfiguration configuration, string key) =>
        configuration[key] is { Length: > 0 } value ? value : Environment.GetEnvironmentVariable(key) is { Length: > 0 } env ? env : null;
}
