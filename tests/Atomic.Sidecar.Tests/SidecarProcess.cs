using System.Diagnostics;
using System.Net;
using System.Text;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// <c>atomic sidecar</c> as a real process (the CLI built beside the tests), so a test can kill it with SIGKILL at any
/// point and start it again on the same resources and ports.
/// </summary>
public sealed class SidecarProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SidecarProcess(Process process, int httpPort, int grpcPort)
    {
        _process = process;
        HttpAddress = new Uri($"http://127.0.0.1:{httpPort}/");
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}/");
    }

    public Uri HttpAddress { get; }

    public Uri GrpcAddress { get; }

    /// <summary>What the process wrote so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <c>atomic sidecar</c> and waits until its HTTP API answers <c>/v1.0/healthz</c>. A restart takes the same
    /// ports again, and a test running beside this one may be probing for a free port at that moment and hold it for an
    /// instant: a start refused with "address already in use" is tried again a few times.
    /// </summary>
    public static async Task<SidecarProcess> StartAsync(TestResources resources, string appId, Uri? app, int httpPort, int grpcPort)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(resources, appId, app, httpPort, grpcPort);
            }
            catch (InvalidOperationException e) when (attempt < 5 && e.Message.Contains("address already in use", StringComparison.Ordinal))
            {
                await Task.Delay(200 * attempt);
            }
        }
    }

    private static async Task<SidecarProcess> StartOnceAsync(TestResources resources, string appId, Uri? app, int httpPort, int grpcPort)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = resources.Directory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[] { Path.Combine(AppContext.BaseDirectory, "atomic.dll"), "sidecar", "--app-id", appId, "--resources-path", resources.ResourcesPath,
            "--dapr-http-port", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dapr-grpc-port", grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        if (app is not null)
        {
            start.ArgumentList.Add("--app-port");
            start.ArgumentList.Add(app.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var sidecar = new SidecarProcess(Process.Start(start) ?? throw new InvalidOperationException("atomic sidecar did not start"), httpPort, grpcPort);
        sidecar._process.OutputDataReceived += (_, line) => sidecar.Append(line.Data);
        sidecar._process.ErrorDataReceived += (_, line) => sidecar.Append(line.Data);
        sidecar._process.BeginOutputReadLine();
        sidecar._process.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = sidecar.HttpAddress, Timeout = TimeSpan.FromSeconds(5) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (sidecar._process.HasExited)
            {
                throw new InvalidOperationException($"atomic sidecar exited with {sidecar._process.ExitCode}: {sidecar.Output}");
            }

            try
            {
                if ((await http.GetAsync("/v1.0/healthz", deadline.Token)).StatusCode == HttpStatusCode.NoContent
                    && sidecar.Output.Contains("== DAPR - ", StringComparison.Ordinal))
                {
                    return sidecar; // the banner is written once the app channel has read the app
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
