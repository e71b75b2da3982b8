using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Spv;

/// <summary>
/// Builds real, signed transaction chains for tests: a funding transaction mined in a block with a genuine merkle
/// path, then unproven P2PKH spends on top, and a chain tracker that knows the block's root.
/// </summary>
internal sealed class TestChain
{
    private readonly Dictionary<uint, Hash256> _roots = [];
    private int _nonce;

    public TestChain(uint height = 1000) => Height = height;

    public uint Height { get; }

    public PrivateKey Key { get; } = PrivateKey.FromHex("00000000000000000000000000000000000000000000000000000000000000aa");

    public Script Locking => Script.PayToPublicKeyHash(Key.PublicKey.ToHash160());

    public IChainTracker Tracker(uint? tip = null) => new FixedTracker(_roots, tip ?? Height + 200);

    /// <summary>A transaction paying <paramref name="amounts"/> to <see cref="Key"/>, mined at <see cref="Height"/> among other transactions.</summary>
    public (Transaction Tx, MerklePath Proof) Funding(params ulong[] amounts)
    {
        var coinbase = Coinbase(Height);
        var input = new TxInput(new OutPoint(Hash256.FromDisplayHex(Next()), 0), new Script([0x51]));
        var tx = new Transaction(1, [input], amounts.Select(a => new TxOutput(a, Locking)), 0);
        var others = Enumerable.Range(0, 4).Select(_ => Hash256.FromDisplayHex(Next())).ToList();
        List<Hash256> block = [coinbase.Id, others[0], tx.Id, others[1], others[2], others[3]];
        _roots[Height] = MerklePath.ComputeBlockRoot(block);
        return (tx, MerklePath.FromBlock(Height, block, [tx.Id]));
    }

    /// <summary>A coinbase transaction mined alone in a block at <paramref name="height"/>, paying to <see cref="Key"/>.</summary>
    public (Transaction Tx, MerklePath Proof) MinedCoinbase(uint height, ulong amount)
    {
        Transaction coinbase = Coinbase(height, amount);
        _roots[height] = coinbase.Id;
        return (coinbase, MerklePath.FromBlock(height, [coinbase.Id], [coinbase.Id]));
    }

    /// <summary>Spends the given outputs to <see cref="Key"/> with signed P2PKH inputs.</summary>
    public Transaction Spend(IReadOnlyList<(Transaction Tx, uint Index)> inputs, params ulong[] outputs)
    {
        var unsigned = new Transaction(1,
            inputs.Select(i => new TxInput(new OutPoint(i.Tx.Id, i.Index), Script.Empty)),
            outputs.Select(a => new TxOutput(a, Locking)),
            0);
        var signedInputs = new List<TxInput>();
        var cache = new SigHashCache(unsigned);
        Span<byte> digest = stackalloc byte[32];
        for (int i = 0; i < inputs.Count; i++)
        {
            TxOutput source = inputs[i].Tx.Outputs[(int)inputs[i].Index];
            SigHash.ComputeForkId(unsigned, i, source.LockingScript.Span, source.Satoshis, 0x41, cache, digest);
            var w = new BsvWriter();
            Script.WritePushData(w, [.. Key.Sign(digest), 0x41]);
            Script.WritePushData(w, Key.PublicKey.ToBytes());
            signedInputs.Add(unsigned.Inputs[i] with { UnlockingScript = new Script(w.ToArray()) });
        }

        return new Transaction(1, signedInputs, unsigned.Outputs, 0);
    }

    private Transaction Coinbase(uint height, ulong amount = 50_0000_0000)
    {
        var w = new BsvWriter();
        Script.WritePushData(w, BitConverter.GetBytes(height));
        w.WriteBytes(BitConverter.GetBytes(_nonce++));
        return new Transaction(1, [new TxInput(new OutPoint(Hash256.Zero, uint.MaxValue), new Script(w.ToArray()))], [new TxOutput(amount, Locking)], 0);
    }

    private string Next() => (++_nonce).ToString("x64");

    private sealed class FixedTracker(Dictionary<uint, Hash256> roots, uint tip) : IChainTracker
    {
        public int Batches { get; private set; }

        public ValueTask<bool> IsValidRootForHeightAsync(Hash256 root, uint height, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(roots.TryGetValue(height, out Hash256 r) && r == root);

        public ValueTask<IReadOnlyList<bool>> AreValidRootsAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken = default)
        {
            Batches++;
            return ValueTask.FromResult<IReadOnlyList<bool>>(queries.Select(q => roots.TryGetValue(q.Height, out Hash256 r) && r == q.Root).ToArray());
        }

        public ValueTask<uint> CurrentHeightAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(tip);
    }
}
