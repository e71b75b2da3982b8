using Atomic.Runtime.Embedded.Components;
using Atomic.Sidecar;

namespace Atomic.Server.Hosting;

/// <summary>Settings of the embedded sidecar the server starts on the embedded runtime (section <c>Atomic:Sidecar</c>).</summary>
public sealed class SidecarSettings
{
    public const string Section = "Atomic:Sidecar";

    /// <summary>Whether the server serves Dapr's APIs over its components (on by default on the embedded runtime).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The HTTP API's port on 127.0.0.1; 0 picks a free one.</summary>
    public int HttpPort { get; set; } = SidecarOptions.DefaultHttpPort;

    /// <summary>The gRPC API's port on 127.0.0.1; 0 picks a free one.</summary>
    public int GrpcPort { get; set; } = SidecarOptions.DefaultGrpcPort;
}

/// <summary>
/// The embedded sidecar beside the all-in-one server: daprd's HTTP and gRPC APIs on loopback over the very components
/// the server's services use, for any Dapr app of any language on this machine. Started after the embedded runtime,
/// stopped before it; a port already taken stops start-up naming the key.
/// </summary>
internal sealed class EmbeddedSidecarHost(
    EmbeddedRuntimeHost runtime, IReadOnlyList<ComponentDefinition> definitions, ServerSettings settings, SidecarSettings sidecar, ILoggerFactory loggers)
    : IHostedService
{
    private EmbeddedSidecar? _started;

    /// <summary>The running sidecar's addresses, for the banner; null while off.</summary>
    public (Uri Http, Uri Grpc)? Addresses => _started is null ? null : (_started.HttpAddress, _started.GrpcAddress);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!sidecar.Enabled)
        {
            return;
        }

        var options = new SidecarOptions
        {
            AppId = settings.AppId,
            HttpPort = sidecar.HttpPort,
            GrpcPort = sidecar.GrpcPort,
            ResourcesPath = settings.ComponentsDirectory,
            BaseDirectory = settings.BaseDirectory,
            ApiToken = Environment.GetEnvironmentVariable("DAPR_API_TOKEN") is { Length: > 0 } token ? token : null,
        };
        try
        {
            _started = await EmbeddedSidecar.StartAsync(options, SidecarComponents.Over(runtime.Components, definitions), loggers, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new ServerConfigurationException(
                $"the embedded sidecar cannot listen on 127.0.0.1:{sidecar.HttpPort} (HTTP) and 127.0.0.1:{sidecar.GrpcPort} (gRPC): {e.Message}; "
                + $"set {SidecarSettings.Section}:HttpPort and :GrpcPort (0 picks free ports), or {SidecarSettings.Section}:Enabled false");
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_started is not null)
        {
            await _started.DisposeAsync().ConfigureAwait(false);
            _started = null;
        }
    }
}
