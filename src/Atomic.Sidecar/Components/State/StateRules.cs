namespace Atomic.Sidecar.Components.State;

/// <summary>The concurrency rules of the state port, for stores that check them in code rather than in SQL.</summary>
public static class StateRules
{
    /// <summary>
    /// Throws <see cref="StateConcurrencyException"/> when a write or delete of <paramref name="key"/> may not proceed:
    /// a given ETag must match the current item's, and first-write needs the ETag to touch an existing item.
    /// </summary>
    /// <param name="store">The store's name, for the message.</param>
    /// <param name="key">The key written or deleted.</param>
    /// <param name="etag">The ETag the caller gave, if any.</param>
    /// <param name="concurrency">The write's concurrency mode.</param>
    /// <param name="currentETag">The live item's ETag, or null when there is none.</param>
    /// <param name="isDelete">Whether the operation is a delete (for the message).</param>
    public static void Check(string store, string key, string? etag, StateConcurrency concurrency, string? currentETag, bool isDelete)
    {
        if (etag is not null)
        {
            if (currentETag is null || currentETag != etag)
            {
                throw new StateConcurrencyException(store, key, currentETag is null ? $"ETag {etag} given for an absent key" : $"ETag {etag} does not match {currentETag}");
            }
        }
        else if (concurrency == StateConcurrency.FirstWrite && currentETag is not null)
        {
            throw new StateConcurrencyException(store, key, $"first-write concurrency: {(isDelete ? "deleting" : "updating")} an existing item needs its ETag");
        }
    }

    /// <summary>
    /// A string above every key that starts with <paramref name="prefix"/> in byte order, so a store can list a prefix
    /// as an index range (<c>key &gt;= prefix AND key &lt; bound</c>), or null when the prefix does not end in an ASCII
    /// character below DEL (then only <c>key &gt;= prefix</c> bounds the range, and the prefix test does the rest).
    /// </summary>
    public static string? PrefixUpperBound(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return prefix.Length > 0 && prefix[^1] < '\u007f'
            ? string.Concat(prefix.AsSpan(0, prefix.Length - 1), [(char)(prefix[^1] + 1)])
            : null;
    }
}
