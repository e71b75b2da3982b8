using System.Net;
using Atomic.Sidecar.AppChannel;
using Atomic.Sidecar.Grpc;
using Atomic.Sidecar.Http;
using Atomic.Sidecar.PubSub;
using Atomic.Sidecar.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar;

/// <summary>
/// A daprd for one machine: Dapr's HTTP API (port 3500) and gRPC API (port 50001) on loopback, over the components of a
/// resources folder, calling the app as daprd does (its subscriptions, deliveries). Apps written with the official
/// Dapr SDKs run against it unchanged.
/// </summary>
public sealed class EmbeddedSidecar : IAsyncDisposable
{
    /// <summary>The building blocks beyond state and pub/sub, in start order.</summary>
    private static readonly ISidecarFeature[] Features = [new Invoke.InvokeFeature(), new Actors.ActorsFeature(), new Workflow.WorkflowFeature()];

    private readonly WebApplication _host;
    private readonly SidecarComponents? _ownedComponents;
    private readonly AppChannel.AppChannel _channel;

    private readonly SidecarOptions _options;
    private int _connected;

    private EmbeddedSidecar(WebApplication host, SidecarComponents? ownedComponents, AppChannel.AppChannel channel, Uri http, Uri grpc, SidecarOptions options)
    {
        _options = options;
        _host = host;
        _ownedComponents = ownedComponents;
        _channel = channel;
        HttpAddress = http;
        GrpcAddress = grpc;
    }

    /// <summary>The HTTP API's base address (<c>http://127.0.0.1:3500/</c> by default).</summary>
    public Uri HttpAddress { get; }

    /// <summary>The gRPC API's address (<c>http://127.0.0.1:50001/</c> by default), cleartext HTTP/2.</summary>
    public Uri GrpcAddress { get; }

    /// <summary>
    /// The HTTP API for callers in this process, without a socket: an app hosted beside the sidecar can give it to the
    /// SDK clients (<c>new ActorProxyFactory(options, sidecar.HttpChannel)</c>, <c>DaprClientBuilder.UseHttpClientFactory</c>).
    /// </summary>
    public Hosting.InProcessChannel HttpChannel { get; private init; } = null!;

    /// <summary>The app's subscriptions, as read at start-up.</summary>
    public IReadOnlyList<SubscriptionInfo> Subscriptions => _channel.Subscriptions;

    /// <summary>The components the sidecar serves.</summary>
    public SidecarComponents Components { get; private init; } = null!;

    /// <summary>
    /// Builds the components, starts both APIs and then the app channel (the app's subscriptions, read from
    /// <c>GET /dapr/subscribe</c> and the resources folder). Fails, naming the file and field, on a component it cannot use.
    /// </summary>
    public static Task<EmbeddedSidecar> StartAsync(SidecarOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default) =>
        StartAsync(options, sharedComponents: null, loggerFactory, cancellationToken);

    /// <summary>
    /// Starts a sidecar over <paramref name="sharedComponents"/> when given (several sidecars of one process share one
    /// pub/sub and one actor state store, and the caller disposes them), else over its own resources folder:
    /// <see cref="ListenAsync"/>, then <see cref="ConnectAppAsync"/>.
    /// </summary>
    public static async Task<EmbeddedSidecar> StartAsync(SidecarOptions options, SidecarComponents? sharedComponents, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        EmbeddedSidecar sidecar = await ListenAsync(options, sharedComponents, loggerFactory, cancellationToken).ConfigureAwait(false);
        try
        {
            await sidecar.ConnectAppAsync(cancellationToken).ConfigureAwait(false);
            return sidecar;
        }
        catch
        {
            await sidecar.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The first half of a start: builds the components and makes both APIs listen, so an app started next finds its
    /// sidecar at once; the app is read by <see cref="ConnectAppAsync"/>.
    /// </summary>
    public static async Task<EmbeddedSidecar> ListenAsync(SidecarOptions options, SidecarComponents? sharedComponents, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        bool owned = sharedComponents is null;
        Resiliency.SidecarResiliency resiliency = Resiliency.SidecarResiliency.Load(options); // a bad Resiliency resource stops start-up
        Tracing.SidecarTracing tracing = Tracing.SidecarTracing.Load(options); // so does a bad Configuration
        SidecarComponents components;
        try
        {
            components = sharedComponents ?? await SidecarComponents.LoadAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            tracing.Dispose();
            throw;
        }

        WebApplication? host = null;
        try
        {
            // No watch of configuration files: the default one watches the whole working directory, data/ included, and
            // woke on every write of a state store there. This host is configured in code.
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
            IPAddress address = IPAddress.Parse(options.ListenAddress);
            ListenOptions? http = null;
            ListenOptions? grpc = null;
            // A port reserved for this sidecar (LoopbackPorts) is already bound: the listener takes that socket over.
            builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = endpoint =>
                Hosting.LoopbackPorts.Take(endpoint) ?? SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint));
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
                kestrel.AddServerHeader = false;
                kestrel.Listen(address, options.HttpPort, l => (http = l).Protocols = HttpProtocols.Http1);
                kestrel.Listen(address, options.GrpcPort, l => (grpc = l).Protocols = HttpProtocols.Http2); // h2c, prior knowledge
            });
            builder.Logging.ClearProviders();
            Hosting.InProcessChannel channelIn = Hosting.InProcessChannel.AddTo(builder.Services);
            if (loggerFactory is not null)
            {
                builder.Services.AddSingleton(loggerFactory);
            }

            builder.Services.AddSingleton(_ => tracing); // created by a factory: the host disposes it, exporting what is left
            builder.Services.AddSingleton(options);
            builder.Services.AddSingleton(components);
            builder.Services.AddSingleton(resiliency);
            builder.Services.AddSingleton<AppHealth>();
            builder.Services.AddSingleton<StateService>();
            builder.Services.AddSingleton<Publisher>();
            builder.Services.AddSingleton<Bindings.OutputBindings>(); // a bindings.http it cannot use stops start-up
            builder.Services.AddSingleton<AppChannel.AppChannel>();
            builder.Services.AddSingleton(sp => new SidecarMetadata(
                options, components, () => sp.GetRequiredService<AppChannel.AppChannel>().Subscriptions, () => sp.GetRequiredService<Actors.ActorRuntime>()));
            builder.Services.AddSingleton<DaprGrpcService>();
            builder.Services.AddGrpc(grpcOptions =>
            {
                grpcOptions.MaxReceiveMessageSize = options.MaxRequestBodyBytes;
                grpcOptions.EnableDetailedErrors = true;
            });
            foreach (ISidecarFeature feature in Features)
            {
                feature.AddServices(builder.Services, options);
            }

            host = builder.Build();
            _ = host.Services.GetRequiredService<Tracing.SidecarTracing>(); // from here the host owns (and disposes) it
            _ = host.Services.GetRequiredService<Bindings.OutputBindings>(); // built now: a bad bindings.http names its file and field

            // Dapr.Actors' runtime asks for actor state at "//v1.0/..." when given DAPR_HTTP_ENDPOINT; the path is made
            // single-slashed before routing reads it.
            host.Use((context, next) =>
            {
                DaprHttp.CollapseLeadingSlashes(context.Request);
                return next(context);
            });
            host.UseRouting();
            host.Use((context, next) => DaprHttp.HandleAsync(context, next, options.ApiToken, tracing));
            host.MapStateApi();
            host.MapPublishApi();
            Bindings.BindingsApi.MapBindingsApi(host);
            host.MapMetadataApi();
            host.MapGrpcService<DaprGrpcService>();
            foreach (ISidecarFeature feature in Features)
            {
                feature.Map(host);
            }

            await host.StartAsync(cancellationToken).ConfigureAwait(false);

            var httpAddress = new Uri($"http://{options.ListenAddress}:{http!.IPEndPoint!.Port}/");
            var grpcAddress = new Uri($"http://{options.ListenAddress}:{grpc!.IPEndPoint!.Port}/");
            AppChannel.AppChannel channel = host.Services.GetRequiredService<AppChannel.AppChannel>();
            return new EmbeddedSidecar(host, owned ? components : null, channel, httpAddress, grpcAddress, options) { Components = components, HttpChannel = channelIn };
        }
        catch
        {
            if (host is not null)
            {
                await host.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                tracing.Dispose();
            }

            if (owned)
            {
                await components.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>
    /// The second half of a start: waits for the app's port, reads the app (its subscriptions and actor types), starts
    /// the deliveries, actors and workflows, and joins the network. Called once.
    /// </summary>
    public async Task ConnectAppAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _connected, 1) != 0)
        {
            throw new InvalidOperationException("the sidecar is connected to its app already");
        }

        IServiceProvider services = _host.Services;
        await WaitForAppAsync(_options, services.GetRequiredService<ILoggerFactory>().CreateLogger<EmbeddedSidecar>(), cancellationToken).ConfigureAwait(false);
        AppHealth health = services.GetRequiredService<AppHealth>();
        health.Start();
        await _channel.StartAsync(cancellationToken).ConfigureAwait(false);
        foreach (ISidecarFeature feature in Features)
        {
            await feature.StartAsync(services, cancellationToken).ConfigureAwait(false);
        }

        if (_options.Network is { } network && _options.AppAddress is Uri app)
        {
            network.Register(_options.AppId, app, _options.AppApiToken, () => health.IsHealthy);
            if (services.GetRequiredService<Actors.ActorRuntime>().RegisteredTypes is { Count: > 0 } actorTypes)
            {
                network.RegisterActors(_options.AppId, actorTypes, HttpAddress);
            }
        }
    }

    /// <summary>Waits for the app's port to accept a connection (an app started beside the sidecar may still be starting).</summary>
    private static async Task WaitForAppAsync(SidecarOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        if (options.AppAddress is not Uri app)
        {
            return;
        }

        long started = options.Time.GetTimestamp();
        while (true)
        {
            using var client = new System.Net.Sockets.TcpClient();
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(TimeSpan.FromSeconds(1));
                await client.ConnectAsync(app.Host, app.Port, attempt.Token).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (options.Time.GetElapsedTime(started) > options.AppReadyTimeout)
                {
                    logger.LogWarning("the app at {App} did not open its port within {Timeout}: going on without its subscriptions and actors", app, options.AppReadyTimeout);
                    return;
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops delivering, then the APIs, then closes the components (a kept event stays kept).</summary>
    public async ValueTask DisposeAsync()
    {
        _options.Network?.Unregister(_options.AppId);
        if (Volatile.Read(ref _connected) != 0)
        {
            for (int i = Features.Length - 1; i >= 0; i--)
            {
                await Features[i].StopAsync(_host.Services).ConfigureAwait(false);
            }
        }

        await _channel.DisposeAsync().ConfigureAwait(false);
        await _host.StopAsync().ConfigureAwait(false);
        await _host.DisposeAsync().ConfigureAwait(false);
        if (_ownedComponents is not null)
        {
            await _ownedComponents.DisposeAsync().ConfigureAwait(false);
        }
    }
}
