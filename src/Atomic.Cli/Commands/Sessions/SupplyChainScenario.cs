using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Transactions;
using Atomic.Sessions.Templates;

namespace Atomic.Cli.Commands.Sessions;

/// <summary>
/// <c>supply-chain</c>: a producer ships <see cref="Shipped"/> units of its asset (the goods) to a retailer; the retailer
/// pays the distributor <see cref="Freight"/> satoshis for the delivery, and the distributor pays the producer
/// <see cref="Wholesale"/>; one transaction settles all three and commits to the SHA-256 of the shipping documents
/// (an <c>OP_FALSE OP_RETURN</c> output the producer, the first party, gives).
/// </summary>
internal sealed class SupplyChainScenario : SessionScenario
{
    public const ulong Shipped = 250;

    public const ulong Freight = 12_000;

    public const ulong Wholesale = 8_000;

    public override string Name => SupplyChainTemplate.TemplateName;

    public override IReadOnlyList<string> Parties { get; } = ["producer", "distributor", "retailer"];

    public override IReadOnlyList<string> Funded => Parties;

    public override IReadOnlyList<string> Minters { get; } = ["producer"];

    /// <summary>The documents behind the deal: a bill of lading and two invoices, as the parties agreed them.</summary>
    public static string Documents(string assetId) =>
        $"bill of lading: {Shipped} units of {assetId}, producer to retailer, carried by distributor\n"
        + $"invoice: retailer pays distributor {Freight} sat\ninvoice: distributor pays producer {Wholesale} sat\n";

    public override SessionPlan Open(IReadOnlyDictionary<string, DemoParty> parties)
    {
        DemoParty producer = parties["producer"], distributor = parties["distributor"], retailer = parties["retailer"];
        string asset = producer.AssetId!;
        byte[] documents = Hashes.Sha256(Encoding.UTF8.GetBytes(Documents(asset)));
        object[] transfers =
        [
            new { from = producer.Id, to = retailer.Id, assetId = asset, amount = Shipped },
            new { from = retailer.Id, to = distributor.Id, satoshis = Freight },
            new { from = distributor.Id, to = producer.Id, satoshis = Wholesale },
        ];
        return new SessionPlan(
            SupplyChainTemplate.TemplateName,
            $"{Shipped} units of asset {DemoReport.Short(asset)} producer → retailer, {Freight} sat retailer → distributor, "
            + $"{Wholesale} sat distributor → producer; documents SHA-256 {DemoReport.Short(Hex.Encode(documents))}",
            [producer, distributor, retailer],
            new { transfers, documentsSha256 = Hex.Encode(documents) },
            [
                PlannedContribution.Spending(
                    producer,
                    new TxOutput(0, SupplyChainTemplate.DocumentsCommitment(documents)),
                    Token(retailer, asset, Shipped),
                    Token(producer, asset, Minted - Shipped)),
                PlannedContribution.Spending(distributor, Pay(producer, Wholesale)),
                PlannedContribution.Spending(retailer, Pay(distributor, Freight)),
            ]);
    }
}
