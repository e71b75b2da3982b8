using BenchmarkDotNet.Running;

namespace Atomic.Bsv.Benchmarks;

/// <summary>
/// <c>ratio [--seconds N]</c> runs <see cref="RatioHarness"/>, the plain throughput comparison with <c>@bsv/sdk</c>;
/// <c>big-beef [--mb M | --txs N] [--out DIR]</c> writes a long signed chain as one Atomic BEEF; any other arguments go
/// to BenchmarkDotNet.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "ratio")
        {
            return RatioHarness.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "big-beef")
        {
            return BigBeef.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
