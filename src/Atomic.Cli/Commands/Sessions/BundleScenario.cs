using Atomic.Sessions.Templates;

namespace Atomic.Cli.Commands.Sessions;

/// <summary>
/// <c>bundle</c>: two sellers each mint an asset, and one buyer buys units of both at one price, split between them:
/// <see cref="AmountA"/> units from seller-a for <see cref="ShareA"/> satoshis and <see cref="AmountB"/> from seller-b
/// for <see cref="ShareB"/>, all or nothing in one transaction.
/// </summary>
internal sealed class BundleScenario : SessionScenario
{
    public const ulong AmountA = 300;

    public const ulong AmountB = 500;

    public const ulong ShareA = 6_000;

    public const ulong ShareB = 9_000;

    public override string Name => BundleTemplate.TemplateName;

    public override IReadOnlyList<string> Parties { get; } = ["buyer", "seller-a", "seller-b"];

    public override IReadOnlyList<string> Funded => Parties;

    public override IReadOnlyList<string> Minters { get; } = ["seller-a", "seller-b"];

    public override SessionPlan Open(IReadOnlyDictionary<string, DemoParty> parties)
    {
        DemoParty buyer = parties["buyer"], a = parties["seller-a"], b = parties["seller-b"];
        string assetA = a.AssetId!, assetB = b.AssetId!;
        object[] items =
        [
            new { seller = a.Id, assetId = assetA, amount = AmountA },
            new { seller = b.Id, assetId = assetB, amount = AmountB },
        ];
        return new SessionPlan(
            BundleTemplate.TemplateName,
            $"{AmountA} units of asset {DemoReport.Short(assetA)} and {AmountB} of asset {DemoReport.Short(assetB)} "
            + $"for {ShareA + ShareB} sat, split {ShareA} to seller-a and {ShareB} to seller-b",
            [buyer, a, b],
            new
            {
                buyer = buyer.Id,
                items,
                price = ShareA + ShareB,
                split = new Dictionary<string, ulong> { [a.Id] = ShareA, [b.Id] = ShareB },
            },
            [
                PlannedContribution.Spending(buyer, Pay(a, ShareA), Pay(b, ShareB)),
                PlannedContribution.Spending(a, Token(buyer, assetA, AmountA), Token(a, assetA, Minted - AmountA)),
                PlannedContribution.Spending(b, Token(buyer, assetB, AmountB), Token(b, assetB, Minted - AmountB)),
            ]);
    }
}
