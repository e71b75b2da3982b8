using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Sessions.Templates;

namespace Atomic.Cli.Commands.Sessions;

/// <summary>
/// <c>escrow</c>, then <c>escrow-release</c>: the seller delivers <see cref="Goods"/> units of its asset while the buyer
/// locks the <see cref="Price"/> in a 2-of-3 multisig of the buyer's, seller's and arbiter's keys; then the buyer and the
/// seller agree, and a second session releases the escrow to the seller, signed by both (<c>OP_0 &lt;sig&gt; &lt;sig&gt;</c>).
/// The arbiter brings nothing and signs nothing: it is there for a dispute.
/// </summary>
internal sealed class EscrowScenario : SessionScenario
{
    public const ulong Price = 20_000;

    public const ulong Goods = 100;

    public override string Name => EscrowTemplate.TemplateName;

    public override IReadOnlyList<string> Parties { get; } = ["buyer", "seller", "arbiter"];

    public override IReadOnlyList<string> Funded { get; } = ["buyer", "seller"];

    public override IReadOnlyList<string> Minters { get; } = ["seller"];

    public override SessionPlan Open(IReadOnlyDictionary<string, DemoParty> parties)
    {
        DemoParty buyer = parties["buyer"], seller = parties["seller"], arbiter = parties["arbiter"];
        string asset = seller.AssetId!;
        return new SessionPlan(
            EscrowTemplate.TemplateName,
            $"the seller's {Goods} units of asset {DemoReport.Short(asset)} against {Price} sat the buyer locks in a 2-of-3 escrow "
            + "of buyer, seller and arbiter",
            [buyer, seller, arbiter],
            new { buyer = buyer.Id, seller = seller.Id, arbiter = arbiter.Id, price = Price, assetId = asset, amount = Goods },
            [
                PlannedContribution.Spending(buyer, new TxOutput(Price, Lock(buyer, seller, arbiter))),
                PlannedContribution.Spending(seller, Token(buyer, asset, Goods), Token(seller, asset, Minted - Goods)),
            ])
        {
            Note = "arbiter contributes nothing: it brings no inputs, and signs a release only if buyer and seller disagree",
        };
    }

    public override SessionPlan? Next(IReadOnlyDictionary<string, DemoParty> parties, FinishedSession finished)
    {
        if (finished.Template != EscrowTemplate.TemplateName)
        {
            return null;
        }

        DemoParty buyer = parties["buyer"], seller = parties["seller"], arbiter = parties["arbiter"];
        Script escrowLock = Lock(buyer, seller, arbiter);
        Transaction tx = finished.Transaction;
        int vout = tx.Outputs.ToList().FindIndex(o => o.Satoshis == Price && o.LockingScript.Equals(escrowLock));
        if (vout < 0)
        {
            throw new DemoFailure("release", DemoCodes.AnswerInvalid,
                $"the escrow transaction {tx.Id} has no output of {Price} sat locked by the 2-of-3 escrow");
        }

        var escrow = new DemoCoin(new OutPoint(tx.Id, (uint)vout), tx.Outputs[vout], finished.AtomicBeef);
        return new SessionPlan(
            EscrowReleaseTemplate.TemplateName,
            $"the escrow {DemoReport.Short(tx.Id.ToDisplayHex())}.{vout} ({Price} sat) paid to the seller, signed by buyer and seller",
            [buyer, seller, arbiter],
            new
            {
                escrow = $"{tx.Id.ToDisplayHex()}.{vout}",
                buyer = buyer.Id,
                seller = seller.Id,
                arbiter = arbiter.Id,
                payTo = seller.Id,
            },
            [new PlannedContribution(seller, [escrow], [], [buyer, seller])])
        {
            Note = "buyer and seller agree: the seller contributes the escrow output, and both sign it (2 of the 3 keys)",
        };
    }

    private static Script Lock(DemoParty buyer, DemoParty seller, DemoParty arbiter) =>
        EscrowTemplate.EscrowLock(buyer.Key.PublicKey, seller.Key.PublicKey, arbiter.Key.PublicKey);
}
