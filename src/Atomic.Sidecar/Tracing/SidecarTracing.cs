using System.Diagnostics;
using System.Globalization;
using Atomic.Sidecar.Components;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Atomic.Sidecar.Tracing;

/// <summary>
/// The sidecar's own spans, as the <c>kind: Configuration</c> it runs with (daprd's <c>--config</c>) asks for them in
/// <c>spec.tracing</c>: one span per API
/// call (HTTP or gRPC) and per delivery to the app, each joined to the caller's or the publisher's W3C trace context,
/// sampled at <c>samplingRate</c> and exported to Zipkin (<c>zipkin.endpointAddress</c>) or over OTLP
/// (<c>otel.endpointAddress</c>, <c>otel.protocol</c> http or grpc, <c>otel.isSecure</c>). Without a Configuration, or
/// with a rate of 0, no span is made and traces only pass through (the trace context still travels with events).
/// </summary>
public sealed class SidecarTracing : IDisposable
{
    private static int _instances;

    private readonly TracerProvider? _provider;

    private SidecarTracing(TracingSpec spec, string appId)
    {
        Spec = spec;

        // One source per sidecar: the sidecars of one `atomic sidecar run` share the process, and each exports its own.
        Source = new ActivitySource($"Atomic.Sidecar.{appId}.{Interlocked.Increment(ref _instances)}");
        if (spec.SamplingRate <= 0 || (spec.Zipkin is null && spec.Otlp is null))
        {
            return;
        }

        TracerProviderBuilder builder = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(appId))
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(spec.SamplingRate)))
            .AddSource(Source.Name);

        // OpenTelemetry .NET marks its Zipkin exporter obsolete (1.21.0); daprd's Configuration still names Zipkin.
#pragma warning disable CS0618
        if (spec.Zipkin is Uri zipkin)
        {
            builder.AddZipkinExporter(o => o.Endpoint = zipkin);
        }
#pragma warning restore CS0618

        if (spec.Otlp is Uri otlp)
        {
            builder.AddOtlpExporter(o =>
            {
                o.Endpoint = otlp;
                o.Protocol = spec.OtlpHttp ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            });
        }

        _provider = builder.Build();
    }

    /// <summary>What the Configuration says, or <see cref="TracingSpec.Off"/>.</summary>
    public TracingSpec Spec { get; }

    internal ActivitySource Source { get; }

    /// <summary>Reads <see cref="SidecarOptions.ConfigFile"/>; a Configuration it cannot use throws <see cref="ComponentException"/> naming the file and field.</summary>
    public static SidecarTracing Load(SidecarOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SidecarTracing(options.ConfigFile is { Length: > 0 } file ? Read(Path.GetFullPath(file, options.BaseDirectoryPath)) : TracingSpec.Off, options.AppId);
    }

    /// <summary>
    /// A span for one API call or delivery, child of <paramref name="traceParent"/> (a W3C <c>traceparent</c>) when it is
    /// one; null when nothing is sampled or exported.
    /// </summary>
    internal Activity? Start(string name, ActivityKind kind, string? traceParent, string? traceState = null) =>
        _provider is null ? null
        : ActivityContext.TryParse(traceParent, traceState, out ActivityContext parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind, parentContext: default);

    /// <summary>The <c>traceparent</c> of <paramref name="span"/>, to send on.</summary>
    internal static string TraceParent(Activity span) =>
        $"00-{span.TraceId.ToHexString()}-{span.SpanId.ToHexString()}-{(span.Recorded ? "01" : "00")}";

    /// <summary>Exports what is left.</summary>
    public void Dispose()
    {
        _provider?.ForceFlush(5000);
        _provider?.Dispose();
        Source.Dispose();
    }

    /// <summary>The <c>kind: Configuration</c> in <paramref name="file"/> (the first, if it holds several documents).</summary>
    internal static TracingSpec Read(string file)
    {
        if (!File.Exists(file))
        {
            throw new ComponentException(file, "(file)", "the Configuration file does not exist");
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(file)));
        }
        catch (YamlException e)
        {
            throw new ComponentException(file, $"line {e.Start.Line}", $"not valid YAML: {e.Message}");
        }

        foreach (YamlDocument document in stream.Documents)
        {
            if (document.RootNode is YamlMappingNode root && Scalar(root, "kind") == "Configuration")
            {
                return Child(Child(root, "spec"), "tracing") is YamlMappingNode tracing ? Parse(tracing, file) : TracingSpec.Off;
            }
        }

        throw new ComponentException(file, "kind", "holds no kind: Configuration");
    }

    private static TracingSpec Parse(YamlMappingNode tracing, string file)
    {
        double rate = 0;
        if (Scalar(tracing, "samplingRate") is string text
            && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out rate) || rate < 0 || rate > 1))
        {
            throw new ComponentException(file, "spec.tracing.samplingRate", $"'{text}' is not a rate from 0 to 1");
        }

        Uri? zipkin = Url(Scalar(Child(tracing, "zipkin"), "endpointAddress"), file, "spec.tracing.zipkin.endpointAddress", null);
        YamlNode? otel = Child(tracing, "otel");
        string? protocol = Scalar(otel, "protocol");
        if (protocol is not (null or "http" or "grpc"))
        {
            throw new ComponentException(file, "spec.tracing.otel.protocol", $"'{protocol}' is not http or grpc");
        }

        bool secure = Scalar(otel, "isSecure") is "true";
        Uri? otlp = Url(Scalar(otel, "endpointAddress"), file, "spec.tracing.otel.endpointAddress", secure ? "https" : "http");
        if (otlp is not null && protocol is null or "http" && !otlp.AbsolutePath.EndsWith("/v1/traces", StringComparison.Ordinal))
        {
            otlp = new Uri(otlp, "v1/traces"); // daprd's otel endpoint is host:port; OTLP/HTTP posts to /v1/traces
        }

        return new TracingSpec(rate, zipkin, otlp, protocol is null or "http");
    }

    /// <summary>An absolute http(s) URL, or <c>host:port</c> given a scheme.</summary>
    private static Uri? Url(string? value, string file, string field, string? scheme)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        string text = scheme is not null && !value.Contains("://", StringComparison.Ordinal) ? $"{scheme}://{value}" : value;
        return Uri.TryCreate(text, UriKind.Absolute, out Uri? url) && url.Scheme is "http" or "https"
            ? url
            : throw new ComponentException(file, field, $"'{value}' is not an http(s) address");
    }

    private static YamlNode? Child(YamlNode? node, string name) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(name), out YamlNode? child) ? child : null;

    private static string? Scalar(YamlNode? node, string name) => (Child(node, name) as YamlScalarNode)?.Value;
}

/// <summary>A Configuration's <c>spec.tracing</c>: the sampling rate and where spans go.</summary>
public sealed record TracingSpec(double SamplingRate, Uri? Zipkin, Uri? Otlp, bool OtlpHttp)
{
    public static readonly TracingSpec Off = new(0, null, null, true);
}
