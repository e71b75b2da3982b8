using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;

namespace Atomic.Sessions.Templates;

/// <summary>
/// <c>escrow</c>: a buyer locks the price in a bare 2-of-3 multisig of the buyer's, seller's and arbiter's identity keys
/// (<see cref="EscrowLock"/>), which any two of them release later (<see cref="EscrowReleaseTemplate"/>). Terms:
/// <c>{"buyer", "seller", "arbiter", "price"}</c>, and optionally <c>"assetId", "amount"</c> for goods the seller gives
/// the buyer as a <c>tm_tokens</c> output in the same transaction. The session's parties are those three, with three
/// different identity keys (else one party would hold two of the escrow's keys). The buyer gives an output of exactly
/// the price locked by the escrow; the seller gives the goods (and, with no goods, contributes nothing); the arbiter
/// contributes nothing and need not contribute at all; otherwise <see cref="Obligations"/>.
/// </summary>
public sealed class EscrowTemplate : ISessionTemplate
{
    public const string TemplateName = "escrow";

    public string Name => TemplateName;

    /// <summary>
    /// <c>OP_2 &lt;buyer&gt; &lt;seller&gt; &lt;arbiter&gt; OP_3 OP_CHECKMULTISIG</c>, the compressed keys in that order: any two
    /// of the three sign (<c>OP_0 &lt;sig&gt; &lt;sig&gt;</c>, the signatures in the keys' order).
    /// </summary>
    public static Script EscrowLock(PublicKey buyer, PublicKey seller, PublicKey arbiter)
    {
        ArgumentNullException.ThrowIfNull(buyer);
        ArgumentNullException.ThrowIfNull(seller);
        ArgumentNullException.ThrowIfNull(arbiter);
        var writer = new BsvWriter(105);
        writer.WriteByte((byte)OpCode.OP_2);
        Script.WritePushData(writer, buyer.ToBytes());
        Script.WritePushData(writer, seller.ToBytes());
        Script.WritePushData(writer, arbiter.ToBytes());
        writer.WriteByte((byte)OpCode.OP_3).WriteByte((byte)OpCode.OP_CHECKMULTISIG);
        return new Script(writer.ToArray());
    }

    public SessionCheck CheckTerms(SessionSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return SessionCheck.Try(() => Read(setup));
    }

    public SessionCheck CheckContribution(SessionSetup setup, IReadOnlyList<Contribution> accepted, Contribution candidate)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(candidate);
        Deal deal = Read(setup);
        if (candidate.Party == deal.Buyer)
        {
            var escrow = new TxOutput(deal.Price, EscrowLockOf(setup, deal.Buyer, deal.Seller, deal.Arbiter));
            return new Obligations(setup, setup.Find(deal.Buyer)!, deal.Goods is not null)
                .Exactly(escrow, $"output of exactly the price, {deal.Price} satoshis, locked by the 2-of-3 escrow of "
                    + "buyer, seller and arbiter")
                .Check(candidate);
        }

        if (candidate.Party == deal.Seller && deal.Goods is Goods goods)
        {
            return new Obligations(setup, setup.Find(deal.Seller)!, tokensTracked: true)
                .Give(setup.Find(deal.Buyer)!, goods.AssetId, goods.Amount, "the goods, terms.assetId and terms.amount")
                .Check(candidate);
        }

        if (candidate.Party == deal.Seller || candidate.Party == deal.Arbiter)
        {
            return candidate.Inputs.Count == 0 && candidate.Outputs.Count == 0
                ? SessionCheck.Ok
                : Obligations.Refuse($"{candidate.Party} has nothing to give in this escrow: its contribution, if it makes one, "
                    + "has no inputs and no outputs");
        }

        return Obligations.Refuse($"'{candidate.Party}' is not a party of this escrow");
    }

    public bool IsComplete(SessionSetup setup, IReadOnlyList<Contribution> accepted)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(accepted);
        Deal deal = Read(setup);
        return accepted.Any(c => c.Party == deal.Buyer) && (deal.Goods is null || accepted.Any(c => c.Party == deal.Seller));
    }

    public IReadOnlyList<string> Topics(SessionSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return Read(setup).Goods is null ? [] : [TokenTopicManager.TopicName];
    }

    private static Deal Read(SessionSetup setup)
    {
        (string buyer, string seller, string arbiter) = ReadRoles(setup);
        ulong price = Terms.Positive(setup.Terms, "price");
        Goods? goods = Terms.Has(setup.Terms, "assetId") || Terms.Has(setup.Terms, "amount")
            ? new Goods(Terms.AssetId(setup.Terms, "assetId"), Terms.Positive(setup.Terms, "amount"))
            : null;
        return new Deal(buyer, seller, arbiter, price, goods);
    }

    /// <summary>
    /// terms.buyer, terms.seller and terms.arbiter: three different parties with three different identity keys, and the
    /// session's only ones (shared with <see cref="EscrowReleaseTemplate"/>).
    /// </summary>
    internal static (string Buyer, string Seller, string Arbiter) ReadRoles(SessionSetup setup)
    {
        string buyer = Terms.PartyId(setup, "buyer");
        string seller = Terms.PartyId(setup, "seller");
        string arbiter = Terms.PartyId(setup, "arbiter");
        if (buyer == seller || buyer == arbiter || seller == arbiter)
        {
            throw Terms.Invalid("terms.buyer, terms.seller and terms.arbiter must be three different parties");
        }

        if (setup.Parties.Count != 3)
        {
            throw Terms.Invalid($"an escrow has three parties, the buyer, the seller and the arbiter, not {setup.Parties.Count}");
        }

        PublicKey b = setup.Find(buyer)!.IdentityKey, s = setup.Find(seller)!.IdentityKey, a = setup.Find(arbiter)!.IdentityKey;
        if (b.Equals(s) || b.Equals(a) || s.Equals(a))
        {
            throw Terms.Invalid("the buyer, the seller and the arbiter need three different identity keys, "
                + "or one of them alone holds two of the escrow's three keys");
        }

        return (buyer, seller, arbiter);
    }

    /// <summary><see cref="EscrowLock"/> of the three parties' identity keys.</summary>
    internal static Script EscrowLockOf(SessionSetup setup, string buyer, string seller, string arbiter) =>
        EscrowLock(setup.Find(buyer)!.IdentityKey, setup.Find(seller)!.IdentityKey, setup.Find(arbiter)!.IdentityKey);

    private sealed record Goods(string AssetId, ulong Amount);

    private sealed record Deal(string Buyer, string Seller, string Arbiter, ulong Price, Goods? Goods);
}
