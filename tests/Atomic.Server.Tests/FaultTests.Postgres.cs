using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Npgsql;

namespace Atomic.Server.Tests;

public sealed partial class FaultTests
{
    [PostgresRestartFact]
    public async Task Postgresql_restarted_mid_load_loses_no_acknowledged_beef_and_every_one_reaches_mined()
    {
        await using var postgres = new PostgresComponents();
        Directory.Delete(_directory, recursive: true);
        _directory = postgres.Directory;
        using HttpClient http = Client();
        try
        {
            await StartAsync(http);
            await RunPostgresLoadAsync(http, postgres);
        }
        finally
        {
            StopServers(); // before the tables are dropped
        }
    }

    private async Task RunPostgresLoadAsync(HttpClient http, PostgresComponents postgres)
    {
        PrivateKey key = PrivateKey.Random();
        var spends = new List<(Beef Funding, Transaction Spend)>();
        for (int i = 0; i < 12; i++)
        {
            (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(http, key);
            spends.Add((funding, PipelineTests.Spend(funding, parent, vout, key)));
        }

        // Four BEEFs on their way through the stages, four more sent while the cluster restarts, four after: a refused
        // submission (the store down) is sent again, as a client would.
        DateTime started = await PostgresStartedAsync();
        var acknowledged = new List<string>();
        Task restart = Task.CompletedTask;
        int refused = 0;
        foreach ((Beef funding, Transaction spend) in spends)
        {
            if (acknowledged.Count == 4)
            {
                restart = PostgresRestartFactAttribute.RestartAsync();
            }
            else if (acknowledged.Count == 8)
            {
                await restart;
            }

            while (!await TrySubmitAsync(http, funding, spend))
            {
                refused++;
                await Task.Delay(200);
            }

            acknowledged.Add(spend.Id.ToDisplayHex());
        }

        await restart;
        (await PostgresStartedAsync()).Should().BeAfter(started, "the cluster was restarted");
        _output.WriteLine($"{refused} submissions refused while PostgreSQL restarted");
        await Task.WhenAll(acknowledged.Select(txid => WaitForAsync(http, txid, "broadcast")));
        (await http.PostAsync("/arc/v1/mine", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        JsonElement[] mined = await Task.WhenAll(acknowledged.Select(txid => WaitForAsync(http, txid, "mined")));

        acknowledged.Should().HaveCount(12, $"every BEEF was acknowledged in the end ({refused} refusals while the store was down)");
        foreach (JsonElement record in mined)
        {
            record.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("status").GetString()).Should()
                .Equal(["received", "verified", "broadcast", "mined"], "each step once, whatever was retried");
        }

        (await postgres.RecordsAsync()).Should().Be(12, "the records live in PostgreSQL");
    }

    private static async Task<DateTime> PostgresStartedAsync()
    {
        await using NpgsqlDataSource db = NpgsqlDataSource.Create(PostgresFactAttribute.ConnectionString!);
        await using NpgsqlCommand query = db.CreateCommand("SELECT pg_postmaster_start_time()");
        return (DateTime)(await query.ExecuteScalarAsync())!;
    }

    /// <summary>Posts the BEEF; true once acknowledged (202), false when the server could not take it (5xx, or no answer).</summary>
    private static async Task<bool> TrySubmitAsync(HttpClient http, Beef funding, Transaction spend)
    {
        var beef = new Beef(BeefVersion.V2, funding.Bumps, [.. funding.Transactions, BeefTx.FromTransaction(spend)]);
        using var content = new ByteArrayContent(beef.ToAtomicBytes(spend.Id));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        try
        {
            using HttpResponseMessage submitted = await http.PostAsync("/v1/beef", content);
            if ((int)submitted.StatusCode >= 500)
            {
                return false;
            }

            submitted.StatusCode.Should().Be(HttpStatusCode.Accepted, await submitted.Content.ReadAsStringAsync());
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}

/// <summary>
/// A fact that restarts the local PostgreSQL cluster <c>./test.sh</c> starts (<c>ATOMIC_TEST_POSTGRES</c>): skipped,
/// like every PostgreSQL fact, without that server; unless <c>ATOMIC_TEST_POSTGRES_RESTART=1</c> (the restart would cut
/// off the other PostgreSQL tests running in parallel); and when this user cannot restart it (neither root nor
/// password-less sudo, or no <c>pg_ctlcluster</c>).
/// </summary>
public sealed class PostgresRestartFactAttribute : FactAttribute
{
    /// <summary>The variable that lets the restart run: set only where no other test uses the cluster.</summary>
    public const string OptIn = "ATOMIC_TEST_POSTGRES_RESTART";

    public PostgresRestartFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(PostgresFactAttribute.ConnectionString))
        {
            Skip = "ATOMIC_TEST_POSTGRES is not set (./test.sh starts a server and sets it)";
        }
        else if (Environment.GetEnvironmentVariable(OptIn) != "1")
        {
            // A restart cuts off every client of the cluster, so it must not run beside the other PostgreSQL tests
            // (test projects run in parallel): ./test.sh runs it alone, after the suites, with this variable set.
            Skip = $"{OptIn}=1 is not set: the restart runs alone (./test.sh runs it after the suites)";
        }
        else if (Cluster() is null)
        {
            Skip = "cannot restart the PostgreSQL cluster: needs pg_ctlcluster with a cluster on port 5432, run as root or with password-less sudo";
        }
    }

    /// <summary>Restarts the cluster (<c>pg_ctlcluster {version} {name} restart</c>, fast shutdown: clients are cut off).</summary>
    public static async Task RestartAsync()
    {
        (string version, string name) = Cluster() ?? throw new InvalidOperationException("no PostgreSQL cluster to restart");
        (await RunAsync([.. Elevate(), "pg_ctlcluster", version, name, "restart"])).Should().NotBeNull("pg_ctlcluster restarts the cluster");
    }

    private static string[] Elevate() => Environment.IsPrivilegedProcess ? [] : ["sudo", "-n"];

    /// <summary>The cluster on port 5432 (<c>pg_lsclusters -h</c>: version, name, port, …), when this user may restart it.</summary>
    private static (string Version, string Name)? Cluster()
    {
        try
        {
            if (!Environment.IsPrivilegedProcess && RunAsync(["sudo", "-n", "true"]).GetAwaiter().GetResult() is null)
            {
                return null;
            }

            string? clusters = RunAsync(["pg_lsclusters", "-h"]).GetAwaiter().GetResult();
            foreach (string line in (clusters ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (columns.Length >= 3 && columns[2] == "5432")
                {
                    return (columns[0], columns[1]);
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // no such program
        }

        return null;
    }

    /// <summary>Runs a program; its standard output and error, or null when it exits non-zero.</summary>
    private static async Task<string?> RunAsync(string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? await output + await error : null;
    }
}
