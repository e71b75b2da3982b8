using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Cli.Commands.Sessions;

/// <summary>One party the session demo plays: a fresh key (its identity key and its wallet alike) and the coins it may spend.</summary>
internal sealed class DemoParty(string id, PrivateKey key)
{
    public string Id { get; } = id;

    public PrivateKey Key { get; } = key;

    /// <summary>P2PKH of the key: where the faucet pays it, where payments to it and its change go.</summary>
    public Script P2pkh { get; } = Script.PayToPublicKeyHash(key.PublicKey.ToHash160());

    /// <summary>What it spends in its next contribution: the faucet's payment, or its mint's token and change.</summary>
    public List<DemoCoin> Coins { get; } = [];

    /// <summary>The asset it minted before the session, if it mints one.</summary>
    public string? AssetId { get; set; }
}

/// <summary>An output a party may spend, with the Atomic BEEF of its transaction (what a contribution sends for it).</summary>
internal sealed record DemoCoin(OutPoint OutPoint, TxOutput Output, byte[] AtomicBeef);
