using System.Diagnostics;
using System.Net;

namespace Atomic.Server.Tests;

/// <summary>The all-in-one server as a real process (the build's own <c>Atomic.Server.dll</c>), for crash and fault tests.</summary>
internal static class ServerProcess
{
    /// <summary>
    /// Starts the server on <paramref name="url"/> with its data and components in <paramref name="directory"/>
    /// (Development, a 1 s mined poll, sidecar ports of its own, warnings only) plus <paramref name="extraArgs"/>, and
    /// answers it once <c>/readyz</c> says 200 through <paramref name="http"/>; fails if it exits first or is not ready
    /// within <paramref name="readyWithin"/> (then it is killed).
    /// </summary>
    public static async Task<Process> StartAsync(string directory, string url, HttpClient http, TimeSpan readyWithin, params string[] extraArgs)
    {
        string bin = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            Path.Combine(bin, "Atomic.Server.dll"),
            "--contentRoot", bin,
            "--Urls", url,
            "--Atomic:Components", Path.Combine(directory, "components"),
            "--Atomic:BaseDirectory", directory,
            "--Atomic:Broadcaster:PollInterval", "00:00:01",
            "--Atomic:Sidecar:HttpPort", "0",
            "--Atomic:Sidecar:GrpcPort", "0",
            "--Logging:LogLevel:Default", "Warning",
            .. extraArgs,
        ];
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        var process = Process.Start(start)!;
        var errors = new Queue<string>(); // the last lines of standard error, for a start that fails
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }

            lock (errors)
            {
                errors.Enqueue(line.Data);
                if (errors.Count > 40)
                {
                    errors.Dequeue();
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await WaitUntilReadyAsync(process, http, readyWithin, () =>
            {
                lock (errors)
                {
                    return string.Join('\n', errors);
                }
            });
            return process;
        }
        catch
        {
            // Not ready: nothing else holds the process, so it must not outlive the test.
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
            throw;
        }
    }

    private static async Task WaitUntilReadyAsync(Process process, HttpClient http, TimeSpan readyWithin, Func<string> errors)
    {
        using var deadline = new CancellationTokenSource(readyWithin);
        while (true)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // the output read to its end
                Assert.Fail($"the server exited with {process.ExitCode} before it was ready; its standard error ended:\n{errors()}");
            }

            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"the server was not ready within {readyWithin}; its standard error ended:\n{errors()}");
            }

            try
            {
                using HttpResponseMessage ready = await http.GetAsync("/readyz", deadline.Token);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                continue; // said above
            }

            await Task.Delay(100, CancellationToken.None);
        }
    }
}
