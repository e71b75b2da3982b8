using System.Collections.Concurrent;
using System.Text.Json;
using Atomic.Sidecar.Components;
using Atomic.Sidecar.AppChannel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Http;

/// <summary>The metadata and health APIs (reference/api/metadata_api.md, health_api.md).</summary>
internal static class MetadataApi
{
    public static IEndpointRouteBuilder MapMetadataApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1.0/metadata", GetMetadataAsync);
        routes.MapPut("/v1.0/metadata/{key}", SetMetadataAsync);
        routes.MapGet("/v1.0/healthz", () => Results.NoContent());
        routes.MapGet("/v1.0/healthz/outbound", () => Results.NoContent()); // the components are built before the APIs listen
        return routes;
    }

    private static async Task GetMetadataAsync(HttpContext context)
    {
        SidecarMetadata metadata = context.RequestServices.GetRequiredService<SidecarMetadata>();
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(metadata.Describe()), context.RequestAborted);
    }

    private static async Task SetMetadataAsync(HttpContext context, string key)
    {
        SidecarMetadata metadata = context.RequestServices.GetRequiredService<SidecarMetadata>();
        metadata.Extended[key] = System.Text.Encoding.UTF8.GetString(await DaprHttp.ReadBodyAsync(context));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}

/// <summary>What the sidecar says of itself: the app, the components, the subscriptions and the attributes set by the app.</summary>
public sealed class SidecarMetadata(
    SidecarOptions options, SidecarComponents components, Func<IReadOnlyList<SubscriptionInfo>> subscriptions, Func<Actors.ActorRuntime> actors)
{
    /// <summary>The runtime version the sidecar reports (the daprd API it follows).</summary>
    public const string RuntimeVersion = "1.16.0-atomic";

    /// <summary>Attributes set with <c>PUT /v1.0/metadata/{key}</c> (daprd's <c>extended</c>).</summary>
    public ConcurrentDictionary<string, string> Extended { get; } = new(StringComparer.Ordinal);

    public SidecarOptions Options => options;

    public IReadOnlyList<ComponentDefinition> Components => components.Definitions;

    public IReadOnlyList<SubscriptionInfo> Subscriptions => subscriptions();

    /// <summary>The actor runtime: its status and each registered type's active actors.</summary>
    public Actors.ActorRuntime Actors => actors();

    /// <summary>The body of <c>GET /v1.0/metadata</c>.</summary>
    public object Describe() => new Dictionary<string, object?>
    {
        ["id"] = options.AppId,
        ["runtimeVersion"] = RuntimeVersion,
        ["enabledFeatures"] = Array.Empty<string>(),
        ["actors"] = Actors.ActiveActors.Select(a => new Dictionary<string, object> { ["type"] = a.Type, ["count"] = a.Count }).ToList(),
        ["actorRuntime"] = new Dictionary<string, object>
        {
            ["runtimeStatus"] = Actors.RuntimeStatus,
            ["activeActors"] = Actors.ActiveActors.Select(a => new Dictionary<string, object> { ["type"] = a.Type, ["count"] = a.Count }).ToList(),
            ["hostReady"] = Actors.HostReady,
            ["placement"] = "placement: this process",
        },
        ["components"] = components.Definitions.Select(c => new Dictionary<string, object>
        {
            ["name"] = c.Name,
            ["type"] = c.Type,
            ["version"] = c.Version,
            ["capabilities"] = Capabilities(c.Type),
        }).ToList(),
        ["httpEndpoints"] = Array.Empty<object>(),
        ["subscriptions"] = Subscriptions.Select(s => new Dictionary<string, object?>
        {
            ["pubsubname"] = s.PubSubName,
            ["topic"] = s.Topic,
            ["metadata"] = s.Metadata,
            ["rules"] = s.Rules.Select(r => new Dictionary<string, string> { ["match"] = r.Match, ["path"] = r.Path })
                .Append(new Dictionary<string, string> { ["match"] = string.Empty, ["path"] = s.Route }).ToList(),
            ["deadLetterTopic"] = s.DeadLetterTopic ?? string.Empty,
            ["type"] = s.Type,
        }).ToList(),
        ["extended"] = new Dictionary<string, string>(Extended),
        ["appConnectionProperties"] = AppConnection(),
    };

    /// <summary>daprd's <c>appConnectionProperties</c>; <c>health</c> only when app health checks are on, its durations in Go's form.</summary>
    private Dictionary<string, object?> AppConnection()
    {
        var properties = new Dictionary<string, object?>
        {
            ["port"] = options.AppAddress?.Port ?? 0,
            ["protocol"] = "http",
            ["channelAddress"] = options.AppAddress?.Host ?? string.Empty,
        };
        if (options.EnableAppHealthCheck && options.AppAddress is not null)
        {
            properties["health"] = new Dictionary<string, object>
            {
                ["healthCheckPath"] = options.AppHealthCheckPath,
                ["healthProbeInterval"] = GoDuration(options.AppHealthProbeInterval),
                ["healthProbeTimeout"] = GoDuration(options.AppHealthProbeTimeout),
                ["healthThreshold"] = options.AppHealthThreshold,
            };
        }

        return properties;
    }

    /// <summary>A duration as Go prints one: <c>500ms</c>, <c>5s</c>, <c>1m30s</c>.</summary>
    internal static string GoDuration(TimeSpan span)
    {
        if (span < TimeSpan.FromSeconds(1))
        {
            return span.TotalMilliseconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "ms";
        }

        string text = string.Empty;
        if (span.TotalHours >= 1)
        {
            text += (int)span.TotalHours + "h";
        }

        if (span.TotalMinutes >= 1)
        {
            text += span.Minutes + "m";
        }

        double seconds = span.Seconds + (span.Milliseconds / 1000.0);
        return text + seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "s";
    }

    private static string[] Capabilities(string type) => type.StartsWith("state.", StringComparison.Ordinal)
        ? ["ETAG", "TRANSACTIONAL", "TTL"]
        : type.StartsWith("pubsub.", StringComparison.Ordinal) ? ["BULK_PUBLISH"] : [];
}
