using System.Diagnostics;
using System.Text;
using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.Embedded.Workflow;
using Atomic.Runtime.State;
using Atomic.Runtime.Workflow;
using Xunit.Abstractions;

namespace Atomic.Runtime.Tests.Workflow;

/// <summary>
/// Durability against a real crash: tests/Atomic.Runtime.TestHost runs ledger workflows on a SQLite file and is
/// killed with SIGKILL several times mid-run, then started until it finishes. Every instance must complete with the
/// right output, and every activity's effect must be applied exactly once, however often the activity ran.
/// </summary>
public sealed class WorkflowCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Instances = 16;
    private const int Steps = 4;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _directory = Directory.CreateTempSubdirectory("atomic-wf-crash-").FullName;

    private string Database => Path.Combine(_directory, "state.db");

    private string ExecutionLog => Path.Combine(_directory, "executions.log");

    [Fact]
    public async Task A_host_killed_with_SIGKILL_mid_run_resumes_and_applies_each_activity_effect_once()
    {
        int kills = 0;
        foreach (int progressLines in new[] { 3, 12, 12, 12 })
        {
            if (await RunHostAsync(killAfterProgress: progressLines))
            {
                kills++;
            }
        }

        (await RunHostAsync(killAfterProgress: null)).Should().BeFalse("the last run goes to the end");
        kills.Should().BeGreaterThan(0, "at least one run was killed mid-run");

        var store = new SqliteStateStore("statestore", $"Data Source={Database};Pooling=False");
        await using (var engine = new WorkflowEngine(store, new WorkflowRegistry()))
        {
            await engine.StartAsync();
            for (int i = 0; i < Instances; i++)
            {
                string id = TestHostNames.InstanceId(i);
                WorkflowState state = (await engine.GetWorkflowStateAsync(id))!;
                state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed, $"{id} completed");
                state.ReadOutputAs<string>().Should().Be("e0,e1,e2,e3|e4,e5");

                string[] ledger = Encoding.UTF8.GetString((await store.GetAsync($"ledger||{id}"))!.Value.Span).Split(';');
                ledger[..Steps].Should().Equal(["0", "1", "2", "3"], $"{id}'s sequential entries are applied once each, in order");
                ledger[Steps..].Should().BeEquivalentTo(["4", "5"], $"{id}'s parallel entries are applied once each");
            }
        }

        var effects = new List<string>();
        await foreach ((string key, StateItem _) in store.ListAsync("effect||"))
        {
            effects.Add(key);
        }

        effects.Should().HaveCount(Instances * (Steps + 2), "one effect per activity call");
        string[] runs = await File.ReadAllLinesAsync(ExecutionLog);
        int reruns = runs.Length - runs.Distinct().Count();
        output.WriteLine($"{kills} kills; {runs.Length} activity runs for {effects.Count} calls ({reruns} reruns)");
        runs.Length.Should().BeGreaterThanOrEqualTo(effects.Count);
    }

    /// <summary>Runs the host until it exits, or kills it after that many progress lines; true when it was killed.</summary>
    private async Task<bool> RunHostAsync(int? killAfterProgress)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { TestHostPath(), Database, ExecutionLog, $"{Instances}", $"{Steps}" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) => errors.AppendLine(e.Data);
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(Patience);
        int progress = 0;
        bool killed = false;
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is string line)
        {
            if (line.StartsWith("progress", StringComparison.Ordinal) && ++progress == killAfterProgress)
            {
                process.Kill(entireProcessTree: true); // SIGKILL: no shutdown code runs
                killed = true;
                break;
            }
        }

        await process.WaitForExitAsync(timeout.Token);
        output.WriteLine($"run: {progress} progress lines, {(killed ? "killed" : $"exit code {process.ExitCode}")}");
        if (!killed)
        {
            process.ExitCode.Should().Be(0, $"the host ran to the end; stderr: {errors}");
        }

        return killed;
    }

    private static string TestHostPath() => TestHostProcess.Path();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The host's instance ids (tests/Atomic.Runtime.TestHost/Ledger.cs).</summary>
    private static class TestHostNames
    {
        public static string InstanceId(int i) => $"ledger-{i:D3}";
    }
}
