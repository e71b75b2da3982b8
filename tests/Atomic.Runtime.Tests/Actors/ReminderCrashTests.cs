using System.Diagnostics;

namespace Atomic.Runtime.Tests.Actors;

/// <summary>
/// Durable reminders against a real crash: tests/Atomic.Runtime.TestHost registers periodic reminders on SQLite and is
/// killed with SIGKILL; a new process that registers nothing must fire every one of them again.
/// </summary>
public sealed class ReminderCrashTests : IDisposable
{
    private const int Actors = 5;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _directory = Directory.CreateTempSubdirectory("atomic-reminder-crash-").FullName;

    [Fact]
    public async Task Reminders_registered_before_a_SIGKILL_fire_again_in_the_next_process()
    {
        string database = Path.Combine(_directory, "state.db");
        HashSet<string> before = await RunUntilEveryActorFiredAsync(database, "arm");
        before.Should().HaveCount(Actors);

        HashSet<string> after = await RunUntilEveryActorFiredAsync(database, "resume");
        after.Should().BeEquivalentTo(before, "every stored reminder fires in the restarted process, which registers none");
    }

    /// <summary>Starts the host, waits until each actor's reminder has fired in this process, then kills it (SIGKILL).</summary>
    private async Task<HashSet<string>> RunUntilEveryActorFiredAsync(string database, string mode)
    {
        using Process process = TestHostProcess.Start("reminders", database, Path.Combine(_directory, "fires.log"), $"{Actors}", mode);
        using var timeout = new CancellationTokenSource(Patience);
        var fired = new HashSet<string>();
        try
        {
            while (fired.Count < Actors && await process.StandardOutput.ReadLineAsync(timeout.Token) is string line)
            {
                if (line.StartsWith("fired ", StringComparison.Ordinal))
                {
                    fired.Add(line["fired ".Length..]);
                }
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true); // SIGKILL: no shutdown code runs
            await process.WaitForExitAsync(CancellationToken.None);
        }

        fired.Should().HaveCount(Actors, $"every reminder fired in the {mode} run; stderr: {await process.StandardError.ReadToEndAsync()}");
        return fired;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
