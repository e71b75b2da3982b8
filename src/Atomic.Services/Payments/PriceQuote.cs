using System.Security.Claims;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Microsoft.AspNetCore.Http;

namespace Atomic.Services.Payments;

/// <summary>One output a split asks for beside the payee's own: a party's key and its satoshis.</summary>
public sealed record SplitOutput(string PublicKey, long Satoshis)
{
    /// <summary>The P2PKH script the output must carry.</summary>
    public Script LockingScript => Script.PayToPublicKeyHash(Bsv.Primitives.Keys.PublicKey.FromHex(PublicKey).ToHash160());
}

/// <summary>
/// The price of one request: <see cref="Satoshis"/> in all, of which <see cref="Split"/> goes to other parties and the
/// rest (<see cref="PayeeSatoshis"/>) to the server's BRC-29 key; <see cref="CreditCalls"/> &gt; 0 when it buys credit.
/// </summary>
public sealed record PriceQuote(long Satoshis, IReadOnlyList<SplitOutput> Split, int CreditCalls)
{
    public static PriceQuote Free { get; } = new(0, [], 0);

    public long PayeeSatoshis => Satoshis - Split.Sum(s => s.Satoshis);

    /// <summary>The quote of a policy for this request: size, claims, split.</summary>
    public static PriceQuote Of(PaymentPolicy policy, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(context);
        long price = policy.Satoshis;
        if (policy.SatoshisPerKilobyte > 0)
        {
            // A body of unknown length (chunked) cannot be priced before it is read: the middleware answers 411.
            long length = context.Request.ContentLength
                ?? (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true
                    ? throw new LengthRequiredException()
                    : 0);
            price += (length + 1023) / 1024 * policy.SatoshisPerKilobyte;
        }

        int discount = 0;
        foreach (Claim claim in context.User.Claims)
        {
            if (policy.Discounts.TryGetValue(claim.Type, out int byType) || policy.Discounts.TryGetValue($"{claim.Type}={claim.Value}", out byType))
            {
                discount = Math.Max(discount, Math.Clamp(byType, 0, 100));
            }

            if (claim.Type == Identity.BsvAuthDefaults.CertificateClaim
                && policy.CertificateDiscounts.TryGetValue(claim.Value, out int byCertificate))
            {
                discount = Math.Max(discount, Math.Clamp(byCertificate, 0, 100));
            }
        }

        price -= price * discount / 100;
        if (price <= 0)
        {
            return Free;
        }

        var split = new List<SplitOutput>(policy.Split.Count);
        foreach (PaymentShare share in policy.Split)
        {
            long part = price * share.Percent / 100;
            if (part > 0)
            {
                split.Add(new SplitOutput(share.PublicKey.ToLowerInvariant(), part));
            }
        }

        return new PriceQuote(price, split, policy.CreditCalls);
    }
}

/// <summary>Endpoint metadata put by <c>RequirePayment</c>: how the route is priced.</summary>
public sealed class PaymentRequirement
{
    private readonly Func<HttpContext, PaymentOptions, PriceQuote> _quote;

    internal PaymentRequirement(Func<HttpContext, PaymentOptions, PriceQuote> quote, string? route)
    {
        _quote = quote;
        Route = route;
    }

    /// <summary>The route's name in receipts and metrics; the endpoint's pattern when null.</summary>
    public string? Route { get; }

    internal PriceQuote Quote(HttpContext context, PaymentOptions options) => _quote(context, options);

    internal static PaymentRequirement Fixed(long satoshis) =>
        new((_, _) => satoshis > 0 ? new PriceQuote(satoshis, [], 0) : PriceQuote.Free, null);

    internal static PaymentRequirement Computed(Func<HttpContext, long> price) =>
        new((c, _) => price(c) is > 0 and long p ? new PriceQuote(p, [], 0) : PriceQuote.Free, null);

    internal static PaymentRequirement Policy(PaymentPolicy policy) => new((c, _) => PriceQuote.Of(policy, c), null);

    internal static PaymentRequirement Named(string name) =>
        new((c, o) => o.Policies.TryGetValue(name, out PaymentPolicy? policy)
            ? PriceQuote.Of(policy, c)
            : throw new InvalidOperationException($"{PaymentOptions.Section}:Policies:{name} is not configured"), null);
}

/// <summary>A caller's identity key, read once from the BsvAuth claim.</summary>
internal static class Caller
{
    public static PublicKey? Of(ClaimsPrincipal user)
    {
        string? hex = user.FindFirstValue(Identity.BsvAuthDefaults.IdentityKeyClaim);
        return hex is not null && PaymentOptions.IsKey(hex) ? PublicKey.FromHex(hex) : null;
    }
}

/// <summary>A price by size met a request body without <c>Content-Length</c>.</summary>
internal sealed class LengthRequiredException() : Exception("a route priced by body size needs Content-Length");
