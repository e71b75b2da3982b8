using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Sessions.Templates;

/// <summary>
/// <c>escrow-release</c>: spends an escrow output of <see cref="EscrowTemplate"/> to the buyer (a refund) or the seller
/// (a payment). Terms: <c>{"escrow": "&lt;txid&gt;.&lt;vout&gt;", "buyer", "seller", "arbiter", "payTo"}</c>, payTo being the
/// buyer or the seller. One contribution does it, by any of the three: its only input is the escrow output, locked by
/// <see cref="EscrowTemplate.EscrowLock"/> of the three identity keys, and every one of its outputs and its change script
/// pay P2PKH of payTo's identity key — so every released satoshi but the fee ends with payTo, whatever the fee comes to
/// (the simplest contribution gives no outputs: the assembler then pays the escrow less the fee to the change). The
/// contributing party supplies the unlocking script <c>OP_0 &lt;sig&gt; &lt;sig&gt;</c>, two of the three signing off-band.
/// </summary>
public sealed class EscrowReleaseTemplate : ISessionTemplate
{
    public const string TemplateName = "escrow-release";

    public string Name => TemplateName;

    public SessionCheck CheckTerms(SessionSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return SessionCheck.Try(() => Read(setup));
    }

    public SessionCheck CheckContribution(SessionSetup setup, IReadOnlyList<Contribution> accepted, Contribution candidate)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(accepted);
        ArgumentNullException.ThrowIfNull(candidate);
        Deal deal = Read(setup);
        if (candidate.Party != deal.Buyer && candidate.Party != deal.Seller && candidate.Party != deal.Arbiter)
        {
            return Obligations.Refuse($"'{candidate.Party}' is not a party of this escrow release");
        }

        if (accepted.FirstOrDefault(c => c.Party != candidate.Party) is Contribution made)
        {
            return Obligations.Refuse($"one contribution releases the escrow, and {made.Party} has made it");
        }

        if (candidate.Inputs.Count != 1 || candidate.Inputs[0].OutPoint != deal.Escrow)
        {
            return Obligations.Refuse($"the release spends the escrow output {Obligations.Describe(deal.Escrow)} and nothing else");
        }

        if (!candidate.Inputs[0].Source.LockingScript.Equals(EscrowTemplate.EscrowLockOf(setup, deal.Buyer, deal.Seller, deal.Arbiter)))
        {
            return Obligations.Refuse($"{Obligations.Describe(deal.Escrow)} is not locked by the 2-of-3 escrow of "
                + $"{deal.Buyer}, {deal.Seller} and {deal.Arbiter} (in that order)");
        }

        Script payTo = Obligations.P2pkh(setup.Find(deal.PayTo)!);
        int stray = candidate.Outputs.ToList().FindIndex(o => !o.LockingScript.Equals(payTo));
        if (stray >= 0)
        {
            return Obligations.Refuse($"output {stray} does not pay P2PKH of {deal.PayTo}'s identity key: "
                + $"everything released goes to {deal.PayTo}");
        }

        if (!candidate.Change.Equals(payTo))
        {
            return Obligations.Refuse("the change is what the escrow holds less the outputs and the fee, "
                + $"so it must go to P2PKH of {deal.PayTo}'s identity key too");
        }

        return candidate.InputSatoshis() >= candidate.OutputSatoshis()
            ? SessionCheck.Ok
            : Obligations.Refuse($"the escrow holds {candidate.InputSatoshis()} satoshis, "
                + $"less than the outputs' {candidate.OutputSatoshis()}");
    }

    public bool IsComplete(SessionSetup setup, IReadOnlyList<Contribution> accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        return accepted.Count > 0;
    }

    public IReadOnlyList<string> Topics(SessionSetup setup) => [];

    private static Deal Read(SessionSetup setup)
    {
        OutPoint escrow = Terms.OutPoint(setup.Terms, "escrow");
        (string buyer, string seller, string arbiter) = EscrowTemplate.ReadRoles(setup);
        string payTo = Terms.String(setup.Terms, "payTo");
        return payTo == buyer || payTo == seller
            ? new Deal(escrow, buyer, seller, arbiter, payTo)
            : throw Terms.Invalid($"terms.payTo must name the buyer ({buyer}) or the seller ({seller}), not '{payTo}'");
    }

    private sealed record Deal(OutPoint Escrow, string Buyer, string Seller, string Arbiter, string PayTo);
}
