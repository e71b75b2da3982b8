using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Atomic.Pipeline.Benchmarks;

/// <summary>
/// Mean of every histogram of the <c>Atomic.Services</c> meter (per tag set) during a run, and how many requests each
/// route of the process's hosts served (the app's, the embedded sidecar's and the dev chain's, over sockets or in process):
/// where the time goes.
/// </summary>
internal sealed class StageTimes : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, (double Sum, long Count)> _sums = new();
    private readonly ConcurrentDictionary<string, long> _requests = new();

    public StageTimes()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if ((instrument.Meter.Name == "Atomic.Services" && instrument is Histogram<double>)
                || (instrument.Meter.Name == "Microsoft.AspNetCore.Hosting" && instrument.Name == "http.server.request.duration"))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Meter.Name != "Atomic.Services")
            {
                string route = "(no route)";
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "http.route" && tag.Value is string named)
                    {
                        route = named;
                    }
                }

                _requests.AddOrUpdate(route, 1, (_, n) => n + 1);
                return;
            }

            var key = new StringBuilder(instrument.Name);
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key is "stage" or "outcome")
                {
                    key.Append(' ').Append(tag.Key).Append('=').Append(tag.Value);
                }
            }

            _sums.AddOrUpdate(key.ToString(), (value, 1), (_, s) => (s.Sum + value, s.Count + 1));
        });
        _listener.Start();
    }

    /// <summary>The means, then the requests each route served per transaction (<paramref name="transactions"/> submitted).</summary>
    public string Describe(int transactions)
    {
        var text = new StringBuilder();
        foreach ((string name, (double sum, long count)) in _sums.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append($"    {name}: mean {sum / count * 1000:F1} ms over {count}\n");
        }

        long total = 0;
        foreach ((string route, long count) in _requests.OrderByDescending(p => p.Value))
        {
            total += count;
            text.Append($"    requests {route}: {(double)count / transactions:F2} per tx\n");
        }

        text.Append($"    requests, all routes: {(double)total / transactions:F2} per tx\n");

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();
}
