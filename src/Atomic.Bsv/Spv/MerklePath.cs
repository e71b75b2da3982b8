using System.Text.Json;
using System.Text.Json.Nodes;
using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Spv;

/// <summary>One node of a merkle path level: its offset, and either a hash or the "duplicate the other side" flag.</summary>
public readonly record struct MerklePathLeaf(ulong Offset, Hash256 Hash, bool IsTxid, bool IsDuplicate)
{
    public static MerklePathLeaf Duplicate(ulong offset) => new(offset, default, false, true);
}

/// <summary>
/// A BUMP, the BSV Unified Merkle Path (BRC-74): the block height and, level by level, the nodes needed to compute
/// the merkle root from one or more txids of that block. Validated on construction: no duplicate offsets, no node
/// that no level-0 leaf needs, and every level-0 leaf leading to the same root.
/// </summary>
public sealed class MerklePath
{
    /// <summary>Levels a BUMP may declare: a block of 2^64 transactions is the most a varint offset can address.</summary>
    public const int MaxTreeHeight = 64;

    private readonly MerklePathLeaf[][] _levels;
    private readonly Dictionary<ulong, MerklePathLeaf>[] _index;
    private readonly HashSet<Hash256> _level0Hashes;
    private readonly Hash256 _root;

    public MerklePath(uint blockHeight, IEnumerable<IEnumerable<MerklePathLeaf>> levels, bool legalOffsetsOnly = true)
    {
        BlockHeight = blockHeight;
        _levels = levels.Select(l => l.OrderBy(x => x.Offset).ToArray()).ToArray();
        _index = new Dictionary<ulong, MerklePathLeaf>[_levels.Length];
        for (int h = 0; h < _levels.Length; h++)
        {
            _index[h] = new Dictionary<ulong, MerklePathLeaf>(_levels[h].Length);
            foreach (MerklePathLeaf leaf in _levels[h])
            {
                _index[h].TryAdd(leaf.Offset, leaf);
            }
        }

        _level0Hashes = _levels.Length > 0 ? _levels[0].Where(l => !l.IsDuplicate).Select(l => l.Hash).ToHashSet() : [];
        _root = Validate(legalOffsetsOnly);
    }

    public uint BlockHeight { get; }

    /// <summary>The levels, lowest (the txids and their siblings) first, each sorted by offset.</summary>
    public IReadOnlyList<IReadOnlyList<MerklePathLeaf>> Levels => _levels;

    /// <summary>Txids this path proves (level-0 leaves flagged as txids).</summary>
    public IEnumerable<Hash256> TxIds => _levels[0].Where(l => l.IsTxid).Select(l => l.Hash);

    public static MerklePath FromHex(string hex) => FromBytes(Hex.Decode(hex));

    /// <summary>
    /// The path proving <paramref name="prove"/> within a block whose transactions (coinbase first) are
    /// <paramref name="txids"/>: builds the whole tree once and keeps the siblings each proven txid needs.
    /// </summary>
    public static MerklePath FromBlock(uint blockHeight, IReadOnlyList<Hash256> txids, IEnumerable<Hash256> prove)
    {
        ArgumentNullException.ThrowIfNull(txids);
        if (txids.Count == 0)
        {
            throw new ArgumentException("a block has at least one transaction", nameof(txids));
        }

        var positions = new Dictionary<Hash256, int>(txids.Count);
        for (int i = 0; i < txids.Count; i++)
        {
            positions.TryAdd(txids[i], i);
        }

        var proven = new List<int>();
        foreach (Hash256 txid in prove)
        {
            proven.Add(positions.TryGetValue(txid, out int at) ? at : throw new ArgumentException($"{txid} is not in the block", nameof(prove)));
        }

        if (proven.Count == 0)
        {
            throw new ArgumentException("name at least one transaction to prove", nameof(prove));
        }

        if (txids.Count == 1)
        {
            return new MerklePath(blockHeight, [[new MerklePathLeaf(0, txids[0], true, false)]]);
        }

        var tree = new List<Hash256[]> { txids.ToArray() };
        while (tree[^1].Length > 1)
        {
            Hash256[] below = tree[^1];
            var above = new Hash256[(below.Length + 1) / 2];
            for (int i = 0; i < above.Length; i++)
            {
                Hash256 left = below[2 * i];
                above[i] = HashPair(left, 2 * i + 1 < below.Length ? below[(2 * i) + 1] : left);
            }

            tree.Add(above);
        }

        int height = tree.Count - 1;
        var levels = new Dictionary<ulong, MerklePathLeaf>[height];
        for (int h = 0; h < height; h++)
        {
            levels[h] = [];
        }

        foreach (int index in proven)
        {
            levels[0][(ulong)index] = new MerklePathLeaf((ulong)index, txids[index], true, false);
        }

        foreach (int index in proven)
        {
            for (int h = 0; h < height; h++)
            {
                ulong sibling = ((ulong)index >> h) ^ 1;
                if (levels[h].ContainsKey(sibling))
                {
                    continue;
                }

                levels[h][sibling] = sibling < (ulong)tree[h].Length
                    ? new MerklePathLeaf(sibling, tree[h][sibling], false, false)
                    : MerklePathLeaf.Duplicate(sibling);
            }
        }

        return new MerklePath(blockHeight, levels.Select(l => l.Values)).Trimmed();
    }

    /// <summary>The merkle root of a block's transactions (coinbase first), as miners compute it.</summary>
    public static Hash256 ComputeBlockRoot(IReadOnlyList<Hash256> txids) => FromBlock(0, txids, [txids[0]]).ComputeRoot();

    /// <summary>Parses exactly one BUMP; trailing bytes are an error.</summary>
    public static MerklePath FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new BsvReader(bytes, ReasonCodes.BeefTruncated);
        MerklePath path = Read(ref reader);
        reader.EnsureAtEnd(ReasonCodes.BeefMalformed, "merkle path");

        return path;
    }

    /// <summary>Reads a BUMP; counts are checked against the bytes left, and structure errors carry the offset.</summary>
    /// <remarks>
    /// BEEF readers pass <paramref name="legalOffsetsOnly"/> false, as @bsv/sdk does: a BUMP carrying more nodes than
    /// its txids need is still a valid proof.
    /// </remarks>
    public static MerklePath Read(ref BsvReader reader, bool legalOffsetsOnly = true)
    {
        int start = reader.Offset;
        ulong height = reader.ReadVarInt();
        if (height > uint.MaxValue)
        {
            reader.ThrowFormat(ReasonCodes.BeefMalformed, $"block height {height} is out of range");
        }

        int treeHeight = reader.ReadByte();
        if (treeHeight == 0 || treeHeight > MaxTreeHeight)
        {
            reader.ThrowFormat(ReasonCodes.BeefMalformed, $"tree height {treeHeight} outside 1..{MaxTreeHeight}");
        }

        var levels = new MerklePathLeaf[treeHeight][];
        for (int level = 0; level < treeHeight; level++)
        {
            // A leaf takes at least 2 bytes (offset varint, flags): a count the input cannot hold is rejected first.
            int count = reader.ReadCount(2, int.MaxValue, "merkle path leaf");
            var leaves = new MerklePathLeaf[count];
            for (int i = 0; i < count; i++)
            {
                ulong offset = reader.ReadVarInt();
                byte flags = reader.ReadByte();
                if ((flags & ~0x03) != 0)
                {
                    reader.ThrowFormat(ReasonCodes.BeefMalformed, $"unknown merkle path leaf flags 0x{flags:x2}");
                }

                if ((flags & 1) != 0)
                {
                    leaves[i] = MerklePathLeaf.Duplicate(offset);
                }
                else
                {
                    leaves[i] = new MerklePathLeaf(offset, new Hash256(reader.ReadBytes(32)), (flags & 2) != 0, false);
                }
            }

            levels[level] = leaves;
        }

        try
        {
            return new MerklePath((uint)height, levels, legalOffsetsOnly);
        }
        catch (MerklePathException e)
        {
            throw new BsvFormatException(ReasonCodes.BeefMalformed, reader.BaseOffset + start, e.Message);
        }
    }

    public void Write(BsvWriter writer)
    {
        writer.WriteVarInt(BlockHeight);
        writer.WriteByte((byte)_levels.Length);
        Span<byte> hash = stackalloc byte[32];
        foreach (MerklePathLeaf[] level in _levels)
        {
            writer.WriteVarInt((ulong)level.Length);
            foreach (MerklePathLeaf leaf in level)
            {
                writer.WriteVarInt(leaf.Offset);
                writer.WriteByte((byte)((leaf.IsDuplicate ? 1 : 0) | (leaf.IsTxid ? 2 : 0)));
                if (!leaf.IsDuplicate)
                {
                    leaf.Hash.CopyTo(hash);
                    writer.WriteBytes(hash);
                }
            }
        }
    }

    public byte[] ToBytes()
    {
        var w = new BsvWriter(64 + (_levels.Sum(l => l.Length) * 36));
        Write(w);
        return w.ToArray();
    }

    public string ToHex() => Hex.Encode(ToBytes());

    /// <summary>True when <paramref name="txid"/> is a level-0 leaf of this path.</summary>
    public bool Contains(Hash256 txid) => _level0Hashes.Contains(txid);

    /// <summary>The merkle root computed from <paramref name="txid"/>; throws <see cref="MerklePathException"/> when it is not in the path.</summary>
    public Hash256 ComputeRoot(Hash256 txid) =>
        Contains(txid) ? _root : throw new MerklePathException($"transaction {txid} is not in the merkle path");

    /// <summary>The level-0 offset of <paramref name="txid"/> (0 is a block's coinbase); null when it is not in the path.</summary>
    public ulong? OffsetOf(Hash256 txid) => FindLevel0(txid)?.Offset;

    /// <summary>The merkle root, computed from the first level-0 leaf that has a hash.</summary>
    public Hash256 ComputeRoot() => _root;

    /// <summary>
    /// Merges the proofs of two paths of the same block (BEEF keeps one BUMP per block); the roots must agree.
    /// The result is trimmed to the nodes the txids need.
    /// </summary>
    public MerklePath Combine(MerklePath other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.BlockHeight != BlockHeight)
        {
            throw new MerklePathException($"cannot combine paths of blocks {BlockHeight} and {other.BlockHeight}");
        }

        if (ComputeRoot() != other.ComputeRoot())
        {
            throw new MerklePathException("cannot combine paths with different roots");
        }

        int levels = Math.Max(_levels.Length, other._levels.Length);
        var combined = new List<MerklePathLeaf>[levels];
        for (int h = 0; h < levels; h++)
        {
            var byOffset = new Dictionary<ulong, MerklePathLeaf>();
            foreach (MerklePathLeaf leaf in h < _levels.Length ? _levels[h] : [])
            {
                byOffset[leaf.Offset] = leaf;
            }

            foreach (MerklePathLeaf leaf in h < other._levels.Length ? other._levels[h] : [])
            {
                if (byOffset.TryGetValue(leaf.Offset, out MerklePathLeaf existing))
                {
                    if (leaf.IsTxid && !existing.IsTxid)
                    {
                        byOffset[leaf.Offset] = existing with { IsTxid = true };
                    }
                }
                else
                {
                    byOffset[leaf.Offset] = leaf;
                }
            }

            combined[h] = [.. byOffset.Values];
        }

        return Trim(BlockHeight, combined);
    }

    /// <summary>This path without the nodes its txids do not need (those computable from lower levels).</summary>
    public MerklePath Trimmed() => Trim(BlockHeight, _levels.Select(l => l.ToList()).ToArray());

    public JsonObject ToJson()
    {
        var path = new JsonArray();
        foreach (MerklePathLeaf[] level in _levels)
        {
            var leaves = new JsonArray();
            foreach (MerklePathLeaf leaf in level)
            {
                var node = new JsonObject { ["offset"] = leaf.Offset };
                if (leaf.IsDuplicate)
                {
                    node["duplicate"] = true;
                }
                else
                {
                    if (leaf.IsTxid)
                    {
                        node["txid"] = true;
                    }

                    node["hash"] = leaf.Hash.ToDisplayHex();
                }

                leaves.Add(node);
            }

            path.Add(leaves);
        }

        return new JsonObject { ["blockHeight"] = BlockHeight, ["path"] = path };
    }

    /// <summary>Reads the JSON form @bsv/sdk uses: {"blockHeight", "path": [[{"offset", "hash", "txid", "duplicate"}]]}.</summary>
    public static MerklePath FromJson(string json)
    {
        try
        {
            JsonNode root = JsonNode.Parse(json) ?? throw new FormatException("empty JSON");
            uint height = root["blockHeight"]!.GetValue<uint>();
            var levels = new List<List<MerklePathLeaf>>();
            foreach (JsonNode? level in root["path"]!.AsArray())
            {
                var leaves = new List<MerklePathLeaf>();
                foreach (JsonNode? leaf in level!.AsArray())
                {
                    ulong offset = leaf!["offset"]!.GetValue<ulong>();
                    bool duplicate = leaf["duplicate"]?.GetValue<bool>() == true;
                    leaves.Add(duplicate
                        ? MerklePathLeaf.Duplicate(offset)
                        : new MerklePathLeaf(offset, Hash256.FromDisplayHex(leaf["hash"]!.GetValue<string>()), leaf["txid"]?.GetValue<bool>() == true, false));
                }

                levels.Add(leaves);
            }

            return new MerklePath(height, levels);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new FormatException($"not a merkle path in JSON form: {e.Message}", e);
        }
    }

    public override string ToString() => ToJson().ToJsonString();

    private MerklePathLeaf? FindLevel0(Hash256 txid)
    {
        foreach (MerklePathLeaf leaf in _levels[0])
        {
            if (!leaf.IsDuplicate && leaf.Hash == txid)
            {
                return leaf;
            }
        }

        return null;
    }

    private ulong MaxLevel0Offset()
    {
        ulong max = 0;
        foreach (MerklePathLeaf l in _levels[0])
        {
            max = Math.Max(max, l.Offset);
        }

        return max;
    }

    private Hash256 ComputeRootFrom(ulong index, Hash256 txid, Dictionary<(int, ulong), MerklePathLeaf?> memo)
    {
        if (_levels.Length == 1 && _levels[0].Length == 1)
        {
            return txid; // a block with one transaction
        }

        ulong maxOffset = MaxLevel0Offset();
        int treeHeight = Math.Max(_levels.Length, 64 - System.Numerics.BitOperations.LeadingZeroCount(maxOffset));
        Hash256 working = txid;
        for (int height = 0; height < treeHeight; height++)
        {
            ulong offset = (index >> height) ^ 1;
            MerklePathLeaf? leaf = FindOrCompute(height, offset, maxOffset, memo);
            if (leaf is null)
            {
                if (_levels.Length == 1 && (index >> height) == (maxOffset >> height))
                {
                    working = HashPair(working, working);
                    continue;
                }

                throw new MerklePathException($"Missing hash for index {index} at height {height}");
            }

            if (leaf.Value.IsDuplicate)
            {
                working = HashPair(working, working);
            }
            else if ((offset & 1) == 1)
            {
                working = HashPair(working, leaf.Value.Hash);
            }
            else
            {
                working = HashPair(leaf.Value.Hash, working);
            }
        }

        return working;
    }

    // Nodes computed from lower levels are memoized, so validating a full single-level path stays linear.
    private MerklePathLeaf? FindOrCompute(int height, ulong offset, ulong maxOffset, Dictionary<(int, ulong), MerklePathLeaf?> memo)
    {
        if (height < _levels.Length && _index[height].TryGetValue(offset, out MerklePathLeaf found))
        {
            return found;
        }

        if (height == 0)
        {
            return null;
        }

        if (memo.TryGetValue((height, offset), out MerklePathLeaf? known))
        {
            return known;
        }

        MerklePathLeaf? computed = ComputeNode(height, offset, maxOffset, memo);
        memo[(height, offset)] = computed;
        return computed;
    }

    private MerklePathLeaf? ComputeNode(int height, ulong offset, ulong maxOffset, Dictionary<(int, ulong), MerklePathLeaf?> memo)
    {

        int h = height - 1;
        ulong l = offset << 1;
        MerklePathLeaf? left = FindOrCompute(h, l, maxOffset, memo);
        if (left is null || left.Value.IsDuplicate)
        {
            return null;
        }

        MerklePathLeaf? right = FindOrCompute(h, l + 1, maxOffset, memo);
        if (right is null)
        {
            if (_levels.Length == 1 && l == (maxOffset >> h))
            {
                return new MerklePathLeaf(offset, HashPair(left.Value.Hash, left.Value.Hash), false, false);
            }

            return null;
        }

        Hash256 hash = right.Value.IsDuplicate ? HashPair(left.Value.Hash, left.Value.Hash) : HashPair(left.Value.Hash, right.Value.Hash);
        return new MerklePathLeaf(offset, hash, false, false);
    }

    /// <summary>A merkle tree node: double SHA-256 of left || right, both in internal byte order.</summary>
    public static Hash256 HashPair(Hash256 left, Hash256 right)
    {
        Span<byte> buffer = stackalloc byte[64];
        left.CopyTo(buffer);
        right.CopyTo(buffer[32..]);
        Span<byte> digest = stackalloc byte[32];
        Hashes.Hash256(buffer, digest);
        return new Hash256(digest);
    }

    private Hash256 Validate(bool legalOffsetsOnly)
    {
        if (_levels.Length == 0 || _levels.Length > MaxTreeHeight)
        {
            throw new MerklePathException($"tree height {_levels.Length} outside 1..{MaxTreeHeight}");
        }

        if (_levels[0].Length == 0)
        {
            throw new MerklePathException("Empty level at height: 0");
        }

        var legal = new HashSet<ulong>[_levels.Length];
        for (int h = 1; h < _levels.Length; h++)
        {
            legal[h] = [];
        }

        for (int h = 0; h < _levels.Length; h++)
        {
            MerklePathLeaf[] level = _levels[h];
            for (int i = 1; i < level.Length; i++)
            {
                if (level[i].Offset == level[i - 1].Offset)
                {
                    throw new MerklePathException($"Duplicate offset: {level[i].Offset}, at height: {h}");
                }
            }

            foreach (MerklePathLeaf leaf in level)
            {
                if (h == 0)
                {
                    if (!leaf.IsDuplicate)
                    {
                        for (int up = 1; up < _levels.Length; up++)
                        {
                            legal[up].Add((leaf.Offset >> up) ^ 1);
                        }
                    }
                }
                else if (legalOffsetsOnly && !legal[h].Contains(leaf.Offset))
                {
                    throw new MerklePathException($"Invalid offset: {leaf.Offset}, at height: {h}, with legal offsets: {string.Join(", ", legal[h].Order())}");
                }
            }
        }

        Hash256? root = null;
        var memo = new Dictionary<(int, ulong), MerklePathLeaf?>();
        foreach (MerklePathLeaf leaf in _levels[0])
        {
            if (leaf.IsDuplicate)
            {
                continue;
            }

            Hash256 r = ComputeRootFrom(leaf.Offset, leaf.Hash, memo);
            if (root is null)
            {
                root = r;
            }
            else if (root.Value != r)
            {
                throw new MerklePathException("Mismatched roots");
            }
        }

        return root ?? throw new MerklePathException("no level-0 leaf has a hash");
    }

    private static MerklePath Trim(uint height, IList<MerklePathLeaf>[] levels)
    {
        var level0 = levels[0].OrderBy(l => l.Offset).ToList();
        var txOffsets = level0.Where(l => l.IsTxid).Select(l => l.Offset).ToHashSet();
        if (txOffsets.Count == 0)
        {
            return new MerklePath(height, levels.Select(l => l.ToList()));
        }

        var kept = new List<MerklePathLeaf>[levels.Length];
        // Level 0 keeps the txids and their siblings.
        kept[0] = level0.Where(l => l.IsTxid || txOffsets.Contains(l.Offset ^ 1)).ToList();
        for (int h = 1; h < levels.Length; h++)
        {
            var computable = txOffsets.Select(o => o >> h).ToHashSet();
            kept[h] = levels[h].Where(l => !computable.Contains(l.Offset)).ToList();
        }

        return new MerklePath(height, kept);
    }
}

/// <summary>A merkle path that is not well-formed or cannot prove what was asked of it.</summary>
public sealed class MerklePathException(string message) : Exception(message);
