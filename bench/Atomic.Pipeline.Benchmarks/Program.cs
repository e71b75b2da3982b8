using Atomic.Pipeline.Benchmarks;

// End-to-end throughput and latency of the pipeline, submit → broadcast, on the embedded runtime:
//   dotnet run -c Release --project bench/Atomic.Pipeline.Benchmarks -- [--clients 16,64] [--count 4000] [--postgres "<connection string>"]
// The all-in-one server runs in this process on Kestrel (the repository's components on a temporary SQLite file, or
// PostgreSQL), with the dev chain as its ARC endpoint; clients POST BEEFs over loopback HTTP and each waits for its
// transaction's tx.broadcast event before sending the next.
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
