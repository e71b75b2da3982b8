using System.Text.Json;
using Atomic.Overlay.Tokens;

namespace Atomic.Sessions.Templates;

/// <summary>
/// <c>bundle</c>: one buyer buys <c>tm_tokens</c> assets from one or more sellers at one price, split between them, all in
/// one transaction. Terms: <c>{"buyer", "items": [{"seller", "assetId", "amount"}, …], "price", "split": {"&lt;seller&gt;":
/// satoshis, …}}</c>; the split names exactly the sellers of the items, each for a positive share, and the shares add
/// up to the price; the session's parties are the buyer and the sellers. Each seller gives each of its items as a token
/// output of exactly the amount owned by the buyer's identity key; the buyer pays each seller its share in a P2PKH output
/// (of at least that much) to the seller's identity key; otherwise <see cref="Obligations"/>.
/// </summary>
public sealed class BundleTemplate : ISessionTemplate
{
    public const string TemplateName = "bundle";

    public string Name => TemplateName;

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
        if (setup.Find(candidate.Party) is not Party party)
        {
            return Obligations.Refuse($"'{candidate.Party}' is not a party of this bundle");
        }

        var duties = new Obligations(setup, party, tokensTracked: true);
        if (party.Id == deal.Buyer)
        {
            foreach ((string seller, ulong share) in deal.Split)
            {
                duties.Pay(setup.Find(seller)!, share, $"terms.split.{seller}");
            }
        }
        else
        {
            Party buyer = setup.Find(deal.Buyer)!;
            for (int i = 0; i < deal.Items.Count; i++)
            {
                Item item = deal.Items[i];
                if (item.Seller == party.Id)
                {
                    duties.Give(buyer, item.AssetId, item.Amount, $"terms.items[{i}]");
                }
            }
        }

        return duties.Check(candidate);
    }

    public bool IsComplete(SessionSetup setup, IReadOnlyList<Contribution> accepted)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(accepted);
        Deal deal = Read(setup);
        return accepted.Any(c => c.Party == deal.Buyer) && deal.Split.All(s => accepted.Any(c => c.Party == s.Seller));
    }

    public IReadOnlyList<string> Topics(SessionSetup setup) => [TokenTopicManager.TopicName];

    private static Deal Read(SessionSetup setup)
    {
        string buyer = Terms.PartyId(setup, "buyer");
        IReadOnlyList<JsonElement> elements = Terms.Array(setup.Terms, "items");
        var items = new List<Item>(elements.Count);
        for (int i = 0; i < elements.Count; i++)
        {
            string at = $"terms.items[{i}]";
            if (elements[i].ValueKind != JsonValueKind.Object)
            {
                throw Terms.Invalid($"{at} must be an object {{\"seller\", \"assetId\", \"amount\"}}");
            }

            string seller = Terms.PartyId(setup, elements[i], "seller", at);
            if (seller == buyer)
            {
                throw Terms.Invalid($"{at}.seller is the buyer, {buyer}: a buyer cannot sell to itself");
            }

            items.Add(new Item(seller, Terms.AssetId(elements[i], "assetId", at), Terms.Positive(elements[i], "amount", at)));
        }

        ulong price = Terms.Positive(setup.Terms, "price");
        var sellers = items.Select(i => i.Seller).Distinct(StringComparer.Ordinal).ToList();
        var split = new List<(string Seller, ulong Share)>();
        UInt128 total = 0;
        foreach (JsonProperty share in Terms.Object(setup.Terms, "split"))
        {
            if (!sellers.Contains(share.Name))
            {
                throw Terms.Invalid($"terms.split names '{share.Name}', who sells no item of the bundle");
            }

            ulong satoshis = Terms.PositiveValue(share.Value, $"terms.split.{share.Name}");
            split.Add((share.Name, satoshis));
            total += satoshis;
        }

        if (sellers.FirstOrDefault(s => !split.Any(p => p.Seller == s)) is string unpaid)
        {
            throw Terms.Invalid($"terms.split gives no share of the price to {unpaid}, who sells items of the bundle");
        }

        if (total != price)
        {
            throw Terms.Invalid($"terms.split adds up to {total} satoshis; the price is {price}");
        }

        if (setup.Parties.FirstOrDefault(p => p.Id != buyer && !sellers.Contains(p.Id)) is Party idle)
        {
            throw Terms.Invalid($"party {idle.Id} has no part in this bundle: its parties are the buyer and the sellers");
        }

        return new Deal(buyer, items, split);
    }

    private sealed record Item(string Seller, string AssetId, ulong Amount);

    private sealed record Deal(string Buyer, IReadOnlyList<Item> Items, IReadOnlyList<(string Seller, ulong Share)> Split);
}
