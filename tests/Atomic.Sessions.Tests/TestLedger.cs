using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;

namespace Atomic.Sessions.Tests;

/// <summary>
/// Real coins for contributions: each is an output of a funding transaction proven in a block of its own (its merkle
/// root known to <see cref="Tracker"/>), or of a signed transaction spending such coins, and comes as a party would
/// bring it — read by <see cref="SessionSigning.ReadInput"/> from its Atomic BEEF.
/// </summary>
internal static class TestLedger
{
    public static readonly PrivateKey Alice = PrivateKey.FromHex("0000000000000000000000000000000000000000000000000000000000000a11");
    public static readonly PrivateKey Bob = PrivateKey.FromHex("0000000000000000000000000000000000000000000000000000000000000b0b");
    public static readonly PrivateKey Carol = PrivateKey.FromHex("00000000000000000000000000000000000000000000000000000000000ca201");
    public static readonly PrivateKey Dave = PrivateKey.FromHex("0000000000000000000000000000000000000000000000000000000000000da5");
    public static readonly PrivateKey Erin = PrivateKey.FromHex("00000000000000000000000000000000000000000000000000000000000e1e11");

    private static readonly Lock Gate = new();
    private static readonly List<(uint Height, Hash256 Root)> Roots = [];
    private static uint _height = 10_000;

    /// <summary>Knows the block of every coin made so far.</summary>
    public static StaticChainTracker Tracker()
    {
        lock (Gate)
        {
            return new StaticChainTracker([.. Roots]);
        }
    }

    public static Script P2pkh(PrivateKey key) => Script.PayToPublicKeyHash(key.PublicKey.ToHash160());

    /// <summary>A P2PKH output to <paramref name="to"/>.</summary>
    public static TxOutput Pay(PrivateKey to, ulong satoshis) => new(satoshis, P2pkh(to));

    /// <summary>A token output of a satoshi: <paramref name="amount"/> of the asset (or ISSUE) owned by <paramref name="owner"/>.</summary>
    public static TxOutput Token(PrivateKey owner, string assetId, ulong amount) =>
        new(1, TokenTopicManager.Lock(owner.PublicKey, assetId, amount));

    /// <summary>The output an assembled input spends.</summary>
    public static TxOutput SourceOf(SessionInput input) => new(input.SourceSatoshis, input.SourceLockingScript);

    /// <summary>A P2PKH coin of <paramref name="owner"/>.</summary>
    public static ContributedInput Coin(PrivateKey owner, ulong satoshis = 100_000) => Output(new TxOutput(satoshis, P2pkh(owner)));

    /// <summary>Output 0 of a new funding transaction, proven in a block of its own.</summary>
    public static ContributedInput Output(TxOutput output)
    {
        uint height;
        lock (Gate)
        {
            height = _height++;
        }

        byte[] prev = new byte[32];
        BitConverter.TryWriteBytes(prev, height);
        BitConverter.TryWriteBytes(prev.AsSpan(8), Environment.TickCount64);
        var funding = new Transaction(1, [new TxInput(new OutPoint(new Hash256(prev), 0), new Script([0x51]))], [output], 0);
        MerklePath proof = MerklePath.FromBlock(height, [Hash256.FromDisplayHex(new string('c', 64)), funding.Id], [funding.Id]);
        lock (Gate)
        {
            Roots.Add((height, proof.ComputeRoot()));
        }

        byte[] beef = new Beef(BeefVersion.V2, [proof], [BeefTx.FromTransaction(funding, 0)]).ToAtomicBytes(funding.Id);
        return SessionSigning.ReadInput(beef, 0);
    }

    /// <summary>Mints <paramref name="amount"/> of a new asset to <paramref name="owner"/>: the token coin and its asset id.</summary>
    public static (ContributedInput Coin, string AssetId) Mint(PrivateKey owner, ulong amount)
    {
        ContributedInput coin = Transact([(Coin(owner, 10_000), owner)], Token(owner, TokenTopicManager.Issue, amount))[0];
        return (coin, TokenTopicManager.AssetIdOf(coin.OutPoint));
    }

    /// <summary>
    /// Token coins of <paramref name="assetId"/> owned by <paramref name="owner"/>, one per amount: a mint of their sum
    /// split by a transfer, so the coins carry the asset id itself, not ISSUE.
    /// </summary>
    public static IReadOnlyList<ContributedInput> Tokens(PrivateKey owner, ulong total, out string assetId, params ulong[] amounts)
    {
        (ContributedInput mint, assetId) = Mint(owner, total);
        string id = assetId;
        return Transact([(mint, owner), (Coin(owner, 10_000), owner)], [.. amounts.Select(a => Token(owner, id, a))]);
    }

    /// <summary>
    /// A signed transaction spending <paramref name="inputs"/> into <paramref name="outputs"/> (the difference is its
    /// fee); its outputs come back as contributed inputs, each with the transaction's Atomic BEEF.
    /// </summary>
    public static IReadOnlyList<ContributedInput> Transact(
        IReadOnlyList<(ContributedInput Input, PrivateKey Key)> inputs, params TxOutput[] outputs)
    {
        var unsigned = new Transaction(1, inputs.Select(i => new TxInput(i.Input.OutPoint, Script.Empty)), outputs, 0);
        Transaction signed = SessionSigning.WithUnlocking(unsigned,
            inputs.Select((i, n) => (n, Signer.Unlock(unsigned, n, i.Input.Source, i.Key))));
        byte[] beef = SessionSigning.AtomicBeef(signed, inputs.Select(i => i.Input));
        return [.. Enumerable.Range(0, outputs.Length).Select(vout => SessionSigning.ReadInput(beef, vout))];
    }
}
