using System.Collections.Concurrent;
using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Spv.ChainTrackers;

/// <summary>
/// Remembers confirmed (root, height) pairs of another chain tracker for a while, so repeated proofs against the same
/// blocks do not go back to the network.
/// </summary>
/// <remarks>
/// Only confirmations are cached, never a false answer: a root may be unknown to the source now (a block it has not
/// seen yet) and confirmed later. Entries live for the time-to-live given; at most <c>capacity</c> are kept and, when
/// full, the oldest are evicted first (FIFO). A batch answers cached pairs locally and sends only the misses to the inner
/// tracker, in one batch. The current height is cached for a short time of its own (default 10 s).
/// </remarks>
public sealed class CachingChainTracker : IChainTracker
{
    /// <summary>How long the current height is reused when no other time is given.</summary>
    public static readonly TimeSpan DefaultCurrentHeightTtl = TimeSpan.FromSeconds(10);

    private readonly IChainTracker _inner;
    private readonly TimeSpan _ttl;
    private readonly TimeSpan _currentHeightTtl;
    private readonly int _capacity;
    private readonly TimeProvider _time;

    private readonly ConcurrentDictionary<MerkleRootQuery, Entry> _entries = new();

    // Insertion order for eviction. Each live entry has exactly one item here (its own Entry object); items whose entry
    // has since expired or been replaced are stale and are skipped when dequeued. Bounding this queue bounds the cache.
    private readonly ConcurrentQueue<KeyValuePair<MerkleRootQuery, Entry>> _order = new();

    private volatile HeightEntry? _height;

    /// <param name="inner">The tracker asked on a miss.</param>
    /// <param name="ttl">How long a confirmation is reused (zero: never cached).</param>
    /// <param name="capacity">Most confirmations kept (at least 1).</param>
    /// <param name="timeProvider">Clock; <see cref="TimeProvider.System"/> by default.</param>
    /// <param name="currentHeightTtl">How long the current height is reused; <see cref="DefaultCurrentHeightTtl"/> by default (zero: never).</param>
    public CachingChainTracker(
        IChainTracker inner,
        TimeSpan ttl,
        int capacity = 100_000,
        TimeProvider? timeProvider = null,
        TimeSpan? currentHeightTtl = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _currentHeightTtl = currentHeightTtl ?? DefaultCurrentHeightTtl;
        ArgumentOutOfRangeException.ThrowIfLessThan(_currentHeightTtl, TimeSpan.Zero, nameof(currentHeightTtl));
        _inner = inner;
        _ttl = ttl;
        _capacity = capacity;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Confirmations currently held (including expired ones not yet dropped).</summary>
    public int Count => _entries.Count;

    /// <inheritdoc />
    public async ValueTask<bool> IsValidRootForHeightAsync(Hash256 root, uint height, CancellationToken cancellationToken = default)
    {
        var query = new MerkleRootQuery(root, height);
        if (IsCached(query, _time.GetUtcNow()))
        {
            return true;
        }

        bool valid = await _inner.IsValidRootForHeightAsync(root, height, cancellationToken).ConfigureAwait(false);
        if (valid)
        {
            Remember(query);
        }

        return valid;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<bool>> AreValidRootsAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        bool[] answers = new bool[queries.Count];
        DateTimeOffset now = _time.GetUtcNow();
        List<MerkleRootQuery>? misses = null;
        HashSet<MerkleRootQuery>? seen = null;
        for (int i = 0; i < answers.Length; i++)
        {
            if (IsCached(queries[i], now))
            {
                answers[i] = true;
            }
            else if ((seen ??= []).Add(queries[i]))
            {
                (misses ??= []).Add(queries[i]);
            }
        }

        if (misses is null)
        {
            return answers;
        }

        IReadOnlyList<bool> fetched = await _inner.AreValidRootsAsync(misses, cancellationToken).ConfigureAwait(false);
        if (fetched is null || fetched.Count != misses.Count)
        {
            throw new ChainTrackerException($"the inner chain tracker answered {fetched?.Count ?? 0} entries for {misses.Count} queries");
        }

        var confirmed = new HashSet<MerkleRootQuery>();
        for (int j = 0; j < misses.Count; j++)
        {
            if (fetched[j])
            {
                confirmed.Add(misses[j]);
                Remember(misses[j]);
            }
        }

        for (int i = 0; i < answers.Length; i++)
        {
            answers[i] = answers[i] || confirmed.Contains(queries[i]);
        }

        return answers;
    }

    /// <inheritdoc />
    public async ValueTask<uint> CurrentHeightAsync(CancellationToken cancellationToken = default)
    {
        HeightEntry? cached = _height;
        if (cached is not null && _time.GetUtcNow() < cached.Expires)
        {
            return cached.Height;
        }

        uint height = await _inner.CurrentHeightAsync(cancellationToken).ConfigureAwait(false);
        if (_currentHeightTtl > TimeSpan.Zero)
        {
            _height = new HeightEntry(height, _time.GetUtcNow() + _currentHeightTtl);
        }

        return height;
    }

    private bool IsCached(MerkleRootQuery query, DateTimeOffset now)
    {
        if (!_entries.TryGetValue(query, out Entry? entry))
        {
            return false;
        }

        if (now < entry.Expires)
        {
            return true;
        }

        // Expired: drop it unless another thread has just replaced it.
        _entries.TryRemove(new KeyValuePair<MerkleRootQuery, Entry>(query, entry));
        return false;
    }

    private void Remember(MerkleRootQuery query)
    {
        if (_ttl <= TimeSpan.Zero)
        {
            return;
        }

        var entry = new Entry(_time.GetUtcNow() + _ttl);
        _entries[query] = entry;
        _order.Enqueue(new KeyValuePair<MerkleRootQuery, Entry>(query, entry));
        while (_order.Count > _capacity && _order.TryDequeue(out KeyValuePair<MerkleRootQuery, Entry> oldest))
        {
            // Removes only if the key still maps to that very entry (Entry compares by reference).
            _entries.TryRemove(oldest);
        }
    }

    private sealed class Entry(DateTimeOffset expires)
    {
        public DateTimeOffset Expires { get; } = expires;
    }

    private sealed class HeightEntry(uint height, DateTimeOffset expires)
    {
        public uint Height { get; } = height;

        public DateTimeOffset Expires { get; } = expires;
    }
}
