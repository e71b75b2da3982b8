using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv.ChainTrackers;

namespace Atomic.Bsv.Tests.Spv.ChainTrackers;

public class CachingChainTrackerTests
{
    private static readonly Hash256 Root813706 = Hash256.FromDisplayHex("57aab6e6fb1b697174ffb64e062c4728f2ffd33ddcfa02a43b64d8cd29b483b4");

    // Synthetic roots for other heights.
    private static readonly Hash256 RootA = Hash256.FromDisplayHex("c3b9a7f2d1e4058a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c");
    private static readonly Hash256 RootB = Hash256.FromDisplayHex("0e4d6a1b2c3f405162738495a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d9");

    private static readonly MerkleRootQuery Q813706 = new(Root813706, 813706);
    private static readonly MerkleRootQuery Q813707 = new(RootA, 813707);
    private static readonly MerkleRootQuery Q813708 = new(RootB, 813708);

    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Confirmed_root_is_answered_from_the_cache_until_the_ttl_passes()
    {
        var inner = new CountingTracker(Q813706);
        var time = new FakeTime();
        var tracker = new CachingChainTracker(inner, Ttl, timeProvider: time);

        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();
        time.Advance(Ttl - TimeSpan.FromSeconds(1));
        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();
        inner.Calls.Should().HaveCount(1);

        time.Advance(TimeSpan.FromSeconds(1));
        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();
        inner.Calls.Should().HaveCount(2);
    }

    [Fact]
    public async Task False_answer_is_never_cached()
    {
        var inner = new CountingTracker();
        var tracker = new CachingChainTracker(inner, Ttl, timeProvider: new FakeTime());

        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeFalse();
        inner.Confirm(Q813706); // the source learns of the block later
        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();

        inner.Calls.Should().HaveCount(2);
        tracker.Count.Should().Be(1);
    }

    [Fact]
    public async Task Batch_sends_only_the_misses_in_one_inner_call()
    {
        var inner = new CountingTracker(Q813706, Q813707);
        var tracker = new CachingChainTracker(inner, Ttl, timeProvider: new FakeTime());
        await tracker.IsValidRootForHeightAsync(Root813706, 813706);

        IReadOnlyList<bool> answers = await tracker.AreValidRootsAsync([Q813706, Q813707, Q813708, Q813707]);

        answers.Should().Equal(true, true, false, true);
        inner.Calls.Should().HaveCount(2);
        inner.Calls[1].Should().Equal(Q813707, Q813708);
    }

    [Fact]
    public async Task Fully_cached_batch_does_not_call_the_inner_tracker()
    {
        var inner = new CountingTracker(Q813706, Q813707);
        var tracker = new CachingChainTracker(inner, Ttl, timeProvider: new FakeTime());
        await tracker.AreValidRootsAsync([Q813706, Q813707]);

        (await tracker.AreValidRootsAsync([Q813707, Q813706, Q813707])).Should().Equal(true, true, true);

        inner.Calls.Should().HaveCount(1);
    }

    [Fact]
    public async Task Empty_batch_does_not_call_the_inner_tracker()
    {
        var inner = new CountingTracker();
        var tracker = new CachingChainTracker(inner, Ttl);

        (await tracker.AreValidRootsAsync([])).Should().BeEmpty();
        inner.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Full_cache_evicts_the_oldest_entries_first()
    {
        var inner = new CountingTracker(Q813706, Q813707, Q813708);
        var tracker = new CachingChainTracker(inner, Ttl, capacity: 2, timeProvider: new FakeTime());

        await tracker.IsValidRootForHeightAsync(Root813706, 813706);
        await tracker.IsValidRootForHeightAsync(RootA, 813707);
        await tracker.IsValidRootForHeightAsync(RootB, 813708);
        tracker.Count.Should().Be(2);
        inner.Calls.Clear();

        (await tracker.AreValidRootsAsync([Q813706, Q813707, Q813708])).Should().Equal(true, true, true);

        inner.Calls.Should().ContainSingle().Which.Should().Equal(Q813706);
    }

    [Fact]
    public async Task Cache_stays_within_its_capacity_under_concurrent_use()
    {
        MerkleRootQuery[] all = Enumerable.Range(0, 500).Select(i => new MerkleRootQuery(RootA, 800_000u + (uint)i)).ToArray();
        var inner = new CountingTracker(all);
        var tracker = new CachingChainTracker(inner, Ttl, capacity: 64, timeProvider: new FakeTime());

        await Parallel.ForEachAsync(all.Chunk(7), async (chunk, ct) =>
            (await tracker.AreValidRootsAsync(chunk, ct)).Should().OnlyContain(v => v));

        tracker.Count.Should().BeLessThanOrEqualTo(64);
    }

    [Fact]
    public async Task Errors_from_the_inner_tracker_pass_through_and_are_not_cached()
    {
        var inner = new CountingTracker(Q813706) { FailNext = true };
        var tracker = new CachingChainTracker(inner, Ttl, timeProvider: new FakeTime());

        await FluentActions.Awaiting(() => tracker.AreValidRootsAsync([Q813706]).AsTask()).Should().ThrowAsync<ChainTrackerException>();
        (await tracker.AreValidRootsAsync([Q813706])).Should().Equal(true);
        tracker.Count.Should().Be(1);
    }

    [Fact]
    public async Task Inner_answer_with_the_wrong_number_of_entries_is_a_ChainTrackerException()
    {
        var inner = new CountingTracker(Q813706) { ShortAnswers = true };
        var tracker = new CachingChainTracker(inner, Ttl, timeProvider: new FakeTime());

        await FluentActions.Awaiting(() => tracker.AreValidRootsAsync([Q813706, Q813707]).AsTask()).Should().ThrowAsync<ChainTrackerException>();
    }

    [Fact]
    public async Task Zero_ttl_caches_nothing()
    {
        var inner = new CountingTracker(Q813706);
        var tracker = new CachingChainTracker(inner, TimeSpan.Zero, timeProvider: new FakeTime());

        await tracker.IsValidRootForHeightAsync(Root813706, 813706);
        await tracker.IsValidRootForHeightAsync(Root813706, 813706);

        inner.Calls.Should().HaveCount(2);
        tracker.Count.Should().Be(0);
    }

    [Fact]
    public async Task Current_height_is_reused_for_ten_seconds_by_default()
    {
        var inner = new CountingTracker { Height = 813706 };
        var time = new FakeTime();
        var tracker = new CachingChainTracker(inner, Ttl, timeProvider: time);

        (await tracker.CurrentHeightAsync()).Should().Be(813706u);
        inner.Height = 813707;
        time.Advance(TimeSpan.FromSeconds(9));
        (await tracker.CurrentHeightAsync()).Should().Be(813706u);
        time.Advance(TimeSpan.FromSeconds(1));
        (await tracker.CurrentHeightAsync()).Should().Be(813707u);

        inner.HeightCalls.Should().Be(2);
    }

    [Fact]
    public async Task Current_height_time_to_live_is_configurable()
    {
        var inner = new CountingTracker { Height = 813706 };
        var time = new FakeTime();
        var tracker = new CachingChainTracker(inner, Ttl, timeProvider: time, currentHeightTtl: TimeSpan.FromMinutes(1));

        await tracker.CurrentHeightAsync();
        time.Advance(TimeSpan.FromSeconds(59));
        await tracker.CurrentHeightAsync();
        inner.HeightCalls.Should().Be(1);

        var uncached = new CachingChainTracker(inner, Ttl, timeProvider: time, currentHeightTtl: TimeSpan.Zero);
        await uncached.CurrentHeightAsync();
        await uncached.CurrentHeightAsync();
        inner.HeightCalls.Should().Be(3);
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        var inner = new CountingTracker();
        FluentActions.Invoking(() => new CachingChainTracker(null!, Ttl)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new CachingChainTracker(inner, TimeSpan.FromSeconds(-1))).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new CachingChainTracker(inner, Ttl, capacity: 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new CachingChainTracker(inner, Ttl, currentHeightTtl: TimeSpan.FromSeconds(-1)))
            .Should().Throw<ArgumentOutOfRangeException>();
    }

    private sealed class FakeTime : TimeProvider
    {
        private DateTimeOffset _now = new(2023, 10, 11, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    /// <summary>Confirms the queries it was given; records every root call (single calls as one-element batches).</summary>
    private sealed class CountingTracker(params MerkleRootQuery[] confirmed) : IChainTracker
    {
        private readonly HashSet<MerkleRootQuery> _confirmed = [.. confirmed];
        private int _heightCalls;

        public List<MerkleRootQuery[]> Calls { get; } = [];

        public uint Height { get; set; }

        public int HeightCalls => _heightCalls;

        public bool FailNext { get; set; }

        public bool ShortAnswers { get; set; }

        public void Confirm(MerkleRootQuery query)
        {
            lock (_confirmed)
            {
                _confirmed.Add(query);
            }
        }

        public async ValueTask<bool> IsValidRootForHeightAsync(Hash256 root, uint height, CancellationToken cancellationToken = default) =>
            (await AreValidRootsAsync([new MerkleRootQuery(root, height)], cancellationToken))[0];

        public async ValueTask<IReadOnlyList<bool>> AreValidRootsAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            lock (_confirmed)
            {
                Calls.Add([.. queries]);
                if (FailNext)
                {
                    FailNext = false;
                    throw new ChainTrackerException("source unavailable");
                }

                return queries.Skip(ShortAnswers ? 1 : 0).Select(_confirmed.Contains).ToArray();
            }
        }

        public ValueTask<uint> CurrentHeightAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _heightCalls);
            return ValueTask.FromResult(Height);
        }
    }
}
