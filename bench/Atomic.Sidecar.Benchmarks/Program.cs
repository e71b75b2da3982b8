using Atomic.Sidecar.Benchmarks;

// Throughput of the embedded sidecar through the official Dapr SDK clients, each figure beside the old in-process
// runtime's on the same components, measured in the same run:
//   dotnet run -c Release --project bench/Atomic.Sidecar.Benchmarks -- [state|pubsub|actors|workflow|all] [--count SCALE] [--rounds N] [--wiring tcp|app|all] [--allocations]
// (--rounds: measured rounds after the warm-up, the median reported; --wiring: only that one of the actor benchmark's three wirings, for a profiler; --allocations: the types allocated most)
string what = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "all";
int scale = 1;
string? wiring = null;
using AllocationSampler? sampler = args.Contains("--allocations") ? new AllocationSampler() : null;
for (int i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--count" && int.TryParse(args[i + 1], out int n) && n > 0)
    {
        scale = n;
    }
    else if (args[i] == "--rounds" && int.TryParse(args[i + 1], out int r) && r > 0)
    {
        Rate.Rounds = r;
    }
    else if (args[i] == "--wiring")
    {
        wiring = args[i + 1];
    }
}

if (what is not ("state" or "pubsub" or "actors" or "workflow" or "all") || wiring is not (null or "tcp" or "app" or "all"))
{
    Console.Error.WriteLine("usage: Atomic.Sidecar.Benchmarks [state|pubsub|actors|workflow|all] [--count SCALE] [--rounds N] [--wiring tcp|app|all] [--allocations]");
    return 2;
}

Console.WriteLine($"# embedded sidecar through the official SDK clients, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; SQLite components (actors: state.in-memory)");
if (what is "state" or "all")
{
    await StateBenchmark.RunAsync(60_000 * scale, 32);
}

if (what is "pubsub" or "all")
{
    await PubSubBenchmark.RunAsync(60_000 * scale, 64);
}

if (what is "actors" or "all")
{
    await ActorBenchmark.RunAsync(60_000 * scale, 64, wiring);
}

if (what is "workflow" or "all")
{
    await WorkflowBenchmark.RunAsync(2_000 * scale);
}

sampler?.Print(40);

return 0;
