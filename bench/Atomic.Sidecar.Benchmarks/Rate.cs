using System.Diagnostics;

namespace Atomic.Sidecar.Benchmarks;

internal static class Rate
{
    /// <summary>
    /// Runs <paramref name="count"/> operations from <paramref name="callers"/> concurrent callers after as many again
    /// unmeasured (tiered JIT and dynamic PGO take tens of thousands of calls to settle); answers operations per second
    /// of the measured ones. The warm-up uses negative indexes, so keys do not collide.
    /// </summary>
    public static async Task<double> MeasureAsync(int count, int callers, Func<int, Task> operation)
    {
        await RunAsync(count, callers, i => operation(-1 - i));
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long allocated = GC.GetTotalAllocatedBytes();
        int collections = GC.CollectionCount(0);
        int rounds = Math.Max(1, Rounds);
        double[] rates = new double[rounds];
        for (int round = 0; round < rounds; round++)
        {
            rates[round] = await RunAsync(count, callers, i => operation(count * round + i));
        }

        LastCpuPerOperation = (Process.GetCurrentProcess().TotalProcessorTime - cpu) / (count * rounds);
        LastAllocatedPerOperation = (GC.GetTotalAllocatedBytes() - allocated) / (count * rounds);
        LastCollections = (GC.CollectionCount(0) - collections) / rounds;
        Array.Sort(rates);
        LastSpread = rounds == 1 ? string.Empty : $"median of {rounds} rounds, {rates[0]:N0}–{rates[^1]:N0}; ";
        return rates[rounds / 2];
    }

    /// <summary>
    /// Measured rounds after the warm-up (<c>--rounds</c>, default 1): the rate answered is their median, which a busy
    /// moment on a shared machine moves far less than one round's.
    /// </summary>
    public static int Rounds { get; set; } = 1;

    /// <summary>The last measurement's rounds and their range, for a result line; empty with one round.</summary>
    public static string LastSpread { get; private set; } = string.Empty;

    /// <summary>
    /// The process's CPU time (all threads, user and system) per operation in the last measured round: a figure that
    /// other work on the machine disturbs far less than the rate, since the client, sidecar and app all run in it.
    /// </summary>
    public static TimeSpan LastCpuPerOperation { get; private set; }

    /// <summary>Bytes allocated (all threads) per operation in the last measured round.</summary>
    public static long LastAllocatedPerOperation { get; private set; }

    /// <summary>Garbage collections (all generations, counted at gen 0) in the last measured round.</summary>
    public static int LastCollections { get; private set; }

    /// <summary>The last measured round's cost per operation, for a result line: CPU time, bytes allocated, collections.</summary>
    public static string LastCost =>
        $"{LastSpread}{LastCpuPerOperation.TotalMicroseconds:N0} µs CPU, {LastAllocatedPerOperation:N0} B allocated each; {LastCollections:N0} GCs a round";

    /// <summary>Runs <paramref name="count"/> operations from <paramref name="callers"/> concurrent callers, with no warm-up.</summary>
    public static async Task<double> RunAsync(int count, int callers, Func<int, Task> operation)
    {
        int next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await operation(i);
            }
        })));
        return count / watch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// A figure with nothing to compare it with in the same run: the in-process actor runtime and workflow engine were the
    /// app-side copies of the SDK's model that issue #14 deleted; <paramref name="lastInProcess"/> is their last figure.
    /// </summary>
    public static void Print(string what, double sidecar, string lastInProcess, double goal, string unit, string? cost = null) =>
        Console.WriteLine($"{what,-34} sidecar {sidecar,9:N0} {unit}   in-process runtime: gone ({lastInProcess})   goal {goal:N0} {(sidecar >= goal ? "met" : "NOT met")}{(cost is null ? "" : $"   ({cost})")}");

    /// <summary>One result line: the rate through the sidecar, the in-process figure, their ratio and the goal.</summary>
    public static void Print(string what, double sidecar, double inProcess, double goal, string unit) =>
        Console.WriteLine($"{what,-34} sidecar {sidecar,9:N0} {unit}   in-process runtime {inProcess,9:N0} {unit}   ratio {sidecar / inProcess,5:F2}   goal {goal:N0} {(sidecar >= goal ? "met" : "NOT met")}");
}
