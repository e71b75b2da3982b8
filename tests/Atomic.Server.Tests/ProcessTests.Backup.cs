using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Cli;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Atomic.Server.Tests;

/// <summary>
/// Disaster recovery on real processes: <c>atomic backup</c> of a server under load, the server killed, <c>atomic
/// restore</c> into a new folder and a new server started there.
/// </summary>
public sealed partial class ProcessTests
{
    private readonly ITestOutputHelper _output;

    public ProcessTests(ITestOutputHelper output) => _output = output;

    [Fact]
    [SuppressMessage("Reliability", "CA2000", Justification = "The processes are disposed in finally blocks.")]
    public async Task A_backup_taken_under_load_restores_every_acknowledged_transaction_and_delivers_the_events_in_flight()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        string[] mining = ["--Atomic:DevChain:MineInterval", "00:00:01"];
        string backup = Path.Combine(Directory.CreateTempSubdirectory("atomic-backup-").FullName, "snapshot");
        string restored = Directory.CreateTempSubdirectory("atomic-restored-").FullName;
        var acknowledged = new ConcurrentQueue<(string TxId, long At)>();
        long backupStarted;
        try
        {
            using (Process first = await StartAsync(http, mining))
            {
                using var stop = new CancellationTokenSource();
                // Eight closed-loop submitters: with fewer, a fast server can drain its pub/sub between submissions, leaving
                // no event in flight for the backup to catch.
                Task[] load = [.. Enumerable.Range(0, 8).Select(_ => SubmitUntilAsync(http, acknowledged, stop.Token))];
                while (acknowledged.Count < 12)
                {
                    load.Where(t => t.IsFaulted).Should().BeEmpty("the load runs until the backup");
                    await Task.Delay(50);
                }

                backupStarted = Stopwatch.GetTimestamp();
                (int code, string output) = await CliAsync("backup", "--out", backup, "--components", Path.Combine(_directory, "components"), "--server-data", _directory);
                code.Should().Be(0, output);
                _output.WriteLine($"backup: {output.Trim()} ({acknowledged.Count} acknowledged by then)");
                await Task.Delay(500); // more load after the snapshot: none of it is expected back
                await stop.CancelAsync();
                await Task.WhenAll(load);
                first.Kill(); // the disaster: SIGKILL, no shutdown code runs
                await first.WaitForExitAsync();
            }

            string[] before = [.. acknowledged.Where(a => a.At < backupStarted).Select(a => a.TxId)];
            before.Should().HaveCountGreaterThanOrEqualTo(12);
            string[] inFlight = PendingEvents(Path.Combine(backup, "data", "state.db"));
            inFlight.Should().NotBeEmpty("under load the pub/sub holds events not yet delivered");
            _output.WriteLine($"{before.Length} transactions acknowledged before the backup began, {inFlight.Length} events in flight in the backup");

            long recovery = Stopwatch.GetTimestamp();
            (int restoreCode, string restoreOutput) = await CliAsync("restore", backup, "--to", restored);
            restoreCode.Should().Be(0, restoreOutput);
            _output.WriteLine($"restore: {restoreOutput.Trim()}");
            File.Exists(Path.Combine(restored, "components", "txstore.yaml")).Should().BeTrue();

            string original = _directory;
            _directory = restored;
            using Process second = await StartAsync(http, mining);
            TimeSpan rto = Stopwatch.GetElapsedTime(recovery);
            _output.WriteLine($"RTO: restore and start until ready {rto.TotalSeconds:0.00} s");
            _directory = original;
            try
            {
                foreach (string txid in before)
                {
                    (await PipelineTests.WaitForAsync(http, txid, "mined")).GetProperty("merklePath").GetString().Should().NotBeNullOrEmpty(txid);
                }

                // Every event the backup held undelivered is settled (deleted from the store) by the restored server.
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                while (PendingEvents(Path.Combine(restored, "data", "state.db")).Intersect(inFlight).Any())
                {
                    await Task.Delay(200, deadline.Token);
                }
            }
            finally
            {
                await StopAsync(second);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(Path.GetDirectoryName(backup)!, recursive: true);
            Directory.Delete(restored, recursive: true);
        }
    }

    [Fact]
    public async Task Restore_refuses_a_backup_whose_database_changed_and_a_folder_that_is_not_empty()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        string backup = Path.Combine(Directory.CreateTempSubdirectory("atomic-backup-").FullName, "snapshot");
        string target = Directory.CreateTempSubdirectory("atomic-restored-").FullName;
        try
        {
            using (Process server = await StartAsync(http))
            {
                await PipelineTests.FundAsync(http, PrivateKey.Random());
                (int code, string output) = await CliAsync("backup", "--out", backup, "--components", Path.Combine(_directory, "components"));
                code.Should().Be(0, output);
                await StopAsync(server);
            }

            await File.WriteAllTextAsync(Path.Combine(target, "keep.txt"), "mine");
            (int notEmpty, string notEmptyOutput) = await CliAsync("restore", backup, "--to", target);
            notEmpty.Should().Be(2);
            notEmptyOutput.Should().Contain("not empty");

            await using (FileStream db = File.OpenWrite(Path.Combine(backup, "data", "state.db")))
            {
                db.Seek(200, SeekOrigin.Begin);
                db.WriteByte(0x5a);
            }

            (int damaged, string damagedOutput) = await CliAsync("restore", backup, "--to", target, "--force");
            damaged.Should().Be(2);
            damagedOutput.Should().Contain("data/state.db does not match the manifest");
            File.Exists(Path.Combine(target, "data", "state.db")).Should().BeFalse("a damaged backup changes nothing");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(backup)!, recursive: true);
            Directory.Delete(target, recursive: true);
        }
    }

    /// <summary>Funds, spends and submits until stopped; each 202 is recorded with the time it arrived.</summary>
    private static async Task SubmitUntilAsync(HttpClient http, ConcurrentQueue<(string TxId, long At)> acknowledged, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            PrivateKey key = PrivateKey.Random();
            var funded = await PipelineTests.FundAsync(http, key);
            string txid = await PipelineTests.SubmitAsync(http, funded.Funding, PipelineTests.Spend(funded.Funding, funded.Parent, funded.Vout, key));
            acknowledged.Enqueue((txid, Stopwatch.GetTimestamp()));
        }
    }

    /// <summary>The durable pub/sub's undelivered events (<c>pubsub||{name}||m||…</c>) in a database file, read without writing.</summary>
    private static string[] PendingEvents(string database)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using SqliteCommand query = connection.CreateCommand();
        query.CommandText = "SELECT key FROM tx WHERE key LIKE 'pubsub||%||m||%'";
        using SqliteDataReader reader = query.ExecuteReader();
        var keys = new List<string>();
        while (reader.Read())
        {
            keys.Add(reader.GetString(0));
        }

        return [.. keys];
    }

    private static async Task<(int Code, string Output)> CliAsync(params string[] args)
    {
        var output = new StringBuilder();
        await using var writer = new StringWriter(output);
        int code = await AtomicCli.RunAsync(args, new CliConsole(Stream.Null, writer, writer), CancellationToken.None);
        return (code, output.ToString());
    }
}
