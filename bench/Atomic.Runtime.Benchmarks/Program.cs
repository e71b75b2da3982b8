using Atomic.Runtime.Benchmarks;

// Throughput figures for the embedded runtime on this machine, printed as one line each:
//   dotnet run -c Release --project bench/Atomic.Runtime.Benchmarks -- [state|pubsub|actors|workflow|all] [--postgres "<connection string>"]
string what = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "all";
string? postgres = Environment.GetEnvironmentVariable("ATOMIC_TEST_POSTGRES");
for (int i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--postgres")
    {
        postgres = args[i + 1];
    }
}

using var stores = new BenchStores(postgres);
Console.WriteLine($"# embedded runtime, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
if (what is "state" or "all")
{
    await StateThroughput.RunAsync(stores);
}

if (what is "pubsub" or "all")
{
    await PubSubThroughput.RunAsync(stores);
}

if (what is "actors" or "all")
{
    await ActorThroughput.RunAsync(stores);
}

if (what is "workflow" or "all")
{
    await WorkflowThroughput.RunAsync(stores);
}
