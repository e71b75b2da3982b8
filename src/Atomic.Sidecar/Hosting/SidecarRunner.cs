using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Hosting;

/// <summary>
/// Runs apps next to their sidecars in this one process, as <c>dapr run</c> does: each app's command starts with
/// <c>DAPR_HTTP_PORT</c>, <c>DAPR_GRPC_PORT</c>, <c>APP_ID</c> and <c>APP_PORT</c> set, its sidecar starts on those ports,
/// and the sidecars of one resources folder share its components (one pub/sub and one actor state store for all) and
/// reach each other by app id. Output of each app is written with its app id in front, line by line from the apps'
/// reader threads, each line under a lock on the log writer: anyone else writing to that writer meanwhile takes the
/// same lock.
/// </summary>
public sealed class SidecarRunner : IAsyncDisposable
{
    private readonly List<EmbeddedSidecar> _sidecars = [];
    private readonly List<SidecarComponents> _components = [];
    private readonly List<(Process Process, Task Exited)> _processes = [];
    private readonly TextWriter _log;

    private SidecarRunner(TextWriter log) => _log = log;

    /// <summary>The running sidecars, in the template's order.</summary>
    public IReadOnlyList<EmbeddedSidecar> Sidecars => _sidecars;

    /// <summary>The network the sidecars share.</summary>
    public SidecarNetwork Network { get; } = new();

    /// <summary>Starts every app and its sidecar; on a failure, what started is stopped and the error goes up.</summary>
    public static async Task<SidecarRunner> StartAsync(IReadOnlyList<RunApp> apps, TextWriter log, ILoggerFactory? loggerFactory = null, SidecarOptions? defaults = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(apps);
        var runner = new SidecarRunner(log);
        try
        {
            // Every sidecar listens first, then every app starts (told its sidecar's ports and finding it up), then each
            // sidecar, all together, waits for its app's port and reads the app.
            var shared = new Dictionary<string, SidecarComponents>(StringComparer.Ordinal);
            var starts = new List<(RunApp App, SidecarOptions Options, SidecarComponents Components)>();
            foreach (RunApp app in apps)
            {
                SidecarOptions options = (defaults ?? new SidecarOptions()) with
                {
                    AppId = app.AppId,
                    AppAddress = app.AppPort is int port ? new Uri($"http://127.0.0.1:{port}/") : null,
                    HttpPort = app.DaprHttpPort ?? LoopbackPorts.Reserve(),
                    GrpcPort = app.DaprGrpcPort ?? LoopbackPorts.Reserve(),
                    ResourcesPath = app.ResourcesPath,
                    ConfigFile = app.ConfigFile,
                    BaseDirectory = defaults?.BaseDirectory ?? Path.GetDirectoryName(app.ResourcesPath),
                    Network = runner.Network,
                };
                if (app.HealthCheck is AppHealthCheck health)
                {
                    options = health.ApplyTo(options);
                }
                if (!shared.TryGetValue(app.ResourcesPath, out SidecarComponents? components))
                {
                    components = await SidecarComponents.LoadAsync(options, cancellationToken).ConfigureAwait(false);
                    shared[app.ResourcesPath] = components;
                    runner._components.Add(components);
                }

                starts.Add((app, options, components));
            }

            foreach ((_, SidecarOptions options, SidecarComponents components) in starts)
            {
                runner._sidecars.Add(await EmbeddedSidecar.ListenAsync(options, components, loggerFactory, cancellationToken).ConfigureAwait(false));
            }

            foreach ((RunApp app, SidecarOptions options, _) in starts)
            {
                if (app.Command.Count > 0)
                {
                    runner.StartApp(app, options);
                }
            }

            await Task.WhenAll(runner._sidecars.Select(s => s.ConnectAppAsync(cancellationToken))).ConfigureAwait(false);

            foreach ((EmbeddedSidecar sidecar, RunApp app) in runner._sidecars.Zip(apps))
            {
                runner.Write($"== DAPR - {app.AppId} == ", $"sidecar on {sidecar.HttpAddress} (HTTP) and {sidecar.GrpcAddress} (gRPC), resources {app.ResourcesPath}");
            }

            return runner;
        }
        catch
        {
            await runner.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Completes when every app's command has exited (its exit code: the first non-zero one, else 0), or with 0 when
    /// <paramref name="cancellationToken"/> is cancelled (Ctrl-C). With no command, only cancellation ends it.
    /// </summary>
    public async Task<int> WaitAsync(CancellationToken cancellationToken)
    {
        if (_processes.Count == 0)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // stopping
            }

            return 0;
        }

        try
        {
            await Task.WhenAll(_processes.Select(p => p.Exited)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return 0;
        }

        return _processes.Select(p => p.Process.ExitCode).FirstOrDefault(code => code != 0);
    }

    private void StartApp(RunApp app, SidecarOptions options)
    {
        var start = new ProcessStartInfo(app.Command[0])
        {
            WorkingDirectory = app.AppDirPath,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in app.Command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        foreach ((string name, string value) in app.Env)
        {
            start.Environment[name] = value;
        }

        start.Environment["APP_ID"] = app.AppId;
        start.Environment["DAPR_HTTP_PORT"] = options.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["DAPR_GRPC_PORT"] = options.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (app.AppPort is int port)
        {
            start.Environment["APP_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (options.ApiToken is not null)
        {
            start.Environment["DAPR_API_TOKEN"] = options.ApiToken;
        }

        if (options.AppApiToken is not null)
        {
            start.Environment["APP_API_TOKEN"] = options.AppApiToken;
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{app.AppId}: '{app.Command[0]}' did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{app.AppId}: cannot start '{app.Command[0]}' in {app.AppDirPath}: {e.Message}", e);
        }

        string prefix = $"== APP - {app.AppId} == ";
        process.OutputDataReceived += (_, line) => Write(prefix, line.Data);
        process.ErrorDataReceived += (_, line) => Write(prefix, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add((process, ReportExitAsync(prefix, process)));
    }

    /// <summary>Writes the app's exit code when it exits (after its last line), not when every app has.</summary>
    private async Task ReportExitAsync(string prefix, Process process)
    {
        try
        {
            await process.WaitForExitAsync().ConfigureAwait(false); // its output read to the end, too
            Write(prefix, $"exited with {process.ExitCode}");
        }
        catch (InvalidOperationException)
        {
            // disposed meanwhile: the run is over
        }
    }

    private void Write(string prefix, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.WriteLine(prefix + line);
            _log.Flush();
        }
    }

    /// <summary>Stops the apps (SIGTERM, then a kill after 10 s), then the sidecars, then the shared components.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach ((Process process, _) in _processes)
        {
            await StopAsync(process).ConfigureAwait(false);
        }

        for (int i = _sidecars.Count - 1; i >= 0; i--)
        {
            await _sidecars[i].DisposeAsync().ConfigureAwait(false);
        }

        foreach (SidecarComponents components in _components)
        {
            await components.DisposeAsync().ConfigureAwait(false);
        }

        foreach ((Process process, _) in _processes)
        {
            process.Dispose();
        }
    }

    private static async Task StopAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        if (!OperatingSystem.IsWindows())
        {
            using Process? term = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false });
            if (term is not null)
            {
                await term.WaitForExitAsync().ConfigureAwait(false);
            }
        }

        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A port free on loopback now, for a listener of another process that starts later (an embedded sidecar of this
    /// process holds its port instead, <see cref="LoopbackPorts.Reserve"/>). It is taken below the system's ephemeral range
    /// (Linux: <c>ip_local_port_range</c>, else 49152) when that range leaves room: a port the system hands out itself,
    /// for another bind to port 0 or as the source port of an outgoing connection, could be taken again between this
    /// answer and the listener's start. Without room, the system's own choice.
    /// </summary>
    public static int FreePort()
    {
        const int From = 10000;
        int below = EphemeralRangeStart();
        for (int attempt = 0; below - From >= 1000 && attempt < 32; attempt++)
        {
            int port = Random.Shared.Next(From, below);
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // taken: another one
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static int EphemeralRangeStart()
    {
        const int Iana = 49152;
        if (!OperatingSystem.IsLinux())
        {
            return Iana;
        }

        try
        {
            string range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
            int end = range.AsSpan().IndexOfAny(" \t");
            return end > 0 && int.TryParse(range.AsSpan(0, end), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int start) ? start : Iana;
        }
        catch (IOException)
        {
            return Iana;
        }
        catch (UnauthorizedAccessException)
        {
            return Iana;
        }
    }
}
