using System.Globalization;
using Atomic.Services.Identity;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Payments;

/// <summary><c>GET /v1/payments?route=&amp;since=</c>: the receipts, for a caller whose identity key is an operator's.</summary>
public static class PaymentsApi
{
    public static RouteHandlerBuilder MapPaymentsApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/payments", ListPaymentsAsync).RequireBsvAuth();

    /// <summary>The receipts list and their total.</summary>
    public sealed record PaymentList(long TotalSatoshis, IReadOnlyList<PaymentReceipt> Payments);

    internal static async Task<Results<Ok<PaymentList>, ProblemHttpResult>> ListPaymentsAsync(
        HttpContext context, string? route, string? since, IPaymentReceipts receipts, IOptions<PaymentOptions> options, CancellationToken cancellationToken)
    {
        string? caller = Caller.Of(context.User)?.ToHex();
        if (caller is null || !options.Value.Operators.Any(o => string.Equals(o, caller, StringComparison.OrdinalIgnoreCase)))
        {
            return Problems.Of(StatusCodes.Status403Forbidden, "AUTH_FORBIDDEN", "only an operator's identity key (Atomic:Payments:Operators) lists payments");
        }

        DateTimeOffset? from = null;
        if (since is not null)
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed))
            {
                return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "since is an ISO-8601 time");
            }

            from = parsed;
        }

        IReadOnlyList<PaymentReceipt> list = await receipts.ListAsync(route?.ToLowerInvariant(), from, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new PaymentList(list.Sum(r => r.Satoshis), list));
    }
}
