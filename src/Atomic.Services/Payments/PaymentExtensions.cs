using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Services.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Payments;

/// <summary>Registration of BRC-105 payments: <c>AddBsvPayments</c>, <c>UseBsvPayments</c>, <c>RequirePayment</c>.</summary>
public static class PaymentExtensions
{
    /// <summary>
    /// The payment middleware's services over the pipeline: prefixes signed by the BsvAuth identity, used prefixes and
    /// credit in <c>statestore</c>, settlement through the gateway's path, receipts in the <c>payments</c> basket. Needs
    /// <c>AddBsvAuth</c>; the pipeline's parts (<c>AddAtomicPipeline</c>) unless the application registers its own
    /// <see cref="IPaymentSettler"/>, <see cref="IPaymentStore"/> and <see cref="IPaymentReceipts"/> first. Pending
    /// payments are recovered every <see cref="PaymentOptions.RecoveryInterval"/> (<see cref="PaymentRecoveryService"/>).
    /// </summary>
    public static IServiceCollection AddBsvPayments(this IServiceCollection services, Action<PaymentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<PaymentOptions> options = services.AddOptions<PaymentOptions>().BindConfiguration(PaymentOptions.Section);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options
            .Validate(o => o.PrefixLifetime > TimeSpan.Zero, $"{PaymentOptions.Section}:PrefixLifetime must be positive")
            .Validate(o => o.SettleTimeout > TimeSpan.Zero, $"{PaymentOptions.Section}:SettleTimeout must be positive")
            .Validate(o => o.RecoveryInterval >= TimeSpan.Zero, $"{PaymentOptions.Section}:RecoveryInterval must not be negative")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Basket), $"{PaymentOptions.Section}:Basket must name a basket")
            .Validate(o => o.Operators.All(PaymentOptions.IsKey), $"{PaymentOptions.Section}:Operators are public keys in hex")
            .Validate(o => o.Routes.Values.All(o.Policies.ContainsKey), $"{PaymentOptions.Section}:Routes name policies of {PaymentOptions.Section}:Policies")
            .Validate(o => o.Policies.Values.All(Valid), $"{PaymentOptions.Section}:Policies: a price is not negative, a discount is 0 to 100, "
                + "credit calls are not negative, a split names public keys in hex and its percents add up to less than 100")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DerivationPrefixes>();
        services.TryAddSingleton<IPaymentStore, PaymentLedger>();
        services.TryAddSingleton<IPaymentSettler, PipelineSettler>();
        services.TryAddSingleton<IPaymentReceipts, BasketReceipts>();
        services.TryAddSingleton<PaymentEvents>();
        services.TryAddSingleton<PaymentRecovery>();
        services.AddHostedService<PaymentRecoveryService>();
        services.TryAddSingleton(sp => new SpvVerifier(sp.GetRequiredService<IChainTracker>()));
        return services;
    }

    /// <summary>Puts the payment middleware in the pipeline; call it after authentication and authorization.</summary>
    public static IApplicationBuilder UseBsvPayments(this IApplicationBuilder app) => app.UseMiddleware<PaymentMiddleware>();

    /// <summary>The route costs <paramref name="satoshis"/> per call (and needs a BRC-103/104 signed request).</summary>
    public static TBuilder RequirePayment<TBuilder>(this TBuilder builder, long satoshis)
        where TBuilder : IEndpointConventionBuilder => builder.WithPayment(PaymentRequirement.Fixed(satoshis));

    /// <summary>The route's price is computed per request (0 or less: free for that request).</summary>
    public static TBuilder RequirePayment<TBuilder>(this TBuilder builder, Func<HttpContext, long> price)
        where TBuilder : IEndpointConventionBuilder => builder.WithPayment(PaymentRequirement.Computed(price));

    /// <summary>The route is priced by a policy given in code.</summary>
    public static TBuilder RequirePayment<TBuilder>(this TBuilder builder, PaymentPolicy policy)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(policy);
        return Valid(policy) ? builder.WithPayment(PaymentRequirement.Policy(policy)) : throw new ArgumentException("the policy is not valid", nameof(policy));
    }

    /// <summary>The route is priced by the policy configured as <c>Atomic:Payments:Policies:{name}</c>.</summary>
    public static TBuilder RequirePayment<TBuilder>(this TBuilder builder, string policy)
        where TBuilder : IEndpointConventionBuilder => builder.WithPayment(PaymentRequirement.Named(policy));

    private static TBuilder WithPayment<TBuilder>(this TBuilder builder, PaymentRequirement requirement)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.RequireBsvAuth();
        builder.Add(endpoint => endpoint.Metadata.Add(requirement));
        return builder;
    }

    internal static bool Valid(PaymentPolicy p) =>
        p.Satoshis >= 0 && p.SatoshisPerKilobyte >= 0 && p.CreditCalls >= 0
        && p.Discounts.Values.All(d => d is >= 0 and <= 100)
        && p.CertificateDiscounts.Values.All(d => d is >= 0 and <= 100)
        && p.Split.All(s => PaymentOptions.IsKey(s.PublicKey) && s.Percent is > 0 and < 100)
        && p.Split.Sum(s => s.Percent) < 100;
}
