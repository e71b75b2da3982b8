namespace Atomic.Services.Operations;

/// <summary>
/// Whether this app's sidecar answered its last health probe (<see cref="AlertLoop"/> asks <c>/v1.0/healthz</c> at each
/// evaluation), for the rule <c>AtomicSidecarDown</c>: in process, and as the gauge <c>atomic.sidecar.up</c> the
/// server's telemetry reports from it.
/// </summary>
public sealed class SidecarHealth
{
    private int state = -1;

    /// <summary>The last probe's answer; null before the first.</summary>
    public bool? Up => Volatile.Read(ref state) switch
    {
        1 => true,
        0 => false,
        _ => null,
    };

    /// <summary>Records a probe's answer.</summary>
    public void Record(bool up) => Volatile.Write(ref state, up ? 1 : 0);
}
