using System.Globalization;
using System.Text.Json;
using Atomic.Services.Contracts;
using Dapr.Actors;
using Dapr.Actors.Client;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Payments;

/// <summary>
/// Receipts as outputs of the <c>payments</c> basket (a <c>BasketManager</c> actor): tags <c>caller:{key}</c>,
/// <c>route:{route}</c>, <c>price:{satoshis}</c>; the whole receipt as JSON custom instructions. Each output is
/// inserted under the idempotency key <c>payment:{txid}.{vout}</c>, so it is never recorded twice.
/// </summary>
public sealed class BasketReceipts(IActorProxyFactory actors, IOptions<PaymentOptions> options) : IPaymentReceipts
{
    private const int Page = 500;

    private IBasketManager Basket => actors.CreateActorProxy<IBasketManager>(new ActorId(options.Value.Basket), IBasketManager.TypeName);

    public async Task RecordAsync(PaymentReceipt receipt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        string outpoint = $"{receipt.TxId}.{receipt.Vout}";
        var insert = new BasketOperationRequest("insert", outpoint, (ulong)receipt.Satoshis, receipt.LockingScript,
            [$"caller:{receipt.Caller}", $"route:{receipt.Route}", $"price:{receipt.Price.ToString(CultureInfo.InvariantCulture)}"],
            JsonSerializer.Serialize(receipt, JsonSerializerOptions.Web));
        await Basket.Apply(new ApplyRequest([insert], $"payment:{outpoint}")).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<PaymentReceipt>> ListAsync(string? route, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var receipts = new List<PaymentReceipt>();
        string[]? tags = route is null ? null : [$"route:{route}"];
        for (int offset = 0; ; offset += Page)
        {
            ListResult page = await Basket.List(new ListRequest(tags, IncludeSpent: true, Limit: Page, Offset: offset, IncludeReserved: true)).ConfigureAwait(false);
            foreach (BasketOutputView output in page.Outputs)
            {
                if (output.CustomInstructions is { } json
                    && JsonSerializer.Deserialize<PaymentReceipt>(json, JsonSerializerOptions.Web) is { } receipt
                    && (since is null || receipt.PaidAt >= since))
                {
                    receipts.Add(receipt);
                }
            }

            if (page.Outputs.Count < Page || offset + Page >= page.TotalOutputs)
            {
                return receipts;
            }
        }
    }
}
