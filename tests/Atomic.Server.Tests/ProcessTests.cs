using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Microsoft.Data.Sqlite;

namespace Atomic.Server.Tests;

/// <summary>
/// The built server as a real process (the executable beside the tests, with its appsettings): killed with SIGKILL
/// right after accepting a BEEF it loses nothing, and Ctrl-C (SIGINT) stops it cleanly with its databases intact.
/// </summary>
public sealed class ProcessTests : IDisposable
{
    private readonly string _directory = ServerHost.CopyComponents();
    private readonly int _port = FreePort();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private string Url => $"http://127.0.0.1:{_port}";

    [Fact]
    public async Task A_beef_accepted_by_a_server_killed_before_any_stage_ran_is_carried_to_mined_after_a_restart()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        PrivateKey key = PrivateKey.Random();
        (Beef Funding, Transaction Parent, uint Vout) funded;
        using (Process first = await StartAsync(http))
        {
            // A first run registers the stages' consumers in the store, as any server that has run once has.
            funded = await PipelineTests.FundAsync(http, key);
            (await StopAsync(first)).Should().Be(0);
        }

        string txid;
        using (Process second = await StartAsync(http, "--Atomic:Pipeline:Verifier", "false", "--Atomic:Pipeline:Broadcaster", "false"))
        {
            txid = await PipelineTests.SubmitAsync(http, funded.Funding, PipelineTests.Spend(funded.Funding, funded.Parent, funded.Vout, key));
            (await PipelineTests.WaitForAsync(http, txid, "received")).GetProperty("status").GetString().Should().Be("received");
            second.Kill(); // SIGKILL: no shutdown code runs
            await second.WaitForExitAsync();
        }

        using Process third = await StartAsync(http);
        try
        {
            await PipelineTests.WaitForAsync(http, txid, "broadcast");
            (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
            (await PipelineTests.WaitForAsync(http, txid, "mined")).GetProperty("merklePath").GetString().Should().NotBeNullOrEmpty();
        }
        finally
        {
            await StopAsync(third);
        }
    }

    [Fact]
    public async Task Ctrl_c_stops_the_server_cleanly_and_leaves_its_databases_intact()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        using Process server = await StartAsync(http);
        await PipelineTests.FundAsync(http, PrivateKey.Random());

        int exitCode = await StopAsync(server);

        exitCode.Should().Be(0);
        foreach (string db in new[] { "state.db", "devchain.sqlite" })
        {
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "data", db)};Mode=ReadOnly");
            await connection.OpenAsync();
            await using SqliteCommand check = connection.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            (await check.ExecuteScalarAsync()).Should().Be("ok", db);
        }
    }

    private async Task<Process> StartAsync(HttpClient http, params string[] extraArgs)
    {
        string bin = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            Path.Combine(bin, "Atomic.Server.dll"),
            "--contentRoot", bin,
            "--Urls", Url,
            "--Atomic:Components", Path.Combine(_directory, "components"),
            "--Atomic:Broadcaster:PollInterval", "00:00:01",
            "--Logging:LogLevel:Default", "Warning",
            .. extraArgs,
        ];
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            process.HasExited.Should().BeFalse($"the server exited with {(process.HasExited ? process.ExitCode : 0)} before it was ready");
            try
            {
                using HttpResponseMessage ready = await http.GetAsync("/readyz", deadline.Token);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    /// <summary>Sends SIGINT (Ctrl-C) and waits for the exit code.</summary>
    private static async Task<int> StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            using Process kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException("the server did not stop within 60 s of SIGINT");
        }

        return process.ExitCode;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
