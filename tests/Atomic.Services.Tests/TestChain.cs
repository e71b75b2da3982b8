using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Bsv.Transactions;
using Atomic.Overlay;
using Atomic.Overlay.Revocation;
using Atomic.Overlay.Tokens;

namespace Atomic.Services.Tests;

/// <summary>
/// Real, signed transactions that pass SPV: a funding transaction proven in block 3000 pays Alice several P2PKH
/// coins, and every transaction built here spends earlier ones with real signatures (P2PKH, or P2PK for PushDrop
/// outputs). <see cref="Beef"/> answers the Atomic BEEF of any of them with its whole ancestry.
/// </summary>
internal sealed class TestChain
{
    public const uint Height = 3000;

    public static readonly PrivateKey Alice = PrivateKey.FromHex("0000000000000000000000000000000000000000000000000000000000000a11");
    public static readonly PrivateKey Bob = PrivateKey.FromHex("0000000000000000000000000000000000000000000000000000000000000b0b");

    /// <summary>The block samples/roots.json confirms, which samples/chain.beef is proven in.</summary>
    private const uint SampleHeight = 2000;

    private static readonly Hash256 SampleRoot = Hash256.FromDisplayHex("f4a1b054765f7690006ade125da6c299c5d586a68f29ac2e2d56d30c47f068bc");

    private static int _salt;
    private readonly List<Transaction> _unproven = [];
    private readonly MerklePath _proof;

    public TestChain(int coins = 8)
    {
        // A distinct funding transaction per chain, so tests never share txids.
        byte[] prev = new byte[32];
        BitConverter.TryWriteBytes(prev, Interlocked.Increment(ref _salt) + Environment.TickCount64);
        Funding = new Transaction(1, [new TxInput(new OutPoint(new Hash256(prev), 0), new Script([0x51]))],
            Enumerable.Range(0, coins).Select(_ => new TxOutput(100_000, P2pkh(Alice))), 0);
        _proof = MerklePath.FromBlock(Height, [Hash256.FromDisplayHex(new string('c', 64)), Funding.Id], [Funding.Id]);
        Tracker = new StaticChainTracker([(SampleHeight, SampleRoot), (Height, _proof.ComputeRoot())]);
    }

    public Transaction Funding { get; }

    /// <summary>Knows block 3000 of this chain and the sample chain's block.</summary>
    public StaticChainTracker Tracker { get; }

    private int _nextCoin;

    /// <summary>The next unused funding coin (output of <see cref="Funding"/>), as an input owned by Alice.</summary>
    public (Transaction Source, int Vout, PrivateKey Key) Coin() => (Funding, _nextCoin++, Alice);

    public static Script P2pkh(PrivateKey key) => Script.PayToPublicKeyHash(key.PublicKey.ToHash160());

    /// <summary>A signed transaction spending <paramref name="inputs"/> into <paramref name="outputs"/>.</summary>
    public Transaction Spend(IReadOnlyList<(Transaction Source, int Vout, PrivateKey Key)> inputs, params TxOutput[] outputs)
    {
        var unsigned = new Transaction(1, inputs.Select(i => new TxInput(new OutPoint(i.Source.Id, (uint)i.Vout), Script.Empty)), outputs, 0);
        var signed = new List<TxInput>(inputs.Count);
        Span<byte> digest = stackalloc byte[32];
        for (int n = 0; n < inputs.Count; n++)
        {
            (Transaction source, int vout, PrivateKey key) = inputs[n];
            TxOutput spent = source.Outputs[vout];
            SigHash.ComputeForkId(unsigned, n, spent.LockingScript.Span, spent.Satoshis, 0x41, null, digest);
            var w = new BsvWriter(110);
            Script.WritePushData(w, [.. key.Sign(digest), 0x41]);
            if (!PushDrop.TryDecode(spent.LockingScript, out _))
            {
                Script.WritePushData(w, key.PublicKey.ToBytes());
            }

            signed.Add(unsigned.Inputs[n] with { UnlockingScript = new Script(w.ToArray()) });
        }

        var tx = new Transaction(1, signed, outputs, 0);
        _unproven.Add(tx);
        return tx;
    }

    /// <summary>Mints <paramref name="amount"/> tokens to <paramref name="owner"/> (output 0), with P2PKH change (output 1).</summary>
    public (Transaction Mint, string AssetId) Mint(ulong amount, PrivateKey? owner = null)
    {
        Transaction mint = Spend([Coin()], new TxOutput(1, TokenTopicManager.Lock((owner ?? Alice).PublicKey, TokenTopicManager.Issue, amount)), new TxOutput(99_000, P2pkh(Alice)));
        return (mint, TokenTopicManager.AssetIdOf(new OutPoint(mint.Id, 0)));
    }

    /// <summary>Moves token coins to new token outputs of <paramref name="assetId"/>; a funding coin pays the fee.</summary>
    public Transaction Transfer(IReadOnlyList<(Transaction Source, int Vout, PrivateKey Key)> tokenCoins, string assetId, params (PrivateKey Owner, ulong Amount)[] to) =>
        Spend([.. tokenCoins, Coin()], [.. to.Select(t => new TxOutput(1, TokenTopicManager.Lock(t.Owner.PublicKey, assetId, t.Amount))), new TxOutput(99_000, P2pkh(Alice))]);

    /// <summary>A BRC-52 revocation output (output 0) for a certificate with <paramref name="serialNumber"/>, locked to Alice the certifier.</summary>
    public Transaction RevocationOutput(byte[] serialNumber) =>
        Spend([Coin()], new TxOutput(1, RevocationTopicManager.Lock(Alice.PublicKey, serialNumber)), new TxOutput(99_000, P2pkh(Alice)));

    /// <summary>The Atomic BEEF (BRC-95) of <paramref name="subject"/>: the proven funding transaction and every ancestor built here.</summary>
    public byte[] Beef(Transaction subject)
    {
        var txs = new List<BeefTx> { BeefTx.FromTransaction(Funding, 0) };
        txs.AddRange(_unproven.Select(t => BeefTx.FromTransaction(t)));
        return new Beef(BeefVersion.V2, [_proof], txs).ToAtomicBytes(subject.Id);
    }
}
