using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv.ChainTrackers;

namespace Atomic.Bsv.Tests.Spv.ChainTrackers;

public class CompositeChainTrackerTests
{
    private static readonly Hash256 Root813706 = Hash256.FromDisplayHex("57aab6e6fb1b697174ffb64e062c4728f2ffd33ddcfa02a43b64d8cd29b483b4");

    // Synthetic root, standing for a forged or unknown one.
    private static readonly Hash256 BadRoot = Hash256.FromDisplayHex("c3b9a7f2d1e4058a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c");

    private static readonly MerkleRootQuery Good = new(Root813706, 813706);
    private static readonly MerkleRootQuery Bad = new(BadRoot, 813706);

    private static FakeTracker Knows(params MerkleRootQuery[] known) => new(q => known.Contains(q), 813706);

    private static FakeTracker KnowsNothing() => new(_ => false, 813706);

    private static FakeTracker Failing(string message) => new(_ => throw new ChainTrackerException(message), null, message);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    [InlineData(5, 3)]
    public void Default_quorum_is_a_majority(int trackers, int quorum)
    {
        new CompositeChainTracker(Enumerable.Range(0, trackers).Select(_ => (IChainTracker)KnowsNothing()).ToList()).Quorum.Should().Be(quorum);
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        FluentActions.Invoking(() => new CompositeChainTracker([])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new CompositeChainTracker([KnowsNothing(), null!])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new CompositeChainTracker([KnowsNothing(), KnowsNothing()], 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new CompositeChainTracker([KnowsNothing(), KnowsNothing()], 3)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task Root_confirmed_by_two_of_three_is_valid()
    {
        var tracker = new CompositeChainTracker([Knows(Good), Knows(Good), KnowsNothing()]);

        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();
    }

    [Fact]
    public async Task Root_confirmed_by_one_of_three_is_false()
    {
        var tracker = new CompositeChainTracker([Knows(Good), KnowsNothing(), KnowsNothing()]);

        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeFalse();
    }

    [Fact]
    public async Task One_failing_tracker_of_three_does_not_stop_a_verdict_either_way()
    {
        var tracker = new CompositeChainTracker([Knows(Good), Knows(Good), Failing("WoC down")]);

        (await tracker.AreValidRootsAsync([Good, Bad])).Should().Equal(true, false);
    }

    [Fact]
    public async Task Outcome_that_depends_on_failing_trackers_throws_listing_their_errors()
    {
        var tracker = new CompositeChainTracker([Knows(Good), KnowsNothing(), Failing("BHS answered HTTP 503")]);

        var thrown = await FluentActions.Awaiting(() => tracker.IsValidRootForHeightAsync(Root813706, 813706).AsTask())
            .Should().ThrowAsync<ChainTrackerException>();
        thrown.Which.Message.Should().Contain("BHS answered HTTP 503").And.Contain("813706");
        thrown.Which.InnerException.Should().BeOfType<AggregateException>()
            .Which.InnerExceptions.Should().ContainSingle().Which.Message.Should().Be("BHS answered HTTP 503");
    }

    [Fact]
    public async Task Two_failing_of_three_throws_listing_both_errors()
    {
        var tracker = new CompositeChainTracker([Knows(Good), Failing("first down"), Failing("second down")]);

        var thrown = await FluentActions.Awaiting(() => tracker.IsValidRootForHeightAsync(Root813706, 813706).AsTask())
            .Should().ThrowAsync<ChainTrackerException>();
        thrown.Which.Message.Should().Contain("first down").And.Contain("second down");
        thrown.Which.InnerException.Should().BeOfType<AggregateException>().Which.InnerExceptions.Should().HaveCount(2);
    }

    [Fact]
    public async Task Root_no_one_confirms_is_false_even_when_failures_cannot_change_that()
    {
        // Quorum 3 of 4: two say false and two fail, so even two more "true" would not make three.
        var tracker = new CompositeChainTracker([KnowsNothing(), KnowsNothing(), Failing("a"), Failing("b")]);

        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeFalse();
    }

    [Fact]
    public async Task Custom_quorum_of_all_needs_every_tracker()
    {
        var tracker = new CompositeChainTracker([Knows(Good), Knows(Good), Knows(Good, Bad)], quorum: 3);

        (await tracker.AreValidRootsAsync([Good, Bad])).Should().Equal(true, false);
    }

    [Fact]
    public async Task Quorum_of_one_accepts_any_confirmation()
    {
        var tracker = new CompositeChainTracker([KnowsNothing(), Knows(Bad), KnowsNothing()], quorum: 1);

        (await tracker.AreValidRootsAsync([Good, Bad])).Should().Equal(false, true);
    }

    [Fact]
    public async Task Batch_is_decided_per_query_and_each_tracker_gets_the_whole_batch_once()
    {
        var other = new MerkleRootQuery(BadRoot, 813707);
        FakeTracker[] trackers = [Knows(Good, other), Knows(Good), Knows(other)];
        var tracker = new CompositeChainTracker(trackers);

        (await tracker.AreValidRootsAsync([Good, Bad, other])).Should().Equal(true, false, true);
        trackers.Should().OnlyContain(t => t.Batches.Count == 1 && t.Batches[0].Count == 3);
    }

    [Fact]
    public async Task Tracker_answering_the_wrong_number_of_entries_counts_as_failing()
    {
        var shortAnswer = new FakeTracker(_ => true, 813706, shortBy: 1);
        var tracker = new CompositeChainTracker([Knows(Good), KnowsNothing(), shortAnswer]);

        var thrown = await FluentActions.Awaiting(() => tracker.AreValidRootsAsync([Good, Bad]).AsTask())
            .Should().ThrowAsync<ChainTrackerException>();
        thrown.Which.Message.Should().Contain("1 entries for 2 queries");
    }

    [Fact]
    public async Task Empty_batch_asks_no_one()
    {
        FakeTracker[] trackers = [Knows(Good), Knows(Good)];
        var tracker = new CompositeChainTracker(trackers);

        (await tracker.AreValidRootsAsync([])).Should().BeEmpty();
        trackers.Should().OnlyContain(t => t.Batches.Count == 0);
    }

    [Fact]
    public async Task Current_height_is_the_median_of_the_answers()
    {
        var tracker = new CompositeChainTracker(
        [
            new FakeTracker(_ => false, 813710),
            new FakeTracker(_ => false, 813706),
            new FakeTracker(_ => false, 900000),
        ]);

        (await tracker.CurrentHeightAsync()).Should().Be(813710u);
    }

    [Fact]
    public async Task Current_height_with_an_even_count_of_answers_is_the_lower_middle()
    {
        var tracker = new CompositeChainTracker(
        [
            new FakeTracker(_ => false, 813712),
            new FakeTracker(_ => false, 813706),
            Failing("down"),
        ]);

        (await tracker.CurrentHeightAsync()).Should().Be(813706u);
    }

    [Fact]
    public async Task Current_height_from_fewer_than_a_quorum_throws()
    {
        var tracker = new CompositeChainTracker([new FakeTracker(_ => false, 813706), Failing("x down"), Failing("y down")]);

        var thrown = await FluentActions.Awaiting(() => tracker.CurrentHeightAsync().AsTask()).Should().ThrowAsync<ChainTrackerException>();
        thrown.Which.Message.Should().Contain("x down").And.Contain("y down");
    }

    [Fact]
    public async Task Any_exception_from_a_tracker_counts_as_not_agreeing()
    {
        var crashing = new FakeTracker(_ => throw new InvalidOperationException("bug"), null);
        var tracker = new CompositeChainTracker([Knows(Good), Knows(Good), crashing]);

        (await tracker.IsValidRootForHeightAsync(Root813706, 813706)).Should().BeTrue();
    }

    [Fact]
    public async Task Caller_cancellation_is_passed_through()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var tracker = new CompositeChainTracker([Knows(Good), Knows(Good), Knows(Good)]);

        await FluentActions.Awaiting(() => tracker.AreValidRootsAsync([Good], cts.Token).AsTask())
            .Should().ThrowAsync<OperationCanceledException>();
    }

    private sealed class FakeTracker(Func<MerkleRootQuery, bool> isValid, uint? height, string? error = null, int shortBy = 0) : IChainTracker
    {
        private readonly List<IReadOnlyList<MerkleRootQuery>> _batches = [];

        public IReadOnlyList<IReadOnlyList<MerkleRootQuery>> Batches
        {
            get
            {
                lock (_batches)
                {
                    return [.. _batches];
                }
            }
        }

        public async ValueTask<bool> IsValidRootForHeightAsync(Hash256 root, uint height, CancellationToken cancellationToken = default) =>
            (await AreValidRootsAsync([new MerkleRootQuery(root, height)], cancellationToken))[0];

        public async ValueTask<IReadOnlyList<bool>> AreValidRootsAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            lock (_batches)
            {
                _batches.Add([.. queries]);
            }

            return queries.Take(queries.Count - shortBy).Select(isValid).ToArray();
        }

        public async ValueTask<uint> CurrentHeightAsync(CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            return height ?? throw new ChainTrackerException(error ?? "no height");
        }

        public override string ToString() => error is null ? "fake" : "failing fake";
    }
}
