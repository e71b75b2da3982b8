using Atomic.Sidecar;
using Atomic.Sidecar.Hosting;

namespace Atomic.Server.Hosting;

/// <summary>Settings of the embedded sidecar (section <c>Atomic:Sidecar</c>), started when no sidecar is given.</summary>
public sealed class SidecarSettings
{
    public const string Section = "Atomic:Sidecar";

    /// <summary>Whether the server starts its own sidecar when none is given (no <c>DAPR_HTTP_PORT</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The HTTP API's port on 127.0.0.1; 0 picks a free one.</summary>
    public int HttpPort { get; set; } = SidecarOptions.DefaultHttpPort;

    /// <summary>The gRPC API's port on 127.0.0.1; 0 picks a free one.</summary>
    public int GrpcPort { get; set; } = SidecarOptions.DefaultGrpcPort;

    /// <summary>
    /// A Dapr Configuration file (daprd's <c>--config</c>, e.g. <c>components/atomic-config.yaml</c>) whose
    /// <c>spec.tracing</c> sends the sidecar's own spans to Zipkin or OTLP; relative to the base directory. None: no spans.
    /// </summary>
    public string? Config { get; set; }

    /// <summary>
    /// Whether the server and its embedded sidecar call each other in process rather than over loopback TCP: the
    /// sidecar's deliveries, actor turns and invocations of this app, and the server's actor proxies and its calls to its
    /// own routes (the dev chain as ARC and chain tracker). Both still listen on their ports for everyone else.
    /// </summary>
    public bool InProcess { get; set; } = true;
}

/// <summary>
/// The embedded sidecar in the server's own process: daprd's HTTP and gRPC APIs on loopback over the components in
/// <c>components/</c>, serving this app (its subscriptions and actors) exactly as daprd would, and any other Dapr app on
/// the machine. The APIs listen before the app serves; the sidecar then reads the app (<c>/dapr/subscribe</c>,
/// <c>/dapr/config</c>) once its port is open. Stopped after the app, so the last deliveries finish; a port already
/// taken stops start-up naming the key.
/// </summary>
internal sealed class EmbeddedSidecarHost(SidecarComponents components, ServerSettings settings, InProcessChannel? app, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private EmbeddedSidecar? _started;
    private Task _connect = Task.CompletedTask;
    private int _disposed;

    public SidecarComponents Components => components;

    /// <summary>
    /// A handler for the server's own clients: a request to the sidecar's HTTP or gRPC API or to the server's own address goes in
    /// process once that side has started (with <see cref="SidecarSettings.InProcess"/>), any other over the network.
    /// </summary>
    public HttpMessageHandler CreateClientHandler()
    {
        var network = new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false };
        if (app is null)
        {
            return network;
        }

        Uri sidecarHttp = settings.Dapr.HttpEndpoint;
        InProcessChannel? Sidecar() => _started?.HttpChannel is { IsStarted: true } channel ? channel : null;
        return new InProcessRoutes(network,
            (sidecarHttp, Sidecar),
            (new Uri($"http://{sidecarHttp.Host}:{settings.Dapr.GrpcPort}/"), Sidecar),
            (new Uri(settings.PublicUrl), () => app.IsStarted ? app : null));
    }

    /// <summary>The running sidecar's addresses, for the banner; null before it listens.</summary>
    public (Uri Http, Uri Grpc)? Addresses => _started is null ? null : (_started.HttpAddress, _started.GrpcAddress);

    /// <summary>Whether the sidecar has read the app (subscriptions delivering, actor types placed).</summary>
    public bool Connected => _connect.IsCompletedSuccessfully && _started is not null;

    /// <summary>
    /// Where the embedded sidecar will listen: the configured ports, or for each 0 one the system picks now and this
    /// process holds until the sidecar listens on it (<see cref="LoopbackPorts"/>), so the SDK clients can be pointed at
    /// it before the host is built and no other process can take it meanwhile.
    /// </summary>
    public static DaprOptions Plan(SidecarSettings sidecar, string? apiToken)
    {
        int http = sidecar.HttpPort == 0 ? LoopbackPorts.Reserve() : sidecar.HttpPort;
        int grpc = sidecar.GrpcPort == 0 ? LoopbackPorts.Reserve() : sidecar.GrpcPort;
        return new DaprOptions
        {
            HttpEndpoint = new Uri($"http://127.0.0.1:{http}/"),
            GrpcPort = grpc,
            ApiToken = string.IsNullOrEmpty(apiToken) ? null : apiToken,
        };
    }

    /// <summary>The settings the SDK clients read (<c>DAPR_HTTP_ENDPOINT</c>, <c>DAPR_GRPC_ENDPOINT</c>), pointing at this sidecar.</summary>
    public static Dictionary<string, string?> ClientSettings(DaprOptions dapr) => new()
    {
        ["DAPR_HTTP_ENDPOINT"] = dapr.HttpEndpoint.AbsoluteUri.TrimEnd('/'),
        ["DAPR_GRPC_ENDPOINT"] = $"http://127.0.0.1:{dapr.GrpcPort}",
        ["DAPR_HTTP_PORT"] = dapr.HttpEndpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["DAPR_GRPC_PORT"] = dapr.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = new SidecarOptions
        {
            AppId = settings.AppId,
            AppAddress = new Uri(settings.PublicUrl),
            HttpPort = settings.Dapr.HttpEndpoint.Port,
            GrpcPort = settings.Dapr.GrpcPort,
            ResourcesPath = settings.ComponentsDirectory,
            BaseDirectory = settings.BaseDirectory,
            ApiToken = settings.Dapr.ApiToken,
            ConfigFile = settings.Sidecar.Config,
            AppChannel = app,
        };
        try
        {
            _started = await EmbeddedSidecar.ListenAsync(options, components, loggers, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new ServerConfigurationException(
                $"the embedded sidecar cannot listen on 127.0.0.1:{options.HttpPort} (HTTP) and 127.0.0.1:{options.GrpcPort} (gRPC): {e.Message}; "
                + $"set {SidecarSettings.Section}:HttpPort and :GrpcPort (0 picks free ports), or run under a sidecar of your own (DAPR_HTTP_PORT)");
        }

        // The app's port opens once every hosted service has started: the sidecar waits for it, then reads the app.
        EmbeddedSidecar started = _started;
        ILogger logger = loggers.CreateLogger<EmbeddedSidecarHost>();
        _connect = Task.Run(async () =>
        {
            try
            {
                await started.ConnectAppAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "the embedded sidecar could not read the app at {App}", options.AppAddress);
                throw;
            }
        });
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _connect.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // logged where it happened
        }

        if (_started is not null)
        {
            await _started.DisposeAsync().ConfigureAwait(false);
            _started = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_started is not null)
        {
            await _started.DisposeAsync().ConfigureAwait(false);
        }

        await components.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
