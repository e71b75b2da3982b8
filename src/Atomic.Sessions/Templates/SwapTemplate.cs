using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;

namespace Atomic.Sessions.Templates;

/// <summary>
/// <c>swap</c>: a seller's <c>tm_tokens</c> asset for a buyer's satoshis, both legs in one transaction. Terms:
/// <c>{"seller", "buyer", "assetId", "amount", "price"}</c>. The seller spends coins of the asset (and any satoshis it
/// likes for its fee share) and gives a token output of exactly <c>amount</c> owned by the buyer's identity key, any
/// remainder of the asset in token outputs of its own: the asset's amounts in and out must be equal, as
/// <c>tm_tokens</c> admits nothing else. The buyer spends satoshis only and pays at least <c>price</c> to P2PKH of the
/// seller's identity key.
/// </summary>
public sealed class SwapTemplate : ISessionTemplate
{
    public const string TemplateName = "swap";

    public string Name => TemplateName;

    public SessionCheck CheckTerms(SessionSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        try
        {
            Deal deal = Read(setup);
            return setup.Parties.Count == 2 && deal.Seller != deal.Buyer
                ? SessionCheck.Ok
                : SessionCheck.Refuse(SessionCodes.TermsInvalid, "a swap has two parties, the seller and the buyer, and they differ");
        }
        catch (SessionException e)
        {
            return SessionCheck.Refuse(e.Code, e.Message);
        }
    }

    public SessionCheck CheckContribution(SessionSetup setup, IReadOnlyList<Contribution> accepted, Contribution candidate)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(candidate);
        Deal deal = Read(setup);
        if (candidate.Party == deal.Seller)
        {
            return CheckSeller(setup, deal, candidate);
        }

        if (candidate.Party == deal.Buyer)
        {
            return CheckBuyer(setup, deal, candidate);
        }

        return Refuse($"party {candidate.Party} has no part in this swap");
    }

    public bool IsComplete(SessionSetup setup, IReadOnlyList<Contribution> accepted)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(accepted);
        Deal deal = Read(setup);
        return accepted.Any(c => c.Party == deal.Seller) && accepted.Any(c => c.Party == deal.Buyer);
    }

    public IReadOnlyList<string> Topics(SessionSetup setup) => [TokenTopicManager.TopicName];

    private static SessionCheck CheckSeller(SessionSetup setup, Deal deal, Contribution seller)
    {
        if (TokenTopicManager.Read(seller.Change, default) is not null)
        {
            return Refuse("the change must hold satoshis, not a token");
        }

        UInt128 tokensIn = 0;
        var spent = new HashSet<OutPoint>();
        foreach (ContributedInput input in seller.Inputs)
        {
            if (!spent.Add(input.OutPoint))
            {
                return Refuse($"the input {input.OutPoint.TxId.ToDisplayHex()}.{input.OutPoint.Index} is listed twice");
            }

            Token? token = TokenTopicManager.Read(input.Source.LockingScript, input.OutPoint);
            if (token is null)
            {
                continue; // satoshis for the fee share
            }

            if (token.AssetId != deal.AssetId)
            {
                return Refuse($"input {input.OutPoint.TxId.ToDisplayHex()}.{input.OutPoint.Index} holds asset {token.AssetId}, not {deal.AssetId}");
            }

            tokensIn += token.Amount;
        }

        if (tokensIn < deal.Amount)
        {
            return Refuse($"the seller's inputs hold {tokensIn} of asset {deal.AssetId}; the swap is for {deal.Amount}");
        }

        UInt128 tokensOut = 0;
        bool paid = false;
        Bsv.Primitives.Keys.PublicKey buyerKey = setup.Find(deal.Buyer)!.IdentityKey;
        foreach (TxOutput output in seller.Outputs)
        {
            Token? token = TokenTopicManager.Read(output.LockingScript, default);
            if (token is null)
            {
                continue;
            }

            if (token.AssetId != deal.AssetId)
            {
                return Refuse($"a seller's output carries another asset than {deal.AssetId} (or mints one): only {deal.AssetId} moves in this swap");
            }

            tokensOut += token.Amount;
            paid |= token.Amount == deal.Amount && token.Owner.Equals(buyerKey);
        }

        if (!paid)
        {
            return Refuse($"the seller gives no token output of {deal.Amount} of {deal.AssetId} owned by the buyer's identity key");
        }

        return tokensOut == tokensIn
            ? SessionCheck.Ok
            : Refuse($"the seller spends {tokensIn} of {deal.AssetId} and gives {tokensOut}: every unit must go somewhere, or tm_tokens admits none");
    }

    private static SessionCheck CheckBuyer(SessionSetup setup, Deal deal, Contribution buyer)
    {
        var spent = new HashSet<OutPoint>();
        foreach (ContributedInput input in buyer.Inputs)
        {
            if (TokenTopicManager.Read(input.Source.LockingScript, input.OutPoint) is not null)
            {
                return Refuse("the buyer pays in satoshis: a token input would be burned");
            }

            if (!spent.Add(input.OutPoint))
            {
                return Refuse($"the input {input.OutPoint.TxId.ToDisplayHex()}.{input.OutPoint.Index} is listed twice");
            }
        }

        // A token output the buyer adds is backed by no coin of the deal: tm_tokens would then admit none of the asset.
        if (TokenTopicManager.Read(buyer.Change, default) is not null || buyer.Outputs.Any(o => TokenTopicManager.Read(o.LockingScript, default) is not null))
        {
            return Refuse("the buyer's outputs and change hold satoshis only: a token output of the buyer's is backed by nothing");
        }

        Script sellerScript = Script.PayToPublicKeyHash(setup.Find(deal.Seller)!.IdentityKey.ToHash160());
        ulong paid = 0;
        foreach (TxOutput output in buyer.Outputs)
        {
            if (output.LockingScript.Span.SequenceEqual(sellerScript.Span))
            {
                paid += output.Satoshis;
            }
        }

        if (paid < deal.Price)
        {
            return Refuse($"the buyer pays the seller {paid} satoshis; the price is {deal.Price}");
        }

        return buyer.InputSatoshis() >= buyer.OutputSatoshis()
            ? SessionCheck.Ok
            : Refuse($"the buyer's inputs ({buyer.InputSatoshis()} satoshis) do not cover its outputs ({buyer.OutputSatoshis()})");
    }

    private static SessionCheck Refuse(string reason) => SessionCheck.Refuse(SessionCodes.ContributionInvalid, reason);

    private static Deal Read(SessionSetup setup) => new(
        Terms.PartyId(setup, "seller"),
        Terms.PartyId(setup, "buyer"),
        Terms.AssetId(setup.Terms, "assetId"),
        Terms.Positive(setup.Terms, "amount", Terms.Root),
        Terms.Positive(setup.Terms, "price", Terms.Root));

    private sealed record Deal(string Seller, string Buyer, string AssetId, ulong Amount, ulong Price);
}
