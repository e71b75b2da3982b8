using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv.ChainTrackers;

namespace Atomic.DevChain.Chain;

/// <summary>The dev chain's own headers as a chain tracker, for SPV checks in the same process (no HTTP).</summary>
public sealed class LocalChainTracker(LocalChain chain) : IChainTracker
{
    private readonly LocalChain _chain = chain ?? throw new ArgumentNullException(nameof(chain));

    public ValueTask<bool> IsValidRootForHeightAsync(Hash256 root, uint height, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_chain.IsValidRoot(root, height));

    public ValueTask<IReadOnlyList<bool>> AreValidRootsAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        IReadOnlyList<bool> answers = queries.Select(q => _chain.IsValidRoot(q.Root, q.Height)).ToArray();
        return ValueTask.FromResult(answers);
    }

    public ValueTask<uint> CurrentHeightAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(_chain.Tip.Height);
}
