using Atomic.Pipeline.Benchmarks;

// End-to-end throughput and latency of the pipeline, submit → broadcast, on the embedded runtime:
//   dotnet run -c Release --project bench/Atomic.Pipeline.Benchmarks -- [--clients 16,64] [--count 4000] [--postgres "<connection string>"]
// The all-in-one server runs in this process on Kestrel (the repository's components on a temporary SQLite file, or
// PostgreSQL), with the dev chain as its ARC endpoint; clients POST BEEFs over loopback HTTP and each waits for its
// transaction's tx.broadcast event before sending the next.
//   dotnet run -c Release --project bench/Atomic.Pipeline.Benchmarks -- sessions [--concurrent 16] [--count 64]
// runs multi-party swap sessions instead (SessionLoad): sessions completed per second, each played by both parties.
//   dotnet run -c Release --project bench/Atomic.Pipeline.Benchmarks -- soak [--minutes 30] [--rate N] [--out bench/results]
// measures the maximum rate, then soaks the server at half of it (SoakLoad): latency and memory each minute, as CSV
// and an SVG plot. soak-plot CSV "TITLE" draws a CSV again. Relative
// paths are taken from the repository's root (dotnet run starts the benchmark in its project's folder).
if (args.Length > 0 && args[0] == "sessions")
{
    int concurrent = SessionArgument(args, "--concurrent", 16);
    int sessions = SessionArgument(args, "--count", 64);
    Console.WriteLine($"# swap sessions, create → completed, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, SQLite (components/)");
    await using PipelineUnderTest server = await PipelineUnderTest.StartAsync(new BenchOptions([concurrent], sessions, null, false, "devchain", "broadcast"));
    Console.WriteLine(await SessionLoad.RunAsync(server.Http, concurrent, sessions));
    return 0;
}

if (args.Length > 2 && args[0] == "soak-plot")
{
    // A soak's CSV drawn again: soak-plot CSV "TITLE" (a \n in TITLE starts a second line); the SVG beside the CSV.
    string csvPath = Path.GetFullPath(args[1], PipelineUnderTest.RepositoryRoot());
    string svgPath = Path.ChangeExtension(csvPath, ".svg");
    await File.WriteAllTextAsync(svgPath, SoakLoad.Plot(SoakLoad.Read(csvPath), args[2].Replace("\\n", "\n", StringComparison.Ordinal)));
    Console.WriteLine($"# wrote {svgPath}");
    return 0;
}

if (args.Length > 0 && args[0] == "soak")
{
    // The soak: the maximum rate measured first (64 clients, closed loop), then half of it for --minutes (default 30).
    int minutes = SessionArgument(args, "--minutes", 30);
    int probe = SessionArgument(args, "--probe-count", 4000);
    string outDir = Path.GetFullPath(args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault() ?? Path.Combine("bench", "results"), PipelineUnderTest.RepositoryRoot());
    Directory.CreateDirectory(outDir);
    string machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, SQLite (components/), the dev chain as ARC";
    double max;
    await using (PipelineUnderTest probing = await PipelineUnderTest.StartAsync(new BenchOptions([64], probe, null, false, "devchain", "broadcast")))
    {
        PipelineResult measured = await probing.RunAsync(64, probe);
        Console.WriteLine($"# maximum: {measured}");
        max = measured.Count / measured.Elapsed.TotalSeconds;
    }

    double rate = SessionArgument(args, "--rate", 0) is int fixedRate and > 0 ? fixedRate : Math.Max(1, Math.Floor(max / 2));
    Console.WriteLine($"# soak: {rate} tx/s (half of {max:F0}) for {minutes} min, {machine}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    await using PipelineUnderTest soaked = await PipelineUnderTest.StartAsync(new BenchOptions([1], 1, null, false, "devchain", "broadcast"));
    IReadOnlyList<SoakMinute> rows = await SoakLoad.RunAsync(soaked, minutes, rate, Console.Out);
    string stamp = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
    await File.WriteAllLinesAsync(Path.Combine(outDir, $"soak-{stamp}.csv"), [SoakMinute.CsvHeader, .. rows.Select(r => r.ToCsv())]);
    await File.WriteAllTextAsync(Path.Combine(outDir, $"soak-{stamp}.svg"),
        SoakLoad.Plot(rows, $"soak {stamp}: {rate} tx/s (half of the {max:F0} measured) for {minutes} min\n{machine}"));
    Console.WriteLine($"# wrote {Path.Combine(outDir, $"soak-{stamp}.csv")} and .svg");
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
    using Atomic.Sidecar.Benchmarks.AllocationSampler? sampler = options.Allocations ? new() : null;
    long allocated = GC.GetTotalAllocatedBytes();
    PipelineResult result = await pipeline.RunAsync(clients, options.Count);
    allocated = GC.GetTotalAllocatedBytes() - allocated;
    Console.WriteLine(result);
    if (options.Stages)
    {
        Console.Write(stages.Describe(options.Count));
    }

    if (sampler is not null)
    {
        // Everything this process allocated while the transactions ran (the server, its sidecar and the clients), warm-up included.
        Console.WriteLine($"# allocated {allocated / 1024.0 / options.Count:N0} KB per transaction");
        sampler.Print(25);
    }
}

return 0;
