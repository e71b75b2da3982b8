using Atomic.Bsv.Primitives;
using Atomic.Services.Gateway;
using Atomic.Services.Pipeline;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Payments;

/// <summary>
/// Settles a payment through the pipeline like any submitted BEEF (<c>beef.submitted</c> → verifier → broadcaster)
/// and waits until its record is broadcast, or rejected or failed with the pipeline's code.
/// </summary>
public sealed class PipelineSettler(GatewayServices gateway, IOptions<PaymentOptions> options) : IPaymentSettler
{
    /// <summary>The route name under which payments are counted as accepted BEEFs.</summary>
    public const string Route = "payments";

    public async Task<(string Code, string Reason)?> SettleAsync(string txid, byte[] beef, CancellationToken cancellationToken)
    {
        await BeefIntake.AcceptAsync(gateway.Records, txid, beef, [], [], Route, cancellationToken).ConfigureAwait(false);
        (TxRecord? record, bool reached) = await GatewayApi.WaitAsync(gateway, txid, TxStatus.Broadcast, options.Value.SettleTimeout, cancellationToken)
            .ConfigureAwait(false);
        if (!reached || record is null)
        {
            return (PaymentCodes.Unsettled, $"transaction {txid} was not broadcast within {options.Value.SettleTimeout.TotalSeconds:0} s; send the same payment again to resume it");
        }

        return record.Status is TxStatus.Rejected or TxStatus.Failed
            ? (record.Code ?? ReasonCodes.BroadcastRejected, record.Reason ?? $"transaction {txid} is {record.Status}")
            : null;
    }

    public async Task<Settlement> StateAsync(string txid, CancellationToken cancellationToken) =>
        (await gateway.Records.GetAsync(txid, cancellationToken).ConfigureAwait(false))?.Record.Status switch
        {
            null => Settlement.Unknown,
            TxStatus.Received or TxStatus.Verified => Settlement.Pending,
            TxStatus.Rejected or TxStatus.Failed => Settlement.Refused,
            _ => Settlement.Settled,
        };
}
