using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Tests.Interop;
using Microsoft.Data.Sqlite;

namespace Atomic.Server.Tests;

/// <summary>
/// The built server as a real process (the executable beside the tests, with its appsettings): killed with SIGKILL
/// right after accepting a BEEF it loses nothing, Ctrl-C (SIGINT) stops it cleanly with its databases intact, and
/// <c>@bsv/sdk</c> in Node.js drives it end to end (tests/interop/pipeline-client.mjs) on SQLite and on PostgreSQL.
/// </summary>
public sealed partial class ProcessTests : IDisposable
{
    private string _directory = ServerHost.CopyComponents();
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

    [Fact]
    public async Task Writes_to_the_data_folder_wake_no_file_watcher_in_the_server()
    {
        // The configuration files are read once: a watch of them would watch the whole working directory, data/
        // with its SQLite files included, and wake on every write the pipeline makes.
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        using Process server = await StartAsync(http);
        try
        {
            await PipelineTests.FundAsync(http, PrivateKey.Random());

            ThreadNames(server).Should().NotContain(".NET File Watch", "no FileSystemWatcher runs in the server (it names its thread so on Linux)");
        }
        finally
        {
            (await StopAsync(server)).Should().Be(0);
        }
    }

    [Fact]
    public async Task The_sdk_as_a_client_sees_spends_broadcast_and_mined_and_bad_ones_refused_with_their_codes()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        using Process server = await StartAsync(http);
        try
        {
            await ClientRunAsync();
        }
        finally
        {
            await StopAsync(server);
        }
    }

    [PostgresFact]
    public async Task The_sdk_as_a_client_sees_the_same_on_the_postgresql_components()
    {
        await using var postgres = new PostgresComponents();
        Directory.Delete(_directory, recursive: true);
        _directory = postgres.Directory;
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        using (Process server = await StartAsync(http))
        {
            try
            {
                await ClientRunAsync();
            }
            finally
            {
                await StopAsync(server);
            }
        }

        File.Exists(Path.Combine(_directory, "data", "state.db")).Should().BeFalse("every component is on PostgreSQL");
        (await postgres.RecordsAsync()).Should().Be(5, "the five records live in PostgreSQL");
    }

    /// <summary>Runs tests/interop/pipeline-client.mjs against the server and checks what it saw at each step.</summary>
    private async Task ClientRunAsync()
    {
        string output = await NodeRunner.RunAsync("pipeline-client.mjs", TimeSpan.FromMinutes(2), "--url", Url);
        JsonElement seen = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;

        JsonElement a = seen.GetProperty("a");
        a.GetProperty("submitted").GetString().Should().Be("received");
        a.GetProperty("resubmitted").GetString().Should().BeOneOf(["broadcast", "mined"], "a resubmission answers where the first one is");
        a.GetProperty("mined").GetString().Should().Be("mined");
        a.GetProperty("pathVerified").GetBoolean().Should().BeTrue("the SDK's BlockHeadersService confirms the merkle path against the dev chain");

        JsonElement b = seen.GetProperty("b");
        b.GetProperty("mined").GetString().Should().Be("mined", "a chained spend whose BEEF carries its unmined parent goes through");
        b.GetProperty("beefStatus").GetInt32().Should().Be(200);
        b.GetProperty("beefProven").GetBoolean().Should().BeTrue("the served BEEF is upgraded with the transaction's merkle path");
        b.GetProperty("beefVerified").GetBoolean().Should().BeTrue("the SDK verifies the upgraded BEEF by SPV");

        seen.GetProperty("c").GetProperty("status").GetString().Should().Be("failed");
        seen.GetProperty("c").GetProperty("code").GetString().Should().Be("DOUBLE_SPEND");
        seen.GetProperty("d").GetProperty("status").GetString().Should().Be("rejected");
        seen.GetProperty("d").GetProperty("code").GetString().Should().Be("SCRIPT_FAILED");

        JsonElement e = seen.GetProperty("e");
        e.GetProperty("arc").GetString().Should().Be("success", "the SDK's ARC broadcaster works against the dev chain unchanged");
        e.GetProperty("mined").GetString().Should().Be("mined", "a transaction the network already knows is still followed to mined");
    }

    /// <summary>The names of the process's threads (Linux: /proc/PID/task/*/comm; none elsewhere); a thread gone meanwhile is left out.</summary>
    private static List<string> ThreadNames(Process process)
    {
        var names = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            return names;
        }

        foreach (string task in Directory.GetDirectories($"/proc/{process.Id}/task"))
        {
            try
            {
                names.Add(File.ReadAllText(Path.Combine(task, "comm")).Trim());
            }
            catch (IOException)
            {
                // the thread ended
            }
        }

        return names;
    }

    private Task<Process> StartAsync(HttpClient http, params string[] extraArgs) =>
        ServerProcess.StartAsync(_directory, Url, http, TimeSpan.FromSeconds(60), extraArgs);

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

    private static int FreePort() => ServerHost.FreePort();
}
