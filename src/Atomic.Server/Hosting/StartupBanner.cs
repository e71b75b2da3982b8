using System.Text;
using Atomic.DevChain.Chain;
using Atomic.Sidecar.Components;
using Atomic.Services.Broadcaster;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Atomic.Server.Hosting;

/// <summary>
/// What is where, said once the server listens: its URL, each route group, the runtime and every component with
/// where its data lives, the chain tracker and the broadcast endpoints. One structured log event carries it all;
/// a readable block goes to standard output too, unless the console logs are JSON.
/// </summary>
internal sealed class StartupBanner(
    ServerSettings settings,
    IReadOnlyList<ComponentDefinition> components,
    EndpointDataSource endpoints,
    IServer server,
    BroadcasterOptions broadcaster,
    IOptions<DevChainOptions> devChain,
    ServerTelemetry telemetry,
    IHostEnvironment environment,
    IConfiguration configuration,
    IServiceProvider services,
    ILogger<StartupBanner> logger)
{
    /// <summary>The embedded sidecar's two APIs, or why there is none.</summary>
    public string SidecarText => settings.IsDapr
        ? $"given: HTTP {settings.Dapr.HttpEndpoint}, gRPC port {settings.Dapr.GrpcPort} (daprd or 'atomic sidecar'; it reads its own components)"
        : services.GetService<EmbeddedSidecarHost>()?.Addresses is (Uri http, Uri grpc)
            ? $"embedded: HTTP {http}, gRPC {grpc}"
            : "embedded: not listening";

    public string Url => server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? settings.PublicUrl;

    /// <summary>The app's building blocks: always the Dapr SDK, against whichever sidecar serves it.</summary>
    public string RuntimeText => $"Dapr SDK, components {Names.StateStore}, {Names.TxStore} (outbox → {Names.PubSub}/{Names.Topics.BeefSubmitted}), {Names.PubSub}";

    public void Announce()
    {
        List<(string Group, string Route)> routes = Routes();
        string[] componentLines = components.Select(Describe).ToArray();
        string tracker = string.IsNullOrEmpty(settings.ChainTracker.Kind) ? $"none ({settings.Role.Name} verifies nothing)" : ChainTrackers.Describe(settings.ChainTracker);
        string[] broadcast = broadcaster.Endpoints.Select(e => e.Url).ToArray();
        string callbacks = string.IsNullOrEmpty(broadcaster.CallbackUrl) ? "off (polling only)" : broadcaster.CallbackUrl;
        logger.LogInformation(
            "Atomic server listening on {Url} ({Environment}): runtime {Runtime} (app id {AppId}), sidecar {Sidecar}, dev chain {DevChain}, chain tracker {ChainTracker}, broadcast to {BroadcastEndpoints} with callbacks {CallbackUrl}, telemetry {Telemetry}",
            Url, environment.EnvironmentName, RuntimeText, settings.AppId, SidecarText,
            settings.DevChain ? $"on at {ServerSettings.DevChainPrefix}, data {devChain.Value.DataPath}" : "off",
            tracker, broadcast, callbacks, telemetry.Describe());
        if (!settings.IsDapr)
        {
            logger.LogInformation("Components from {ComponentsFolder}: {Components}", settings.ComponentsDirectory, components.Select(c => $"{c.Name} ({c.Type}: {Where(c)})").ToArray());
        }

        logger.LogInformation("Routes: {Routes}", routes.Select(r => r.Route).ToArray());

        if (string.Equals(configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase))
        {
            return; // standard output stays one JSON object per line
        }

        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine($"Atomic server on {Url}  ({environment.EnvironmentName}, app {settings.Role.Name}, app id {settings.AppId})");
        text.AppendLine($"runtime     {RuntimeText}");
        text.AppendLine($"sidecar     {SidecarText}");
        text.AppendLine("routes");
        foreach (IGrouping<string, (string Group, string Route)> group in routes.GroupBy(r => r.Group))
        {
            text.AppendLine($"  {group.Key,-34} {string.Join(", ", group.Select(r => r.Route))}");
        }

        if (!settings.IsDapr)
        {
            text.AppendLine($"components  {settings.ComponentsDirectory}");
            foreach (string line in componentLines)
            {
                text.AppendLine($"  {line}");
            }
        }

        text.AppendLine($"dev chain   {(settings.DevChain ? $"on at {Url.TrimEnd('/')}{ServerSettings.DevChainPrefix}, data {devChain.Value.DataPath}" : "off")}");
        text.AppendLine($"chain       {tracker}");
        text.AppendLine($"broadcast   {(broadcast.Length == 0 ? "no ARC endpoint configured (Atomic:Broadcaster:Endpoints): transactions stay verified" : string.Join(", ", broadcast))}");
        text.AppendLine($"callbacks   {callbacks}");
        text.AppendLine($"telemetry   {telemetry.Describe()}");
        Console.Out.Write(text.ToString());
        Console.Out.Flush();
    }

    private List<(string Group, string Route)> Routes()
    {
        var list = new List<(string Group, string Route)>();
        foreach (RouteEndpoint endpoint in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            string path = "/" + (endpoint.RoutePattern.RawText ?? string.Empty).TrimStart('/');
            string methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? string.Join("|", m) : "ANY";
            list.Add((GroupOf(path), $"{methods} {path}"));
        }

        return list.OrderBy(r => Order(r.Group)).ThenBy(r => r.Group, StringComparer.Ordinal).ToList();
    }

    private static string GroupOf(string path) => path switch
    {
        "/healthz" or "/readyz" => "health",
        _ when path.StartsWith("/dapr/", StringComparison.Ordinal) || path.StartsWith("/actors/", StringComparison.Ordinal) => "Dapr callbacks",
        ArcCallbackApi.Route => "ARC callbacks",
        _ when path.StartsWith(ServerSettings.DevChainPrefix + "/api/", StringComparison.Ordinal) => "dev chain: Block Headers Service",
        _ when path.StartsWith(ServerSettings.DevChainPrefix + "/v1/faucet", StringComparison.Ordinal) || path.StartsWith(ServerSettings.DevChainPrefix + "/v1/mine", StringComparison.Ordinal) => "dev chain: faucet and mining",
        _ when path.StartsWith(ServerSettings.DevChainPrefix + "/", StringComparison.Ordinal) => "dev chain: ARC",
        _ when path.StartsWith("/v1/beef", StringComparison.Ordinal) || path.StartsWith("/v1/tx", StringComparison.Ordinal) => "gateway",
        _ when path.StartsWith("/v1/sessions", StringComparison.Ordinal) => "sessions",
        _ when path.Contains("basket", StringComparison.OrdinalIgnoreCase) => "baskets",
        _ => "overlay",
    };

    private static int Order(string group) => group switch
    {
        "gateway" => 0,
        "overlay" => 1,
        "baskets" => 2,
        "sessions" => 3,
        "ARC callbacks" => 4,
        "Dapr callbacks" => 8,
        "health" => 9,
        _ => 5,
    };

    private string Describe(ComponentDefinition component) => $"{component.Name,-12} {component.Type,-18} {Where(component)}";

    private string Where(ComponentDefinition component)
    {
        string where = component.Type switch
        {
            "state.sqlite" => $"{SqlitePath(component.Get("connectionString") ?? string.Empty)}, table {component.Get("tableName", "state")}",
            "state.postgresql" => $"{Postgres(component.Get("connectionString") ?? string.Empty)}, table {component.Get("tableName", "state")}",
            "state.in-memory" => "memory (lost at exit)",
            "pubsub.in-memory" => $"events kept in {component.Get("stateStore") ?? "the actor state store"}",
            _ => component.Type,
        };
        var notes = new List<string>();
        if (string.Equals(component.Get("actorStateStore"), "true", StringComparison.OrdinalIgnoreCase))
        {
            notes.Add("actor state store");
        }

        if (component.Get("outboxPublishPubsub") is string pubsub)
        {
            notes.Add($"outbox → {pubsub}/{component.Get("outboxPublishTopic")}");
        }

        return notes.Count == 0 ? where : $"{where} ({string.Join(", ", notes)})";
    }

    private string SqlitePath(string value)
    {
        if (!value.StartsWith("file:", StringComparison.Ordinal) && value.Contains('=', StringComparison.Ordinal))
        {
            return value;
        }

        string path = value.StartsWith("file:", StringComparison.Ordinal) ? value[5..].Split('?')[0] : value;
        return path == ":memory:" ? "memory" : Path.GetFullPath(path, settings.BaseDirectory);
    }

    private static string Postgres(string value)
    {
        if (value.StartsWith("postgres", StringComparison.Ordinal) && Uri.TryCreate(value, UriKind.Absolute, out Uri? url))
        {
            return $"postgresql://{url.Host}:{(url.IsDefaultPort || url.Port < 0 ? 5432 : url.Port)}{url.AbsolutePath}";
        }

        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(value.Contains(';', StringComparison.Ordinal) ? value : string.Empty);
            if (builder.Host is null)
            {
                // libpq form: show host, port and database, never the password.
                Dictionary<string, string> pairs = value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].ToLowerInvariant(), p => p[1]);
                return $"postgresql://{pairs.GetValueOrDefault("host", "?")}:{pairs.GetValueOrDefault("port", "5432")}/{pairs.GetValueOrDefault("dbname") ?? pairs.GetValueOrDefault("database", "?")}";
            }

            return $"postgresql://{builder.Host}:{builder.Port}/{builder.Database}";
        }
        catch (ArgumentException)
        {
            return "postgresql";
        }
    }
}
