using System.Diagnostics.Metrics;
using Atomic.Services.Pipeline;

namespace Atomic.Services.Operations;

/// <summary>
/// Whether this app's sidecar answered its last health probe (<see cref="AlertLoop"/> asks <c>/v1.0/healthz</c> at each
/// evaluation), for the rule <c>AtomicSidecarDown</c>, in process and as the gauge <c>atomic.sidecar.up</c> (1 or 0;
/// with several servers in one process, 0 when any of them finds its sidecar down).
/// </summary>
public sealed class SidecarHealth : IDisposable
{
    private static readonly List<SidecarHealth> Live = [];
    private static readonly Lock Gate = new();

    /// <summary><c>atomic.sidecar.up</c>: 1 while the sidecar answers its health endpoint, 0 when it does not.</summary>
    private static readonly ObservableGauge<int> UpGauge = Telemetry.Meter.CreateObservableGauge(
        "atomic.sidecar.up", Observe, "{up}", "1 while the sidecar answers its health endpoint, else 0");

    private int state = -1;

    public SidecarHealth()
    {
        _ = UpGauge;
        lock (Gate)
        {
            Live.Add(this);
        }
    }

    /// <summary>The last probe's answer; null before the first.</summary>
    public bool? Up => Volatile.Read(ref state) switch
    {
        1 => true,
        0 => false,
        _ => null,
    };

    /// <summary>Records a probe's answer.</summary>
    public void Record(bool up) => Volatile.Write(ref state, up ? 1 : 0);

    public void Dispose()
    {
        lock (Gate)
        {
            Live.Remove(this);
        }
    }

    private static IEnumerable<Measurement<int>> Observe()
    {
        int? up = null;
        lock (Gate)
        {
            foreach (SidecarHealth health in Live)
            {
                if (health.Up is bool b)
                {
                    up = Math.Min(up ?? 1, b ? 1 : 0);
                }
            }
        }

        return up is int value ? [new Measurement<int>(value)] : [];
    }
}
