using Atomic.Services.Operations;

namespace Atomic.Services.Tests.Operations;

public sealed class RollingCountersTests
{
    [Fact]
    public void A_window_sums_only_its_own_seconds()
    {
        var counters = new RollingCounters();
        counters.Add(1000, RollingCounters.Field.Accepted, 5);
        counters.Add(1059, RollingCounters.Field.Accepted, 2);
        counters.Add(1060, RollingCounters.Field.Accepted, 1);
        Span<long> sum = stackalloc long[RollingCounters.Width];

        counters.Sum(1060, 60, sum);

        sum[(int)RollingCounters.Field.Accepted].Should().Be(3, "second 1000 is 61 seconds before 1060");
    }

    [Fact]
    public void A_second_that_came_round_again_starts_from_zero()
    {
        var counters = new RollingCounters();
        counters.Add(7, RollingCounters.Field.Mined, 4);
        counters.Add(7 + RollingCounters.Seconds, RollingCounters.Field.Mined, 1);
        Span<long> sum = stackalloc long[RollingCounters.Width];

        counters.Sum(7 + RollingCounters.Seconds, RollingCounters.Seconds, sum);

        sum[(int)RollingCounters.Field.Mined].Should().Be(1);
    }

    [Fact]
    public void Quantiles_interpolate_within_the_bucket_as_histogram_quantile_does()
    {
        var counters = new RollingCounters();
        for (int i = 0; i < 100; i++)
        {
            counters.Observe(50, RollingCounters.ArcBuckets, i < 99 ? 0.2 : 20);
        }

        Span<long> sum = stackalloc long[RollingCounters.Width];
        counters.Sum(50, 1, sum);
        ReadOnlySpan<long> arc = sum.Slice(RollingCounters.ArcBuckets, RollingCounters.Buckets);

        RollingCounters.Quantile(0.5, arc).Should().BeApproximately(0.1 + (0.15 * 50 / 99), 1e-9, "0.2 s falls in the (0.1, 0.25] bucket");
        RollingCounters.Quantile(0.99, arc).Should().BeApproximately(0.25, 1e-9);
        RollingCounters.Quantile(0.999, arc).Should().BeApproximately(10 + (20 * 0.9), 1e-9, "the one 20 s call falls in the (10, 30] bucket");
        RollingCounters.Quantile(0.5, new long[RollingCounters.Buckets]).Should().BeNull();
    }
}
