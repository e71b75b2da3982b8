namespace Atomic.Services.Operations;

/// <summary>
/// Counts per second over the last <see cref="Seconds"/> seconds: one row of <see cref="Field"/> counters a second, in a
/// ring reused as time passes (a row whose second has gone is cleared when written again). Adding takes one short lock
/// and allocates nothing, so the pipeline's measurements can feed it on their own path.
/// </summary>
internal sealed class RollingCounters
{
    /// <summary>The most seconds a window can cover.</summary>
    public const int Seconds = 600;

    /// <summary>The bucket bounds of the durations, in seconds: those of <see cref="Pipeline.Telemetry"/>'s histograms.</summary>
    public static readonly double[] Bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800, 3600];

    /// <summary>Buckets a histogram takes: one per bound, and +Inf.</summary>
    public static readonly int Buckets = Bounds.Length + 1;

    /// <summary>The counters of a row; the two histograms follow them.</summary>
    public enum Field
    {
        Accepted,
        Verified,
        Rejected,
        Broadcast,
        Mined,
        ArcAccepted,
        ArcDecided,
        /// <summary>Acceptance to broadcast, in microseconds, summed over <see cref="Broadcast"/>.</summary>
        ProcessingMicros,
        Count,
    }

    /// <summary>Acceptance to broadcast, by <see cref="Bounds"/>.</summary>
    public static readonly int ProcessingBuckets = (int)Field.Count;

    /// <summary>One ARC broadcast call, by <see cref="Bounds"/>.</summary>
    public static readonly int ArcBuckets = ProcessingBuckets + Buckets;

    public static readonly int Width = ArcBuckets + Buckets;

    private readonly long[] _values = new long[Seconds * Width];
    private readonly long[] _stamps = new long[Seconds];
    private readonly Lock _gate = new();

    public RollingCounters() => Array.Fill(_stamps, -1);

    public void Add(long second, Field field, long amount = 1) => Add(second, (int)field, amount);

    /// <summary>
    /// Counts <paramref name="seconds"/> in <paramref name="histogram"/> (<see cref="ProcessingBuckets"/> or <see cref="ArcBuckets"/>).
    /// </summary>
    public void Observe(long second, int histogram, double seconds) => Add(second, histogram + Bucket(seconds), 1);

    /// <summary>
    /// Sums the rows of the <paramref name="window"/> seconds up to <paramref name="now"/> into <paramref name="into"/>
    /// (<see cref="Width"/> long).
    /// </summary>
    public void Sum(long now, int window, Span<long> into)
    {
        into.Clear();
        lock (_gate)
        {
            for (long second = now - Math.Min(window, Seconds) + 1; second <= now; second++)
            {
                int row = Row(second);
                if (_stamps[row] != second)
                {
                    continue;
                }

                ReadOnlySpan<long> values = _values.AsSpan(row * Width, Width);
                for (int i = 0; i < values.Length; i++)
                {
                    into[i] += values[i];
                }
            }
        }
    }

    /// <summary>
    /// The <paramref name="q"/> quantile of a histogram's <paramref name="counts"/>, interpolated within its bucket as
    /// Prometheus' <c>histogram_quantile</c> does (the +Inf bucket answers the highest bound); null with no counts.
    /// </summary>
    public static double? Quantile(double q, ReadOnlySpan<long> counts)
    {
        long total = 0;
        foreach (long count in counts)
        {
            total += count;
        }

        if (total == 0)
        {
            return null;
        }

        double rank = q * total;
        long below = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            if (below + counts[i] >= rank && counts[i] > 0)
            {
                if (i == Bounds.Length)
                {
                    return Bounds[^1];
                }

                double lower = i == 0 ? 0 : Bounds[i - 1];
                return lower + ((Bounds[i] - lower) * (rank - below) / counts[i]);
            }

            below += counts[i];
        }

        return Bounds[^1];
    }

    internal static int Bucket(double seconds)
    {
        for (int i = 0; i < Bounds.Length; i++)
        {
            if (seconds <= Bounds[i])
            {
                return i;
            }
        }

        return Bounds.Length;
    }

    private static int Row(long second) => (int)(((second % Seconds) + Seconds) % Seconds);

    private void Add(long second, int index, long amount)
    {
        int row = Row(second);
        lock (_gate)
        {
            if (_stamps[row] != second)
            {
                if (_stamps[row] > second)
                {
                    return; // older than the window the row now holds
                }

                Array.Clear(_values, row * Width, Width);
                _stamps[row] = second;
            }

            _values[(row * Width) + index] += amount;
        }
    }
}
