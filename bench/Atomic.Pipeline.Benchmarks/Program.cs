using Atomic.Pipeline.Benchmarks;

// End-to-end throughput and latency of the pipeline, submit → broadcast, on the embedded runtime:
//   dotnet run -c Release --project bench/Atomic.Pipeline.Benchmarks -- [--clients 16,64] [--count 4000] [--postgres "<connection string>"]
// The all-in-one server runs in this process on Kestrel (the repository's components on a temporary SQLite file, or
// PostgreSQL), with the dev chain as its ARC endpoint; clients POST BEEFs over loopback HTTP and each waits for its
// transaction's tx.broadcast event before sending the next.
//   dotnet run -c Release --project bench/Atomic.Pipeline.Benchmarks -- sessions [--concurrent 16] [--count 64]
// runs multi-party swap sessions instead (SessionLoad): sessions completed per second, each played by both parties.
if (args.Length > 0 && args[0] == "sessions")
{
    int concurrent = SessionArgument(args, "--concurrent", 16);
    int sessions = SessionArgument(args, "--count", 64);
    Console.WriteLine($"# swap sessions, create → completed, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, SQLite (components/)");
    await using PipelineUnderTest server = await PipelineUnderTest.StartAsync(new BenchOptions([concurrent], sessions, null, false, "devchain", "broadcast"));
    Console.WriteLine(await SessionLoad.RunAsync(server.Http, concurrent, sessions));
    return 0;
}

static int SessionArgument(string[] args, string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out int value) && value > 0 ? value : fallback;
}

BenchOptions? options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"{e.Message}\n{BenchOptions.Usage}");
    return 2;
}

if (options is null)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

Console.WriteLine($"# pipeline submit → {options.Until}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {options.Store}");
foreach (int clients in options.Clients)
{
    await using PipelineUnderTest pipeline = await PipelineUnderTest.StartAsync(options);
    using var stages = new StageTimes();
    PipelineResult result = await pipeline.RunAsync(clients, options.Count);
    Console.WriteLine(result);
    if (options.Stages)
    {
        Console.Write(stages);
    }
}

return 0;
