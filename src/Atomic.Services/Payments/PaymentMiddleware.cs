using System.Diagnostics;
using System.Globalization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Identity.Auth;
using Atomic.Identity.Payments;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Payments;

/// <summary>
/// BRC-105 for endpoints marked <c>RequirePayment</c>: answers an unpaid request 402 with a fresh derivation prefix;
/// takes a retried request's <c>x-bsv-payment</c> only when it pays the price to the BRC-29 key derived for the caller,
/// passes SPV, uses its prefix for the first time and is broadcast by the pipeline; records it (with an audit entry and
/// a <c>payment.received</c> event: <see cref="PaymentEvents"/>), then runs the request. A payment whose request gives
/// up before it is broadcast is finished by <see cref="PaymentRecovery"/>, which credits the payer; credit on the route
/// pays for a call before any payment is asked for.
/// Runs after authentication (the caller's identity key is the BsvAuth claim).
/// </summary>
public sealed class PaymentMiddleware(
    RequestDelegate next, AuthServer server, DerivationPrefixes prefixes, IPaymentStore store, IPaymentSettler settler,
    PaymentRecovery recovery, SpvVerifier spv, IOptions<PaymentOptions> options, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Endpoint? endpoint = context.GetEndpoint();
        if ((endpoint?.Metadata.GetMetadata<PaymentRequirement>() ?? Configured(endpoint)) is not { } requirement)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        string route = requirement.Route ?? (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "/";
        PaymentOptions o = options.Value;
        if (Caller.Of(context.User) is not { } caller)
        {
            await Refuse(context, route, StatusCodes.Status401Unauthorized, AuthReasons.Required,
                "a priced route needs a BRC-103/104 signed request: the payment is tied to the caller's identity key").ConfigureAwait(false);
            return;
        }

        PriceQuote quote;
        try
        {
            quote = requirement.Quote(context, o);
        }
        catch (LengthRequiredException e)
        {
            await Refuse(context, route, StatusCodes.Status411LengthRequired, Problems.RequestInvalid, e.Message).ConfigureAwait(false);
            return;
        }

        string callerHex = caller.ToHex();
        if (quote.Satoshis <= 0)
        {
            Paid(context, 0);
            await next(context).ConfigureAwait(false);
            return;
        }

        // Credit first: calls bought in advance (CreditCalls), or owed for a payment whose request gave up (PaymentRecovery).
        if (await TrySpendCreditAsync(context, callerHex, route).ConfigureAwait(false))
        {
            return;
        }

        string? header = context.Request.Headers[PaymentHeaders.Payment];
        if (string.IsNullOrEmpty(header))
        {
            await AskAsync(context, caller, quote, o).ConfigureAwait(false);
            return;
        }

        (PaymentReceipt? receipt, int status, string code, string detail) = await TakeAsync(header, caller, quote, route, context.RequestAborted).ConfigureAwait(false);
        if (receipt is null)
        {
            await Refuse(context, route, status, code, detail).ConfigureAwait(false);
            return;
        }

        bool taken = await recovery.TakeAsync(receipt, context.RequestAborted).ConfigureAwait(false);
        await store.RemovePendingAsync(receipt.TxId, context.RequestAborted).ConfigureAwait(false);
        if (!taken)
        {
            // The recovery took this payment first, its request having given up, and credited the payer: spend that.
            if (!await TrySpendCreditAsync(context, callerHex, route).ConfigureAwait(false))
            {
                await Refuse(context, route, StatusCodes.Status409Conflict, PaymentCodes.Replayed,
                    $"transaction {receipt.TxId} was credited to this caller after its request gave up, and the credit is spent").ConfigureAwait(false);
            }

            return;
        }

        int? credit = null;
        if (quote.CreditCalls > 0)
        {
            credit = quote.CreditCalls > 1
                ? await store.AddCreditAsync(callerHex, route, quote.CreditCalls - 1, receipt.TxId, context.RequestAborted).ConfigureAwait(false)
                : 0;
        }

        Paid(context, quote.Satoshis, credit);
        await next(context).ConfigureAwait(false);
    }

    private async Task<bool> TrySpendCreditAsync(HttpContext context, string caller, string route)
    {
        (bool spent, int remaining) = await store.SpendCreditAsync(caller, route, context.RequestAborted).ConfigureAwait(false);
        if (!spent)
        {
            return false;
        }

        PaymentMetrics.CreditCalls.Add(1, new TagList { { "route", route } });
        Paid(context, 0, remaining);
        await next(context).ConfigureAwait(false);
        return true;
    }

    private PaymentRequirement? Configured(Endpoint? endpoint) =>
        options.Value.Routes.Count > 0 && (endpoint as RouteEndpoint)?.RoutePattern.RawText is { } pattern
            && options.Value.Routes.TryGetValue(pattern, out string? policy)
            ? PaymentRequirement.Named(policy)
            : null;

    private async Task<(PaymentReceipt? Receipt, int Status, string Code, string Detail)> TakeAsync(
        string header, PublicKey caller, PriceQuote quote, string route, CancellationToken cancellationToken)
    {
        const int Bad = StatusCodes.Status400BadRequest;
        if (BsvPayment.TryParse(header) is not { } payment || payment.TransactionBytes() is not { } bytes)
        {
            return (null, Bad, PaymentCodes.Malformed, "x-bsv-payment is JSON {derivationPrefix, derivationSuffix, transaction: base64 Atomic BEEF}");
        }

        if (prefixes.Check(payment.DerivationPrefix, caller) is string prefixCode)
        {
            return (null, Bad, prefixCode, prefixCode == PaymentCodes.PrefixExpired
                ? "the derivation prefix has expired: ask again for a new one"
                : "the derivation prefix was not issued by this server to this caller");
        }

        if (payment.DerivationSuffix.Length > 256)
        {
            return (null, Bad, PaymentCodes.Malformed, "the derivation suffix is at most 256 characters");
        }

        (Beef? beef, string txid, ProblemHttpResult? problem) = BeefIntake.Read(bytes);
        if (beef is null || problem is not null)
        {
            return (null, Bad, PaymentCodes.Malformed, $"the transaction is not a BEEF: {problem?.ProblemDetails.Detail}");
        }

        if (!beef.IsAtomic)
        {
            return (null, Bad, PaymentCodes.Malformed, "the transaction must be an Atomic BEEF (BRC-95)");
        }

        Transaction tx = beef.Find(Hash256.FromDisplayHex(txid))!.Transaction!;
        PublicKey payee = Brc29.ReceivingKey(server.Wallet, caller, payment.DerivationPrefix, payment.DerivationSuffix);
        Script script = Brc29.LockingScript(payee);
        int vout = -1;
        long paid = 0;
        for (int i = 0; i < tx.Outputs.Count; i++)
        {
            if (tx.Outputs[i].LockingScript.Span.SequenceEqual(script.Span))
            {
                vout = vout < 0 ? i : vout;
                paid += (long)tx.Outputs[i].Satoshis;
            }
        }

        if (vout < 0)
        {
            return (null, Bad, PaymentCodes.WrongKey, "no output pays the BRC-29 key derived for this caller, prefix and suffix");
        }

        if (paid < quote.PayeeSatoshis)
        {
            return (null, Bad, PaymentCodes.Insufficient, $"the outputs to the derived key carry {paid} satoshis; the price is {quote.PayeeSatoshis}");
        }

        foreach (SplitOutput share in quote.Split)
        {
            Script shareScript = share.LockingScript;
            long got = tx.Outputs.Where(t => t.LockingScript.Span.SequenceEqual(shareScript.Span)).Sum(t => (long)t.Satoshis);
            if (got < share.Satoshis)
            {
                return (null, Bad, PaymentCodes.Insufficient, $"the split gives {share.PublicKey} {share.Satoshis} satoshis; the outputs to it carry {got}");
            }
        }

        SpvResult verified = await spv.VerifyAsync(beef, cancellationToken).ConfigureAwait(false);
        if (!verified.IsValid)
        {
            return (null, Bad, verified.Code ?? ReasonCodes.BeefMalformed, verified.Reason ?? "the payment fails SPV");
        }

        DateTimeOffset now = time.GetUtcNow();
        switch (await store.UsePrefixAsync(payment.DerivationPrefix, txid, now, now - options.Value.SettleTimeout, cancellationToken).ConfigureAwait(false))
        {
            case PrefixUse.Replayed:
                return (null, StatusCodes.Status409Conflict, PaymentCodes.Replayed, $"transaction {txid} already paid with this prefix");
            case PrefixUse.Reused:
                return (null, StatusCodes.Status409Conflict, PaymentCodes.PrefixReused, "this derivation prefix already paid for a request");
        }

        // Pending until taken: should this request give up (PAYMENT_UNSETTLED, a client gone, a process killed), the
        // recovery takes the payment once it is broadcast and credits the payer the calls it paid for.
        var receipt = new PaymentReceipt(txid, (uint)vout, paid, script.ToHex(), caller.ToHex(), route, quote.Satoshis, now) { Prefix = payment.DerivationPrefix };
        await store.AddPendingAsync(new PendingPayment(payment.DerivationPrefix, receipt, Math.Max(1, quote.CreditCalls), now), cancellationToken).ConfigureAwait(false);
        if (await settler.SettleAsync(txid, bytes, cancellationToken).ConfigureAwait(false) is var (code, reason))
        {
            if (code != PaymentCodes.Unsettled)
            {
                await store.RemovePendingAsync(txid, cancellationToken).ConfigureAwait(false); // refused: nothing was received
                return (null, Bad, code, reason);
            }

            return (null, StatusCodes.Status503ServiceUnavailable, code, reason);
        }

        return (receipt, 0, string.Empty, string.Empty);
    }

    private async Task AskAsync(HttpContext context, PublicKey caller, PriceQuote quote, PaymentOptions o)
    {
        string prefix = prefixes.Issue(caller, o.PrefixLifetime);
        context.Response.Headers[PaymentHeaders.VersionHeader] = PaymentHeaders.Version;
        context.Response.Headers[PaymentHeaders.SatoshisRequired] = quote.PayeeSatoshis.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers[PaymentHeaders.DerivationPrefix] = prefix;
        var extensions = new Dictionary<string, object?>
        {
            ["code"] = PaymentCodes.Required,
            ["satoshisRequired"] = quote.PayeeSatoshis,
            ["derivationPrefix"] = prefix,
        };
        if (quote.Split.Count > 0)
        {
            extensions["split"] = quote.Split.Select(s => new { publicKey = s.PublicKey, satoshis = s.Satoshis }).ToArray();
        }

        if (quote.CreditCalls > 0)
        {
            extensions["creditCalls"] = quote.CreditCalls;
        }

        await TypedResults.Problem(
            detail: "a BSV payment is required: retry with x-bsv-payment (BRC-105)", statusCode: StatusCodes.Status402PaymentRequired,
            title: PaymentCodes.Required, extensions: extensions).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static void Paid(HttpContext context, long satoshis, int? credit = null)
    {
        context.Response.Headers[PaymentHeaders.SatoshisPaid] = satoshis.ToString(CultureInfo.InvariantCulture);
        if (credit is int left)
        {
            context.Response.Headers[CreditHeader] = left.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Our header (not BRC-105's) telling a prepaid caller how many calls its credit has left.</summary>
    public const string CreditHeader = "x-bsv-payment-credits-remaining";

    private static Task Refuse(HttpContext context, string route, int status, string code, string detail)
    {
        PaymentMetrics.Refuse(route, code);
        return Problems.Of(status, code, detail).ExecuteAsync(context);
    }
}
