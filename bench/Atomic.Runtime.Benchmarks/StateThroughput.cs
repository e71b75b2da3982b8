using System.Diagnostics;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Benchmarks;

/// <summary>State operations per second: single saves, reads and 10-key transactions from 16 concurrent callers.</summary>
internal static class StateThroughput
{
    private const int Callers = 16;

    public static Task RunAsync(BenchStores stores) => stores.ForEachDurableAsync(MeasureAsync);

    private static async Task MeasureAsync(string name, IStateStore store)
    {
        byte[] value = new byte[256];
        Random.Shared.NextBytes(value);
        const int saves = 8_000;
        double saveRate = await RateAsync(saves, i => store.SaveAsync(new StateWrite($"tx||{i:D8}", value)));
        double readRate = await RateAsync(saves * 4, i => store.GetAsync($"tx||{i % saves:D8}"));
        double transactionRate = await RateAsync(2_000, i =>
        {
            var operations = new StateOperation[10];
            for (int k = 0; k < operations.Length; k++)
            {
                operations[k] = new StateOperation.Upsert(new StateWrite($"basket||{i:D6}||{k}", value));
            }

            return store.ExecuteTransactionAsync(operations);
        });
        Console.WriteLine($"state {name,-10}  save {saveRate,8:N0}/s   get {readRate,8:N0}/s   10-key transaction {transactionRate,7:N0}/s ({transactionRate * 10:N0} keys/s)   [{Callers} callers, 256-byte values]");
        if (store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }

    private static async Task<double> RateAsync(int count, Func<int, Task> operation)
    {
        int next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await operation(i);
            }
        })));
        return count / watch.Elapsed.TotalSeconds;
    }
}
