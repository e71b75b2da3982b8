using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Cli;

namespace Atomic.Server.Tests;

/// <summary>The audit trail through a kill -9: what was acknowledged has its entries after the restart.</summary>
public sealed partial class ProcessTests
{
    [Fact]
    public async Task Every_transaction_acknowledged_before_a_kill_9_has_its_audit_entry_after_the_restart_and_the_chain_verifies()
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
        var acknowledged = new List<string>();
        using (Process first = await StartAsync(http))
        {
            // Funded first, then sent at once and the server killed on the last 202: the audit writer, which saves
            // one entry per store call, is then still behind the moves it was told of.
            var funded = new List<(Beef Funding, Transaction Parent, uint Vout, PrivateKey Key)>();
            for (int i = 0; i < 48; i++)
            {
                PrivateKey key = PrivateKey.Random();
                (Beef funding, Transaction parent, uint vout) = await PipelineTests.FundAsync(http, key);
                funded.Add((funding, parent, vout, key));
            }

            acknowledged.AddRange(await Task.WhenAll(funded.Select(f =>
                PipelineTests.SubmitAsync(http, f.Funding, PipelineTests.Spend(f.Funding, f.Parent, f.Vout, f.Key)))));
            first.Kill(); // SIGKILL: no shutdown code runs, the writer's queue is gone
            await first.WaitForExitAsync();
        }

        using Process second = await StartAsync(http);
        try
        {
            // The rebuild runs in the background after start: wait until every acknowledged transaction has its entry
            // and the journal it rebuilt from is gone (deleted last, after any rebuilt entries are saved).
            string data = Path.Combine(_directory, "data");
            List<JsonElement> entries = [];
            HashSet<string?> received = [];
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                string[] replays = Directory.GetFiles(data, "audit-all.journal.replay-*");
                string jsonl = await http.GetStringAsync("/v1/audit?format=jsonl");
                entries = [.. jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
                received = entries.Where(e => e.GetProperty("kind").GetString() == "tx.received").Select(e => e.GetProperty("subject").GetString()).ToHashSet();
                if ((replays.Length == 0 && acknowledged.All(received.Contains)) || deadline.Elapsed > TimeSpan.FromSeconds(60))
                {
                    break;
                }

                await Task.Delay(200);
            }

            acknowledged.Should().OnlyContain(t => received.Contains(t), "every transaction acknowledged before the kill has its entry");

            foreach (string txid in acknowledged)
            {
                entries.Count(e => e.GetProperty("subject").GetString() == txid && e.GetProperty("kind").GetString() == "tx.received")
                    .Should().Be(1, $"{txid} was received once, and a rebuilt entry is never a second copy");
            }

            JsonElement[] rebuilt = [.. entries.Where(e => e.GetProperty("kind").GetString() == "audit.rebuilt")];
            _output.WriteLine(rebuilt.Length == 0
                ? "the writer had saved everything before the kill: nothing to rebuild"
                : $"rebuilt after the kill: {string.Join(", ", rebuilt.Select(e => e.GetProperty("detail").GetString()))}");
            File.Exists(Path.Combine(data, "audit-all.journal")).Should().BeTrue("the restarted server journals too");
            Directory.GetFiles(data, "audit-all.journal.replay-*").Should().BeEmpty("a journal rebuilt from is deleted");

            var output = new StringBuilder();
            await using var writer = new StringWriter(output);
            int code = await AtomicCli.RunAsync(["audit", "verify", "--server", Url], new CliConsole(Stream.Null, writer, writer), CancellationToken.None);
            code.Should().Be(0, output.ToString());
        }
        finally
        {
            await StopAsync(second);
        }
    }
}
