using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;

namespace Atomic.Cli.Commands.Sessions;

/// <summary>
/// A deal <c>atomic session demo</c> plays from start to end: its parties, what they hold before the session (the
/// faucet's satoshis, an asset each minter issues), and the sessions it runs, each party's contribution decided here.
/// </summary>
internal abstract class SessionScenario
{
    /// <summary>How many units of its asset a minter issues (the demo's token transaction).</summary>
    public const ulong Minted = DemoTransaction.TokenAmount;

    public static IReadOnlyList<SessionScenario> All { get; } =
        [new SwapScenario(), new SupplyChainScenario(), new BundleScenario(), new EscrowScenario(), new BridgeScenario()];

    public static IEnumerable<string> Names => All.Select(s => s.Name);

    public static SessionScenario Find(string name) =>
        All.FirstOrDefault(s => s.Name == name)
            ?? throw new CliUsageException($"the scenario is one of {string.Join(", ", Names)}, not '{name}'");

    /// <summary>The name on the command line.</summary>
    public abstract string Name { get; }

    /// <summary>The parties, in the session's order.</summary>
    public abstract IReadOnlyList<string> Parties { get; }

    /// <summary>The parties the faucet pays before the session (a minter spends that payment on its mint).</summary>
    public abstract IReadOnlyList<string> Funded { get; }

    /// <summary>The parties that mint <see cref="Minted"/> units of an asset of their own, admitted to <c>tm_tokens</c>.</summary>
    public abstract IReadOnlyList<string> Minters { get; }

    /// <summary>The parties who sign inputs in the first session.</summary>
    public IEnumerable<string> Signers => Parties.Where(Funded.Contains);

    /// <summary>The parties <c>--withhold</c> may name: those who sign inputs (a bridge: either party, keeping the secret back).</summary>
    public virtual IEnumerable<string> Withholders => Signers;

    /// <summary>The first session, once every party holds its coins.</summary>
    public abstract SessionPlan Open(IReadOnlyDictionary<string, DemoParty> parties);

    /// <summary>The session that follows <paramref name="finished"/>, or null when the deal is done.</summary>
    public virtual SessionPlan? Next(IReadOnlyDictionary<string, DemoParty> parties, FinishedSession finished) => null;

    /// <summary>A <c>tm_tokens</c> output of <paramref name="amount"/> units owned by <paramref name="owner"/>'s key.</summary>
    protected static TxOutput Token(DemoParty owner, string assetId, ulong amount) =>
        new(DemoTransaction.TokenSatoshis, TokenTopicManager.Lock(owner.Key.PublicKey, assetId, amount));

    protected static TxOutput Pay(DemoParty to, ulong satoshis) => new(satoshis, to.P2pkh);
}

/// <summary>One session the demo runs: what it is created with, and what each party contributes, in the order posted.</summary>
internal sealed record SessionPlan(
    string Template, string Title, IReadOnlyList<DemoParty> Parties, object Terms, IReadOnlyList<PlannedContribution> Contributions)
{
    /// <summary>Printed once the session is created: a party that contributes nothing, and why.</summary>
    public string? Note { get; init; }

    /// <summary>A bridge's secret, whose SHA-256 is in the terms.</summary>
    public byte[]? Secret { get; init; }
}

/// <summary>
/// One party's contribution: the coins it spends, its outputs, its change (its own P2PKH), and the parties whose keys
/// sign its inputs — its own, or two of an escrow's three in the escrow's key order.
/// </summary>
internal sealed record PlannedContribution(
    DemoParty Party, IReadOnlyList<DemoCoin> Inputs, IReadOnlyList<TxOutput> Outputs, IReadOnlyList<DemoParty> Signers)
{
    public Script Change => Party.P2pkh;

    /// <summary>Every coin the party holds in, these outputs out, signed by the party.</summary>
    public static PlannedContribution Spending(DemoParty party, params TxOutput[] outputs) =>
        new(party, [.. party.Coins], outputs, [party]);
}

/// <summary>A completed session: its template, its mined transaction and that transaction's proven Atomic BEEF.</summary>
internal sealed record FinishedSession(string SessionId, string Template, Transaction Transaction, uint? BlockHeight, byte[] AtomicBeef);
