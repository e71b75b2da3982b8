using System.Text;
using Atomic.Runtime.State;
using Atomic.Runtime.Workflow;

namespace Atomic.Runtime.TestHost;

/// <summary>
/// <c>steps</c> ledger entries one after another, then two at once (fan-out); the output names every entry in
/// workflow order: <c>e0,e1,…|e{steps},e{steps+1}</c>.
/// </summary>
public sealed class LedgerWorkflow : Workflow<int, string>
{
    public static string InstanceId(int i) => $"ledger-{i:D3}";

    public override async Task<string> RunAsync(WorkflowContext context, int steps)
    {
        var sequential = new List<string>();
        for (int step = 0; step < steps; step++)
        {
            sequential.Add(await context.CallActivityAsync<string>(LedgerActivity.Name, step));
        }

        string[] parallel = await Task.WhenAll(
            context.CallActivityAsync<string>(LedgerActivity.Name, steps),
            context.CallActivityAsync<string>(LedgerActivity.Name, steps + 1));
        return $"{string.Join(',', sequential)}|{string.Join(',', parallel)}";
    }
}

/// <summary>
/// Appends entry <c>step</c> to the instance's ledger (<c>ledger||{instance}</c>) exactly once per call: the entry and
/// an effect marker keyed by the call's task execution id are written in one transaction, the marker first-write, so a
/// rerun finds the marker and changes nothing. Every run, rerun or not, also appends a line to a plain log file,
/// which is how the crash test sees that reruns happened.
/// </summary>
public sealed class LedgerActivity(IStateStore store, string logPath) : WorkflowActivity<int, string>
{
    public const string Name = "AppendToLedger";

    private static readonly Lock LogLock = new();
    private int _runs;

    public override async Task<string> RunAsync(WorkflowActivityContext context, int step)
    {
        lock (LogLock)
        {
            File.AppendAllText(logPath, $"{context.InstanceId} {context.TaskExecutionId} {step}\n");
        }

        await Task.Delay(Random.Shared.Next(5, 30)); // a window for the kill to land inside an activity
        string marker = $"effect||{context.TaskExecutionId}";
        string ledgerKey = $"ledger||{context.InstanceId}";
        while (await store.GetAsync(marker) is null)
        {
            StateItem? ledger = await store.GetAsync(ledgerKey);
            string entries = ledger is null ? $"{step}" : $"{Encoding.UTF8.GetString(ledger.Value.Span)};{step}";
            try
            {
                await store.ExecuteTransactionAsync([
                    new StateOperation.Upsert(new StateWrite(marker, Encoding.UTF8.GetBytes(context.InstanceId), Concurrency: StateConcurrency.FirstWrite)),
                    new StateOperation.Upsert(new StateWrite(ledgerKey, Encoding.UTF8.GetBytes(entries), ledger?.ETag, StateConcurrency.FirstWrite)),
                ]);
            }
            catch (StateConcurrencyException)
            {
                // Another run of this call, or a parallel entry of the same ledger, won: look again.
            }
        }

        Console.WriteLine($"progress {Interlocked.Increment(ref _runs)}");
        return $"e{step}";
    }
}
