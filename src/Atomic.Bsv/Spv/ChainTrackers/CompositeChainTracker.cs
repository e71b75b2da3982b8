using System.Text;
using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Spv.ChainTrackers;

/// <summary>
/// Asks several chain trackers at once and trusts a quorum of them (by default a majority, n/2+1).
/// </summary>
/// <remarks>
/// <para>
/// A root is valid when at least <see cref="Quorum"/> trackers say true. A tracker that throws (or answers the wrong
/// number of entries) counts as not agreeing. The answer is a verdict only when the failing trackers could not have
/// changed it: true when the quorum said true; false when even with every failing tracker saying true the quorum
/// would not be reached. Otherwise the outcome depends on trackers that could not answer, and the call throws a
/// <see cref="ChainTrackerException"/> listing their errors.
/// </para>
/// <para>
/// The current height is the median of the heights answered (the lower middle one for an even count); fewer than
/// <see cref="Quorum"/> answers is a <see cref="ChainTrackerException"/>.
/// </para>
/// All trackers are asked concurrently and every answer is awaited.
/// </remarks>
public sealed class CompositeChainTracker : IChainTracker
{
    private readonly IChainTracker[] _trackers;

    /// <param name="trackers">At least one tracker.</param>
    /// <param name="quorum">How many must agree a root is valid, 1..n; default n/2+1.</param>
    public CompositeChainTracker(IReadOnlyList<IChainTracker> trackers, int? quorum = null)
    {
        ArgumentNullException.ThrowIfNull(trackers);
        if (trackers.Count == 0)
        {
            throw new ArgumentException("at least one chain tracker is needed", nameof(trackers));
        }

        if (trackers.Any(t => t is null))
        {
            throw new ArgumentException("a chain tracker is null", nameof(trackers));
        }

        _trackers = [.. trackers];
        Quorum = quorum ?? (_trackers.Length / 2) + 1;
        if (Quorum < 1 || Quorum > _trackers.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(quorum), quorum, $"the quorum is between 1 and {_trackers.Length}");
        }
    }

    /// <summary>How many trackers must agree.</summary>
    public int Quorum { get; }

    /// <summary>The trackers asked, in order.</summary>
    public IReadOnlyList<IChainTracker> Trackers => _trackers;

    /// <inheritdoc />
    public async ValueTask<bool> IsValidRootForHeightAsync(Hash256 root, uint height, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<bool> answers = await AreValidRootsAsync([new MerkleRootQuery(root, height)], cancellationToken).ConfigureAwait(false);
        return answers[0];
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<bool>> AreValidRootsAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        if (queries.Count == 0)
        {
            return [];
        }

        Outcome<IReadOnlyList<bool>>[] outcomes = await AskAllAsync(
            async (tracker, ct) =>
            {
                IReadOnlyList<bool> answers = await tracker.AreValidRootsAsync(queries, ct).ConfigureAwait(false);
                if (answers is null || answers.Count != queries.Count)
                {
                    throw new ChainTrackerException($"answered {answers?.Count ?? 0} entries for {queries.Count} queries");
                }

                return answers;
            },
            cancellationToken).ConfigureAwait(false);

        int failed = outcomes.Count(o => o.Error is not null);
        bool[] verdicts = new bool[queries.Count];
        for (int i = 0; i < verdicts.Length; i++)
        {
            int yes = outcomes.Count(o => o.Error is null && o.Value![i]);
            if (yes >= Quorum)
            {
                verdicts[i] = true;
            }
            else if (yes + failed >= Quorum)
            {
                throw Undecided(
                    $"cannot decide the root {queries[i].Root} at height {queries[i].Height}: {yes} of {_trackers.Length} trackers "
                    + $"confirm it, {Quorum} are needed and {failed} could not answer",
                    outcomes);
            }
        }

        return verdicts;
    }

    /// <inheritdoc />
    public async ValueTask<uint> CurrentHeightAsync(CancellationToken cancellationToken = default)
    {
        Outcome<uint>[] outcomes = await AskAllAsync(
            async (tracker, ct) => await tracker.CurrentHeightAsync(ct).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);

        uint[] heights = outcomes.Where(o => o.Error is null).Select(o => o.Value).Order().ToArray();
        if (heights.Length < Quorum)
        {
            throw Undecided($"only {heights.Length} of {_trackers.Length} trackers gave a current height, {Quorum} are needed", outcomes);
        }

        return heights[(heights.Length - 1) / 2];
    }

    private async Task<Outcome<T>[]> AskAllAsync<T>(Func<IChainTracker, CancellationToken, Task<T>> ask, CancellationToken cancellationToken)
    {
        Outcome<T>[] outcomes = await Task.WhenAll(_trackers.Select(async tracker =>
        {
            try
            {
                return new Outcome<T>(await ask(tracker, cancellationToken).ConfigureAwait(false), null);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                return new Outcome<T>(default, e);
            }
        })).ConfigureAwait(false);

        cancellationToken.ThrowIfCancellationRequested();
        return outcomes;
    }

    private ChainTrackerException Undecided<T>(string summary, Outcome<T>[] outcomes)
    {
        var message = new StringBuilder(summary);
        var errors = new List<Exception>();
        for (int i = 0; i < outcomes.Length; i++)
        {
            if (outcomes[i].Error is { } error)
            {
                errors.Add(error);
                message.Append($"; tracker {i} ({_trackers[i]}): {error.GetType().Name}: {error.Message}");
            }
        }

        return new ChainTrackerException(message.ToString(), new AggregateException(errors));
    }

    private readonly record struct Outcome<T>(T? Value, Exception? Error);
}
