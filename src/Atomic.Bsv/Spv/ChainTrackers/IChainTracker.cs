using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Spv.ChainTrackers;

/// <summary>One merkle root to confirm at one block height.</summary>
public readonly record struct MerkleRootQuery(Hash256 Root, uint Height);

/// <summary>
/// Answers whether a merkle root is the root of the block at a height on the longest chain, and the current height
/// (the port @bsv/sdk calls ChainTracker). Implementations are thread-safe.
/// </summary>
public interface IChainTracker
{
    /// <summary>True when <paramref name="root"/> is the merkle root of the block at <paramref name="height"/>.</summary>
    ValueTask<bool> IsValidRootForHeightAsync(Hash256 root, uint height, CancellationToken cancellationToken = default);

    /// <summary>
    /// All roots of one BEEF in one request where the source allows it; the answer has one entry per query, in order.
    /// </summary>
    ValueTask<IReadOnlyList<bool>> AreValidRootsAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken = default);

    /// <summary>Height of the chain tip.</summary>
    ValueTask<uint> CurrentHeightAsync(CancellationToken cancellationToken = default);
}

/// <summary>Thrown when a chain tracker cannot answer (transport failure, bad response): not a verdict on the root.</summary>
public sealed class ChainTrackerException(string message, Exception? inner = null) : Exception(message, inner);
