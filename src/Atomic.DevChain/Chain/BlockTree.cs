using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;

namespace Atomic.DevChain.Chain;

/// <summary>
/// A block's whole merkle tree, built once, so that every transaction's BUMP (BRC-74) is read off it in
/// O(log n): <see cref="MerklePath.FromBlock"/> rebuilds the tree on each call, which is quadratic over a block.
/// </summary>
internal sealed class BlockTree
{
    private readonly List<Hash256[]> _levels;

    /// <param name="txids">The block's transactions, coinbase first.</param>
    public BlockTree(IReadOnlyList<Hash256> txids)
    {
        if (txids.Count == 0)
        {
            throw new ArgumentException("a block has at least one transaction", nameof(txids));
        }

        _levels = [txids.ToArray()];
        while (_levels[^1].Length > 1)
        {
            Hash256[] below = _levels[^1];
            var above = new Hash256[(below.Length + 1) / 2];
            for (int i = 0; i < above.Length; i++)
            {
                Hash256 left = below[2 * i];
                above[i] = MerklePath.HashPair(left, (2 * i) + 1 < below.Length ? below[(2 * i) + 1] : left);
            }

            _levels.Add(above);
        }
    }

    public Hash256 Root => _levels[^1][0];

    /// <summary>The path proving the transaction at <paramref name="index"/>: its leaf and one sibling per level.</summary>
    public MerklePath PathOf(uint blockHeight, int index)
    {
        Hash256[] leaves = _levels[0];
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, leaves.Length);
        if (leaves.Length == 1)
        {
            return new MerklePath(blockHeight, [[new MerklePathLeaf(0, leaves[0], true, false)]]);
        }

        int height = _levels.Count - 1;
        var levels = new List<MerklePathLeaf>[height];
        for (int h = 0; h < height; h++)
        {
            ulong sibling = ((ulong)index >> h) ^ 1;
            MerklePathLeaf leaf = sibling < (ulong)_levels[h].Length
                ? new MerklePathLeaf(sibling, _levels[h][sibling], false, false)
                : MerklePathLeaf.Duplicate(sibling);
            levels[h] = [leaf];
        }

        levels[0].Add(new MerklePathLeaf((ulong)index, leaves[index], true, false));
        return new MerklePath(blockHeight, levels);
    }
}
