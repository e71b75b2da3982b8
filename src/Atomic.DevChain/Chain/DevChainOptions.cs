namespace Atomic.DevChain.Chain;

/// <summary>The dev chain's settings, bound from the <c>DevChain</c> configuration section.</summary>
public sealed class DevChainOptions
{
    public const string Section = "DevChain";

    /// <summary>The well-known default dev key (SHA-256 of "atomic-devchain"): public, so never use it outside a dev chain.</summary>
    public const string DefaultDevKey = "849554573502323f335c246d4a9ffb5dba02ca0958677dbe8fe31d07de705b60";

    /// <summary>SQLite file holding blocks, transactions, outputs and callbacks; empty or <c>:memory:</c> keeps them in memory.</summary>
    public string? DataPath { get; set; }

    /// <summary>When set, every route but <c>GET /v1/health</c> needs <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The mining fee: <see cref="MiningFeeSatoshis"/> per <see cref="MiningFeeBytes"/> bytes (ARC's miningFee); 0 accepts free transactions.</summary>
    public ulong MiningFeeSatoshis { get; set; } = 1;

    public ulong MiningFeeBytes { get; set; } = 1000;

    /// <summary>Largest transaction accepted, in bytes (ARC's maxtxsizepolicy).</summary>
    public int MaxTxSizePolicy { get; set; } = 10_000_000;

    /// <summary>Largest script accepted, in bytes (ARC's maxscriptsizepolicy).</summary>
    public int MaxScriptSizePolicy { get; set; } = 500_000;

    /// <summary>Reported by <c>GET /v1/policy</c>; not enforced (the node's post-Genesis value is unlimited).</summary>
    public ulong MaxTxSigopsCountsPolicy { get; set; } = uint.MaxValue;

    /// <summary>Largest request body the routes read, in bytes.</summary>
    public int MaxBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Confirmations a coinbase output needs before it may be spent.</summary>
    public int CoinbaseMaturity { get; set; } = 100;

    /// <summary>The private key (hex) every coinbase pays and the faucet spends from.</summary>
    public string DevKey { get; set; } = DefaultDevKey;

    /// <summary>What the first block's coinbase pays the dev key: the faucet's reserve.</summary>
    public ulong GenesisSatoshis { get; set; } = 1_000_000_000_000_000;

    /// <summary>What every later coinbase pays on top of its block's fees.</summary>
    public ulong BlockSubsidy { get; set; } = 5_000_000_000;

    /// <summary>Most satoshis one faucet call hands out.</summary>
    public ulong FaucetMaxSatoshis { get; set; } = 10_000_000_000;

    /// <summary>Most blocks one <c>POST /v1/mine</c> may ask for.</summary>
    public int MaxBlocksPerMine { get; set; } = 1000;

    /// <summary>When set, a block is mined this often (only while the mempool holds transactions, unless <see cref="MineEmptyBlocks"/>).</summary>
    public TimeSpan? MineInterval { get; set; }

    public bool MineEmptyBlocks { get; set; }

    /// <summary>How many times a callback is tried before it is dropped.</summary>
    public int CallbackAttempts { get; set; } = 5;

    /// <summary>Wait before the first retry of a callback; doubled for each later one.</summary>
    public TimeSpan CallbackRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one callback request may take.</summary>
    public TimeSpan CallbackTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a transaction whose parent is unknown waits in the orphan mempool (ARC's <c>SEEN_IN_ORPHAN_MEMPOOL</c>)
    /// for that parent before it is rejected.
    /// </summary>
    public TimeSpan OrphanExpiry { get; set; } = TimeSpan.FromMinutes(10);

    public bool IsInMemory => string.IsNullOrWhiteSpace(DataPath) || DataPath.Trim() == ":memory:";
}
