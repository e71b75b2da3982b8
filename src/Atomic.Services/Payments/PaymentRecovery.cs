using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Payments;

/// <summary>
/// Takes a payment once it is the server's, and finishes the payments whose requests gave up. Every payment handed to
/// the pipeline is pending (<see cref="IPaymentStore.AddPendingAsync"/>) until it completes. Its request completes it
/// when the pipeline broadcasts it in time. A request that answered <c>PAYMENT_UNSETTLED</c>, or died (the client hung
/// up, the process was killed), leaves it to <see cref="RecoverAsync"/>: once the transaction is broadcast the receipt
/// is recorded and the payer is credited the calls it paid for and was not served (the request's call, or the credit
/// it bought), to spend on the same route without paying again. Completing the used prefix is atomic, so a payment is
/// taken once: by its request (served) or by the recovery (credited), never both.
/// </summary>
public sealed partial class PaymentRecovery(
    IPaymentStore store, IPaymentSettler settler, IPaymentReceipts receipts, PaymentEvents events, IOptions<PaymentOptions> options,
    TimeProvider time, ILogger<PaymentRecovery> logger)
{
    /// <summary>
    /// Records the receipt and completes its prefix; for the one caller that completed it, tells the rest of the system
    /// (<see cref="PaymentEvents"/>, metrics) and answers true. False: it was taken already.
    /// </summary>
    public async Task<bool> TakeAsync(PaymentReceipt receipt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        await receipts.RecordAsync(receipt, cancellationToken).ConfigureAwait(false);
        if (!await store.CompletePrefixAsync(receipt.Prefix, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await events.ReceivedAsync(receipt, cancellationToken).ConfigureAwait(false);
        PaymentMetrics.Received.Add(receipt.Satoshis, new TagList { { "route", receipt.Route } });
        return true;
    }

    /// <summary>
    /// One pass over the pending payments older than <see cref="PaymentOptions.SettleTimeout"/> (younger ones may still
    /// have a request waiting): a broadcast one is taken and its payer credited; a refused one, or one the pipeline never
    /// heard of within the prefix's lifetime, is forgotten; one still on its way is left for a later pass. Answers how
    /// many payers were credited.
    /// </summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        PaymentOptions o = options.Value;
        DateTimeOffset now = time.GetUtcNow();
        int credited = 0;
        foreach (PendingPayment pending in await store.PendingAsync(cancellationToken).ConfigureAwait(false))
        {
            if (pending.Since > now - o.SettleTimeout)
            {
                continue;
            }

            PaymentReceipt receipt = pending.Receipt with { Prefix = pending.Prefix };
            switch (await settler.StateAsync(receipt.TxId, cancellationToken).ConfigureAwait(false))
            {
                case Settlement.Settled:
                    if (await TakeAsync(receipt, cancellationToken).ConfigureAwait(false))
                    {
                        int calls = await store.AddCreditAsync(receipt.Caller, receipt.Route, pending.Grant, receipt.TxId, cancellationToken).ConfigureAwait(false);
                        events.Credited(receipt, pending.Grant);
                        PaymentMetrics.Recovered.Add(1, new TagList { { "route", receipt.Route } });
                        LogCredited(logger, receipt.TxId, receipt.Satoshis, pending.Grant, receipt.Caller, receipt.Route, calls);
                        credited++;
                    }

                    await store.RemovePendingAsync(receipt.TxId, cancellationToken).ConfigureAwait(false);
                    break;
                case Settlement.Refused:
                    LogForgotten(logger, receipt.TxId, "the pipeline refused it");
                    await store.RemovePendingAsync(receipt.TxId, cancellationToken).ConfigureAwait(false);
                    break;
                case Settlement.Unknown when pending.Since < now - o.PrefixLifetime - o.SettleTimeout:
                    LogForgotten(logger, receipt.TxId, "the pipeline never took it");
                    await store.RemovePendingAsync(receipt.TxId, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        return credited;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "payment {TxId} ({Satoshis} satoshis) was broadcast after its request gave up: {Grant} call(s) credited to {Caller} on {Route}, {Calls} in all")]
    private static partial void LogCredited(ILogger logger, string txId, long satoshis, int grant, string caller, string route, int calls);

    [LoggerMessage(Level = LogLevel.Information, Message = "pending payment {TxId} forgotten: {Why}")]
    private static partial void LogForgotten(ILogger logger, string txId, string why);
}

/// <summary>Runs <see cref="PaymentRecovery.RecoverAsync"/> every <see cref="PaymentOptions.RecoveryInterval"/> (never when zero).</summary>
public sealed partial class PaymentRecoveryService(PaymentRecovery recovery, IOptions<PaymentOptions> options, TimeProvider time, ILogger<PaymentRecoveryService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TimeSpan interval = options.Value.RecoveryInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await recovery.RecoverAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogFailed(logger, e.Message); // the store or the pipeline is down; the next pass tries again
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "the pass over pending payments failed and will be tried again: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);
}
