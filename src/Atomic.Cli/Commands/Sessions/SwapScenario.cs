using Atomic.Sessions.Templates;

namespace Atomic.Cli.Commands.Sessions;

/// <summary>
/// <c>swap</c>: the seller mints an asset and sells <see cref="Amount"/> units of it to the buyer for <see cref="Price"/>
/// satoshis, both legs in one transaction. The seller keeps the rest of its coin in a token output of its own, because
/// <c>tm_tokens</c> admits an asset's outputs only when they add up to the coins spent.
/// </summary>
internal sealed class SwapScenario : SessionScenario
{
    public const ulong Amount = 600;

    public const ulong Price = 10_000;

    public override string Name => SwapTemplate.TemplateName;

    public override IReadOnlyList<string> Parties { get; } = ["seller", "buyer"];

    public override IReadOnlyList<string> Funded => Parties;

    public override IReadOnlyList<string> Minters { get; } = ["seller"];

    public override SessionPlan Open(IReadOnlyDictionary<string, DemoParty> parties)
    {
        DemoParty seller = parties["seller"], buyer = parties["buyer"];
        string asset = seller.AssetId!;
        return new SessionPlan(
            SwapTemplate.TemplateName,
            $"the seller's {Amount} units of asset {DemoReport.Short(asset)} for the buyer's {Price} sat",
            [seller, buyer],
            new { seller = seller.Id, buyer = buyer.Id, assetId = asset, amount = Amount, price = Price },
            [
                PlannedContribution.Spending(seller, Token(buyer, asset, Amount), Token(seller, asset, Minted - Amount)),
                PlannedContribution.Spending(buyer, Pay(seller, Price)),
            ]);
    }
}
