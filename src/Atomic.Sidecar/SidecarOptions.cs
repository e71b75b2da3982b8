namespace Atomic.Sidecar;

/// <summary>
/// How one embedded sidecar runs: daprd's flags for one machine (<c>--app-id</c>, <c>--app-port</c>,
/// <c>--dapr-http-port</c>, <c>--dapr-grpc-port</c>, <c>--resources-path</c>, the app health check flags) and its two tokens.
/// </summary>
public sealed record SidecarOptions
{
    /// <summary>daprd's default HTTP API port.</summary>
    public const int DefaultHttpPort = 3500;

    /// <summary>daprd's default gRPC API port.</summary>
    public const int DefaultGrpcPort = 50001;

    /// <summary>The app this sidecar serves (<c>--app-id</c>).</summary>
    public string AppId { get; init; } = "app";

    /// <summary>Where the app listens (<c>--app-port</c> on <c>--app-channel-address</c>); null for an app with no callbacks.</summary>
    public Uri? AppAddress { get; init; }

    /// <summary>The loopback address both APIs listen on.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>The HTTP API's port; 0 picks a free one (see <see cref="EmbeddedSidecar.HttpAddress"/>).</summary>
    public int HttpPort { get; init; } = DefaultHttpPort;

    /// <summary>The gRPC API's port (cleartext HTTP/2); 0 picks a free one (see <see cref="EmbeddedSidecar.GrpcAddress"/>).</summary>
    public int GrpcPort { get; init; } = DefaultGrpcPort;

    /// <summary>The Dapr resources (component YAML) folder (<c>--resources-path</c>).</summary>
    public string ResourcesPath { get; init; } = "components";

    /// <summary>Where relative paths in the components (SQLite files) resolve; the resources folder's parent when null.</summary>
    public string? BaseDirectory { get; init; }

    /// <summary>When set, every API call must carry it as <c>dapr-api-token</c> (daprd's <c>DAPR_API_TOKEN</c>).</summary>
    public string? ApiToken { get; init; }

    /// <summary>When set, sent as <c>dapr-api-token</c> on every call to the app (daprd's <c>APP_API_TOKEN</c>).</summary>
    public string? AppApiToken { get; init; }

    /// <summary>
    /// The Configuration the sidecar runs with (daprd's <c>--config</c>, a run template's <c>configFilePath</c>): its
    /// <c>spec.tracing</c> decides whether the sidecar makes spans and where they go. None: no spans of its own.
    /// </summary>
    public string? ConfigFile { get; init; }

    /// <summary>
    /// Deliveries of one subscription in flight to the app at once. daprd hands each message of an in-memory pub/sub to
    /// the app as it comes (bounded only by <c>--app-max-concurrency</c>); this bounds it so a backlog read after a
    /// restart does not open thousands of requests at once.
    /// </summary>
    public int MaxConcurrentDeliveries { get; init; } = 64;

    /// <summary>The largest request body the APIs read (daprd's <c>--max-body-size</c>, 4 MiB by default).</summary>
    public int MaxRequestBodyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// How long the sidecar waits, once its APIs listen, for the app's port to accept connections before it reads the
    /// app's subscriptions and actor types (daprd waits for the app port too); past it, it goes on without them.
    /// </summary>
    public TimeSpan AppReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Whether the sidecar probes the app's health (daprd's <c>--enable-app-health-check</c>): while the app is
    /// unhealthy, deliveries wait (their events stay kept) and invocations of the app are refused.
    /// </summary>
    public bool EnableAppHealthCheck { get; init; }

    /// <summary>The path probed with <c>GET</c> (<c>--app-health-check-path</c>); a 2xx answer is healthy.</summary>
    public string AppHealthCheckPath { get; init; } = "/healthz";

    /// <summary>The time between probes (<c>--app-health-probe-interval</c>, 5 s).</summary>
    public TimeSpan AppHealthProbeInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one probe may take (<c>--app-health-probe-timeout</c>, 500 ms).</summary>
    public TimeSpan AppHealthProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The failed probes in a row that make the app unhealthy (<c>--app-health-threshold</c>, 3); one success makes it healthy.</summary>
    public int AppHealthThreshold { get; init; } = 3;

    /// <summary>
    /// A way to the app inside this process (an <see cref="Hosting.InProcessChannel"/> of the app's host), when the app
    /// runs in the sidecar's own process: calls to the app (deliveries, actor turns, invocations, health probes) then go
    /// through it rather than over loopback TCP to <see cref="AppAddress"/>, which still names the app and is still
    /// waited for at start. Null: every call goes over TCP, as daprd's do.
    /// </summary>
    public Hosting.InProcessChannel? AppChannel { get; init; }

    /// <summary>The other sidecars of this machine, reached by app id for service invocation (null: only this app).</summary>
    public SidecarNetwork? Network { get; init; }

    /// <summary>The clock TTLs and redeliveries are measured by.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// A client over <paramref name="network"/> for the sidecar's calls that may reach its own app: those go through
    /// <see cref="AppChannel"/> when the app shares the process. No timeout of its own (per call, through a token).
    /// </summary>
    internal HttpClient CreateAppClient(HttpMessageHandler network)
    {
        HttpMessageHandler handler = AppChannel is { } channel && AppAddress is Uri app
            ? new Hosting.InProcessRoutes(network, (app, () => channel))
            : network;
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The resources folder as an absolute path.</summary>
    internal string ResourcesDirectory => Path.GetFullPath(ResourcesPath);

    /// <summary>The base directory as an absolute path.</summary>
    internal string BaseDirectoryPath => BaseDirectory is { Length: > 0 } b ? Path.GetFullPath(b) : Path.GetDirectoryName(ResourcesDirectory) ?? ResourcesDirectory;
}
