using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Atomic.DevChain.Chain;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Server;
using Atomic.Services;
using Atomic.Services.Pipeline;
using Microsoft.Data.Sqlite;

namespace Atomic.Pipeline.Benchmarks;

/// <summary>The all-in-one server in this process, its transactions prepared, and a probe on <c>tx.broadcast</c>.</summary>
internal sealed class PipelineUnderTest : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;
    private readonly IAsyncDisposable _probe;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _waiting = new();
    private readonly HttpClient _http;

    private string? _dropTables;

    private PipelineUnderTest(WebApplication app, string directory, string url, string topic)
    {
        _app = app;
        _directory = directory;
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
        _probe = app.Services.GetRequiredService<Atomic.Server.Hosting.EmbeddedSidecarHost>().Components.PubSub(Names.PubSub).Subscribe(new Subscription(
            Names.PubSub, topic, (e, _) =>
            {
                if (e.Subject is { } txid && _waiting.TryRemove(txid, out TaskCompletionSource<long>? done))
                {
                    done.TrySetResult(Stopwatch.GetTimestamp());
                }

                return Task.FromResult(DeliveryResult.Success);
            }, Consumer: "bench-probe", MaxConcurrency: 64));
    }

    /// <summary>A client of the server under test, as the load's clients use.</summary>
    public HttpClient Http => _http;

    public static async Task<PipelineUnderTest> StartAsync(BenchOptions options)
    {
        string root = RepositoryRoot();
        string directory = Directory.CreateTempSubdirectory("atomic-bench-").FullName;
        string components = Directory.CreateDirectory(Path.Combine(directory, "components")).FullName;
        string run = Guid.NewGuid().ToString("n")[..8];
        IEnumerable<string> files = options.Postgres is null
            ? Directory.EnumerateFiles(Path.Combine(root, "components"), "*.yaml")
            : Directory.EnumerateFiles(Path.Combine(root, "components", "variants", "postgresql"), "*.yaml").Append(Path.Combine(root, "components", "pubsub.yaml"));
        foreach (string file in files)
        {
            string yaml = File.ReadAllText(file);
            if (options.Postgres is not null)
            {
                yaml = yaml.Replace("host=127.0.0.1 port=5432 user=atomic password=atomic dbname=atomic", options.Postgres, StringComparison.Ordinal)
                    .Replace("value: \"state\"", $"value: \"bench_state_{run}\"", StringComparison.Ordinal)
                    .Replace("value: \"tx\"", $"value: \"bench_tx_{run}\"", StringComparison.Ordinal);
            }

            File.WriteAllText(Path.Combine(components, Path.GetFileName(file)), yaml);
        }

        string url = $"http://127.0.0.1:{FreePort()}";
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = Atomic.Server.Extensions.HostArgs(), // as Program.cs: no watch of the configuration files
            EnvironmentName = "Development",
            ContentRootPath = Path.Combine(root, "src", "Atomic.Server"),
            ApplicationName = typeof(ServerOptions).Assembly.GetName().Name,
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Urls"] = url,
            ["Atomic:Components"] = components,
            ["Atomic:BaseDirectory"] = directory,
            ["Atomic:Sidecar:HttpPort"] = "0", // the embedded sidecar the services reach through the SDK, on free ports
            ["Atomic:Sidecar:GrpcPort"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Atomic.Server.Hosting.StartupBanner"] = "Warning",
        });
        if (options.Until == "verified")
        {
            builder.Configuration["Atomic:Pipeline:Broadcaster"] = "false";
        }

        if (options.Arc == "stub")
        {
            builder.Configuration["Atomic:Broadcaster:Endpoints:0:Url"] = url + "/stub-arc";
        }

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        await builder.AddAtomicServerAsync();
        WebApplication app = builder.Build();
        app.MapAtomicServer();
        app.MapPost("/stub-arc/v1/tx", async (HttpRequest request) =>
        {
            // ARC's answer to an accepted transaction, without looking at it (the txid is the double SHA-256 of the raw transaction, which the broadcaster does not check).
            await request.Body.CopyToAsync(Stream.Null);
            return Results.Json(new { txid = "", txStatus = "SEEN_ON_NETWORK", status = 200, title = "OK" });
        });
        await app.StartAsync();
        await WaitUntilReadyAsync(url);
        return new PipelineUnderTest(app, directory, url, options.Until == "verified" ? Names.Topics.BeefVerified : Names.Topics.TxBroadcast)
        {
            _dropTables = options.Postgres is null ? null : $"{options.Postgres}|DROP TABLE IF EXISTS bench_state_{run}; DROP TABLE IF EXISTS bench_tx_{run}",
        };
    }

    /// <summary>Waits until <c>/readyz</c> answers 200: the sidecar has read the app's subscriptions and actors.</summary>
    private static async Task WaitUntilReadyAsync(string url)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        for (int i = 0; i < 600; i++)
        {
            using HttpResponseMessage ready = await http.GetAsync("/readyz");
            if (ready.IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException("the server did not become ready within 30 s");
    }

    /// <summary>
    /// <paramref name="clients"/> loops share <paramref name="count"/> prepared transactions; each submits one, waits
    /// for its <c>tx.broadcast</c>, and takes the next. The first 10% warm up and are not counted.
    /// </summary>
    public async Task<PipelineResult> RunAsync(int clients, int count)
    {
        LocalChain chain = _app.Services.GetRequiredService<LocalChain>();
        List<(string TxId, byte[] Beef)> txs = TxFactory.Create(chain, count);
        int warmup = count / 10;
        var latencies = new double[count];
        int next = -1;
        long measuredStart = 0;
        long cpuStart = 0;
        long writtenStart = 0;
        var failures = new ConcurrentQueue<string>();

        async Task ClientAsync()
        {
            while (true)
            {
                int i = Interlocked.Increment(ref next);
                if (i >= txs.Count)
                {
                    return;
                }

                if (i == warmup)
                {
                    Interlocked.CompareExchange(ref cpuStart, Process.GetCurrentProcess().TotalProcessorTime.Ticks, 0);
                    Interlocked.CompareExchange(ref writtenStart, BytesWritten() ?? 0, 0);
                    Interlocked.CompareExchange(ref measuredStart, Stopwatch.GetTimestamp(), 0);
                }

                (string txid, byte[] beef) = txs[i];
                (double? ms, string? failure) = await SubmitAndWaitAsync(txid, beef, TimeSpan.FromSeconds(60));
                if (ms is double value)
                {
                    latencies[i] = value;
                }
                else
                {
                    failures.Enqueue(failure!);
                }
            }
        }

        long begin = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(ClientAsync)));
        TimeSpan measured = Stopwatch.GetElapsedTime(measuredStart == 0 ? begin : measuredStart);
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - TimeSpan.FromTicks(cpuStart);
        long? written = BytesWritten() - writtenStart;
        double[] counted = latencies[warmup..].Where(l => l > 0).Order().ToArray();
        return new PipelineResult(clients, counted.Length, measured, counted, failures.ToArray())
        {
            Cpu = cpuStart == 0 ? null : cpu,
            Written = cpuStart == 0 || writtenStart == 0 ? null : written,
        };
    }

    /// <summary>
    /// The bytes this process has handed the kernel to write, files and sockets alike (<c>wchar</c> in
    /// <c>/proc/self/io</c>); null where there is no such file (not Linux). Unlike the time a run takes, it hardly
    /// moves from run to run, so it shows what a change does to the state store's writes through the noise.
    /// </summary>
    private static long? BytesWritten()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/io"))
            {
                if (line.StartsWith("wchar:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan("wchar:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>The dev chain in this process (its faucet funds the prepared transactions; the soak mines on it).</summary>
    public LocalChain Chain => _app.Services.GetRequiredService<LocalChain>();

    /// <summary>
    /// Submits one BEEF and answers the milliseconds until its <c>tx.broadcast</c>, or null (with why) when it was
    /// refused or not broadcast within <paramref name="timeout"/>.
    /// </summary>
    public async Task<(double? Ms, string? Failure)> SubmitAndWaitAsync(string txid, byte[] beef, TimeSpan timeout)
    {
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[txid] = done;
        long start = Stopwatch.GetTimestamp();
        using var content = new ByteArrayContent(beef);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using HttpResponseMessage response = await _http.PostAsync("/v1/beef", content);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            _waiting.TryRemove(txid, out _);
            return (null, $"{txid}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        if (await Task.WhenAny(done.Task, Task.Delay(timeout)) != done.Task)
        {
            _waiting.TryRemove(txid, out _);
            return (null, $"{txid}: not broadcast within {timeout.TotalSeconds:0} s");
        }

        return (Stopwatch.GetElapsedTime(start, done.Task.Result).TotalMilliseconds, null);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _probe.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (_dropTables?.Split('|') is [string connection, string drop])
        {
            await using var db = Npgsql.NpgsqlDataSource.Create(connection);
            await using Npgsql.NpgsqlCommand command = db.CreateCommand(drop);
            await command.ExecuteNonQueryAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a pool still closing: the OS cleans temporary folders
        }
    }

    /// <summary>The repository's root (where Atomic.Dapr.sln is); relative paths given to the soak are taken from it.</summary>
    internal static string RepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Atomic.Dapr.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("run from inside the repository");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One run's figures, printed as one line.</summary>
internal sealed record PipelineResult(int Clients, int Count, TimeSpan Elapsed, double[] SortedLatenciesMs, string[] Failures)
{
    /// <summary>The process's CPU time over the measured part (the load clients' included, as they run in it).</summary>
    public TimeSpan? Cpu { get; init; }

    /// <summary>The bytes the process handed the kernel to write over the measured part (files and sockets), where known.</summary>
    public long? Written { get; init; }

    private double Percentile(double p) => SortedLatenciesMs.Length == 0 ? double.NaN : SortedLatenciesMs[Math.Min(SortedLatenciesMs.Length - 1, (int)Math.Ceiling(p * SortedLatenciesMs.Length) - 1)];

    public override string ToString() =>
        $"clients {Clients,4}: {Count / Elapsed.TotalSeconds,8:F0} tx/s  p50 {Percentile(0.50),7:F1} ms  p99 {Percentile(0.99),7:F1} ms  max {(SortedLatenciesMs.Length == 0 ? double.NaN : SortedLatenciesMs[^1]),7:F1} ms{(Cpu is TimeSpan cpu && Count > 0 ? $"  cpu {cpu.TotalMilliseconds / Count,4:F2} ms/tx" : string.Empty)}{(Written is long written && Count > 0 ? $"  written {written / 1024.0 / Count,5:F1} KB/tx" : string.Empty)}  ({Count} measured, {Failures.Length} failed{(Failures.Length > 0 ? ": " + Failures[0] : string.Empty)})";
}
