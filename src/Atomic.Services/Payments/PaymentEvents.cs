using Atomic.Services.Operations;
using Atomic.Services.Pipeline;
using Dapr;
using Dapr.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Payments;

/// <summary>
/// What a taken payment tells the rest of the system once its receipt is recorded: the status's tally
/// (<see cref="PaymentTally"/>, the dashboard's payments), an audit entry
/// <c>payment.received</c> (subject <c>{txid}.{vout}</c>, the payer's identity key, detail <c>{route} {satoshis}</c>),
/// and the event <c>payment.received</c> on <c>pubsub</c> with the receipt as its data, which the ERP hooks deliver.
/// Either is skipped where its service is not registered (an application using the middleware without the pipeline).
/// A publish that fails is logged and counted, and the request still runs: the receipt in the payments basket is the
/// record of the payment, and <c>GET /v1/payments</c> lists it.
/// </summary>
public sealed partial class PaymentEvents(IServiceProvider services, ILogger<PaymentEvents> logger)
{
    public const string Topic = "payment.received";

    private readonly AuditLog? _audit = services.GetService<AuditLog>();
    private readonly PaymentTally? _tally = services.GetService<PaymentTally>();

    public async Task ReceivedAsync(PaymentReceipt receipt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        string outpoint = $"{receipt.TxId}.{receipt.Vout}";
        _audit?.Append(Topic, outpoint, $"{receipt.Route} {receipt.Satoshis}", receipt.Caller);
        _tally?.Record(receipt);
        if (services.GetService<DaprClient>() is not { } dapr)
        {
            return;
        }

        try
        {
            await dapr.PublishEventAsync(Names.PubSub, Topic, receipt, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DaprException or HttpRequestException)
        {
            PaymentMetrics.EventsUnpublished.Add(1);
            LogUnpublished(logger, outpoint, e.InnerException?.Message ?? e.Message);
        }
    }

    /// <summary>
    /// The audit entry <c>payment.credited</c> (subject <c>{txid}.{vout}</c>, the payer's identity key, detail
    /// <c>{route} {calls}</c>): a payment whose request was not served, credited to its payer.
    /// </summary>
    public void Credited(PaymentReceipt receipt, int calls)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        _audit?.Append(CreditedKind, $"{receipt.TxId}.{receipt.Vout}", $"{receipt.Route} {calls}", receipt.Caller);
    }

    /// <summary>The audit kind of <see cref="Credited"/>.</summary>
    public const string CreditedKind = "payment.credited";

    [LoggerMessage(Level = LogLevel.Warning, Message = "payment {Outpoint} is recorded but its payment.received event was not published: {Error}")]
    private static partial void LogUnpublished(ILogger logger, string outpoint, string error);
}
