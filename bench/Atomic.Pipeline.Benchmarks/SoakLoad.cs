using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Atomic.Pipeline.Benchmarks;

/// <summary>One minute of the soak: what was sent and broadcast, the latency of those broadcast, and the process's memory at its end.</summary>
internal sealed record SoakMinute(int Minute, int Sent, int Broadcast, int Failed, double P50, double P99, double Max, double WorkingSetMb, double ManagedMb, int Gen2)
{
    public const string CsvHeader = "minute,sent,broadcast,failed,p50_ms,p99_ms,max_ms,working_set_mb,managed_heap_mb,gen2_collections";

    public string ToCsv() => string.Create(CultureInfo.InvariantCulture,
        $"{Minute},{Sent},{Broadcast},{Failed},{P50:F1},{P99:F1},{Max:F1},{WorkingSetMb:F1},{ManagedMb:F1},{Gen2}");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"minute {Minute,3}: sent {Sent,6}  broadcast {Broadcast,6}  failed {Failed,3}  p50 {P50,7:F1} ms  p99 {P99,7:F1} ms  max {Max,8:F1} ms  working set {WorkingSetMb,7:F1} MB  managed {ManagedMb,7:F1} MB  gen2 {Gen2}");
}

/// <summary>
/// The soak (issue #18): the all-in-one server in this process under an open-loop load at a fixed rate for a number of
/// minutes: every 100 ms the transactions due are sent (each waits for its <c>tx.broadcast</c> on its own, so a slow
/// server meets a growing queue rather than a slower client), the dev chain mines a block every 30 s, and each minute
/// the latency (submit → broadcast) of the transactions broadcast in it, the process's working set and managed heap are
/// sampled. Transactions are made a minute ahead (<see cref="TxFactory"/>), off the clock.
/// </summary>
internal static class SoakLoad
{
    public static async Task<IReadOnlyList<SoakMinute>> RunAsync(PipelineUnderTest server, int minutes, double rate, TextWriter log)
    {
        int perMinute = (int)Math.Ceiling(rate * 60);
        var ready = new ConcurrentQueue<(string TxId, byte[] Beef)>(Make(server, perMinute));
        var sent = new int[minutes];
        var failed = new int[minutes + 2];
        var latencies = Enumerable.Range(0, minutes + 2).Select(_ => new ConcurrentBag<double>()).ToArray();
        var inFlight = new List<Task>();
        string? firstFailure = null;
        long begin = Stopwatch.GetTimestamp();
        int Minute() => (int)(Stopwatch.GetElapsedTime(begin).TotalMinutes);

        async Task SendAsync(string txid, byte[] beef)
        {
            (double? ms, string? failure) = await server.SubmitAndWaitAsync(txid, beef, TimeSpan.FromSeconds(120));
            int at = Math.Min(Minute(), minutes + 1);
            if (ms is double value)
            {
                latencies[at].Add(value);
            }
            else
            {
                Interlocked.Increment(ref failed[at]);
                Interlocked.CompareExchange(ref firstFailure, failure, null);
            }
        }

        // A minute's transactions made ahead, off the clock.
        Task MakeMinute() => Task.Run(() =>
        {
            foreach ((string, byte[]) tx in Make(server, perMinute))
            {
                ready.Enqueue(tx);
            }
        });

        Task making = MakeMinute();
        using var miner = new PeriodicTimer(TimeSpan.FromSeconds(30));
        Task mining = Task.Run(async () =>
        {
            while (await miner.WaitForNextTickAsync())
            {
                server.Chain.Mine();
            }
        });

        var rows = new List<SoakMinute>(minutes);
        long total = 0;
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        int reported = 0;
        while (await tick.WaitForNextTickAsync())
        {
            double elapsed = Stopwatch.GetElapsedTime(begin).TotalSeconds;
            int minute = (int)(elapsed / 60);
            if (minute > reported)
            {
                // The minute that ended: its latencies, and memory now.
                rows.Add(Sample(reported, sent[reported], latencies[reported], failed[reported]));
                await log.WriteLineAsync(rows[^1].ToString());
                reported = minute;
                if (making.IsCompleted && reported < minutes - 1)
                {
                    making = MakeMinute();
                }
            }

            if (minute >= minutes)
            {
                break;
            }

            long due = (long)(elapsed * rate) - total;
            for (long i = 0; i < due && ready.TryDequeue(out (string TxId, byte[] Beef) tx); i++)
            {
                total++;
                sent[minute]++;
                inFlight.Add(SendAsync(tx.TxId, tx.Beef));
            }

            if (inFlight.Count > 10_000)
            {
                inFlight.RemoveAll(t => t.IsCompleted);
            }
        }

        await Task.WhenAll(inFlight);
        miner.Dispose();
        await mining;
        if (firstFailure is not null)
        {
            await log.WriteLineAsync($"first failure: {firstFailure}");
        }

        return rows;
    }

    private static List<(string TxId, byte[] Beef)> Make(PipelineUnderTest server, int count)
    {
        var all = new List<(string, byte[])>(count);
        while (all.Count < count)
        {
            all.AddRange(TxFactory.Create(server.Chain, Math.Min(4000, count - all.Count)));
        }

        return all;
    }

    private static SoakMinute Sample(int minute, int sent, ConcurrentBag<double> latencies, int failed)
    {
        double[] sorted = [.. latencies.Order()];
        double P(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        using var process = Process.GetCurrentProcess();
        return new SoakMinute(minute + 1, sent, sorted.Length, failed, P(0.50), P(0.99), sorted.Length == 0 ? double.NaN : sorted[^1],
            process.WorkingSet64 / 1048576.0, GC.GetTotalMemory(false) / 1048576.0, GC.CollectionCount(2));
    }

    /// <summary>
    /// The soak as an SVG picture: working set and managed heap (MB) over the minutes, above p50 and p99 latency (ms).
    /// Each line of <paramref name="title"/> is a line above the panels.
    /// </summary>
    public static string Plot(IReadOnlyList<SoakMinute> rows, string title)
    {
        string[] lines = title.Split('\n');
        const int Width = 860, PanelHeight = 240, Left = 70, Right = 20, Gap = 60;
        int top = 40 + (18 * lines.Length);
        var svg = new StringBuilder();
        int height = top + (2 * PanelHeight) + Gap + 50;
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>\n");
        for (int i = 0; i < lines.Length; i++)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{22 + (18 * i)}\" font-size=\"{(i == 0 ? 14 : 12)}\">{Escape(lines[i])}</text>\n");
        }

        Panel(svg, rows, top, "memory (MB)", [("working set", "#1f77b4", r => r.WorkingSetMb), ("managed heap", "#2ca02c", r => r.ManagedMb)]);
        Panel(svg, rows, top + PanelHeight + Gap, "submit → broadcast (ms)", [("p50", "#ff7f0e", r => r.P50), ("p99", "#d62728", r => r.P99)]);
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + ((Width - Left - Right) / 2) - 20}\" y=\"{height - 12}\">minute</text>\n");
        svg.Append("</svg>\n");
        return svg.ToString();

        static void Panel(StringBuilder svg, IReadOnlyList<SoakMinute> rows, int top, string label, (string Name, string Color, Func<SoakMinute, double> Value)[] series)
        {
            double max = 0;
            foreach (var s in series)
            {
                foreach (SoakMinute r in rows)
                {
                    double v = s.Value(r);
                    max = double.IsFinite(v) ? Math.Max(max, v) : max;
                }
            }

            max = Nice(max);
            int plotWidth = Width - Left - Right;
            double X(int minute) => Left + (rows.Count <= 1 ? 0 : plotWidth * (minute - 1) / (double)(rows.Count - 1));
            double Y(double v) => top + PanelHeight - (PanelHeight * v / max);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"{top - 8}\">{Escape(label)}</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{top}\" width=\"{plotWidth}\" height=\"{PanelHeight}\" fill=\"none\" stroke=\"#999\"/>\n");
            for (int i = 0; i <= 4; i++)
            {
                double v = max * i / 4;
                double y = Y(v);
                svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Left + plotWidth}\" y1=\"{y:F1}\" y2=\"{y:F1}\" stroke=\"#eee\"/>");
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{v:0.#}</text>\n");
            }

            foreach (SoakMinute r in rows)
            {
                if (r.Minute == 1 || r.Minute % 5 == 0)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(r.Minute):F1}\" y=\"{top + PanelHeight + 16}\" text-anchor=\"middle\">{r.Minute}</text>\n");
                }
            }

            int legend = Left + plotWidth - 10;
            foreach (var s in series.Reverse())
            {
                var points = string.Join(' ', rows.Where(r => double.IsFinite(s.Value(r))).Select(r => string.Create(CultureInfo.InvariantCulture, $"{X(r.Minute):F1},{Y(s.Value(r)):F1}")));
                svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\"/>\n");
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{legend}\" y=\"{top + 16}\" text-anchor=\"end\" fill=\"{s.Color}\">{Escape(s.Name)}</text>\n");
                legend -= 110;
            }
        }

        static double Nice(double max)
        {
            if (max <= 0)
            {
                return 1;
            }

            double step = Math.Pow(10, Math.Floor(Math.Log10(max)));
            foreach (double m in new[] { 1, 2, 2.5, 5, 10 })
            {
                if (m * step >= max)
                {
                    return m * step;
                }
            }

            return 10 * step;
        }
    }

    /// <summary>The rows of a soak's CSV (as <see cref="SoakMinute.ToCsv"/> writes them), to draw again.</summary>
    public static IReadOnlyList<SoakMinute> Read(string path)
    {
        var rows = new List<SoakMinute>();
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            string[] f = line.Split(',');
            if (f.Length != 10)
            {
                throw new FormatException($"{path}: a row has {f.Length} fields, not 10: {line}");
            }

            static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
            static int I(string s) => int.Parse(s, CultureInfo.InvariantCulture);
            rows.Add(new SoakMinute(I(f[0]), I(f[1]), I(f[2]), I(f[3]), D(f[4]), D(f[5]), D(f[6]), D(f[7]), D(f[8]), I(f[9])));
        }

        return rows;
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
