using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Atomic.Pipeline.Benchmarks;

/// <summary>Mean of every histogram of the <c>Atomic.Services</c> meter (per tag set) during a run: where the time goes.</summary>
internal sealed class StageTimes : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, (double Sum, long Count)> _sums = new();

    public StageTimes()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Atomic.Services" && instrument is Histogram<double>)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
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

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach ((string name, (double sum, long count)) in _sums.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append($"    {name}: mean {sum / count * 1000:F1} ms over {count}\n");
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();
}
