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
        return await RunAsync(count, callers, operation);
    }

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

    /// <summary>One result line: the rate through the sidecar, the in-process figure, their ratio and the goal.</summary>
    /// <summary>
    /// A figure with nothing to compare it with in the same run: the in-process actor runtime and workflow engine were the
    /// app-side copies of the SDK's model that issue #14 deleted; <paramref name="lastInProcess"/> is their last figure.
    /// </summary>
    public static void Print(string what, double sidecar, string lastInProcess, double goal, string unit) =>
        Console.WriteLine($"{what,-34} sidecar {sidecar,9:N0} {unit}   in-process runtime: gone ({lastInProcess})   goal {goal:N0} {(sidecar >= goal ? "met" : "NOT met")}");

    public static void Print(string what, double sidecar, double inProcess, double goal, string unit) =>
        Console.WriteLine($"{what,-34} sidecar {sidecar,9:N0} {unit}   in-process runtime {inProcess,9:N0} {unit}   ratio {sidecar / inProcess,5:F2}   goal {goal:N0} {(sidecar >= goal ? "met" : "NOT met")}");
}
