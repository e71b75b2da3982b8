using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Funding;

/// <summary>Registration of the server's coins (<see cref="FundingCoins"/>, section <c>Atomic:Funding</c>).</summary>
public static class FundingExtensions
{
    /// <summary>The server's coins over the pipeline's stores; start-up fails when <c>Atomic:Funding:Key</c> is not a key.</summary>
    public static IServiceCollection AddFunding(this IServiceCollection services, Action<FundingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<FundingOptions> options = services.AddOptions<FundingOptions>().BindConfiguration(FundingOptions.Section);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options
            .Validate(o => TryKey(o), $"{FundingOptions.KeyKey} is a private key, WIF or 64 hex characters")
            .Validate(o => o.SatoshisPerKilobyte > 0, $"{FundingOptions.Section}:SatoshisPerKilobyte must be positive")
            .Validate(o => o.DepositTimeout > TimeSpan.Zero, $"{FundingOptions.Section}:DepositTimeout must be positive")
            .ValidateOnStart();
        services.TryAddSingleton<FundingCoins>();
        return services;
    }

    private static bool TryKey(FundingOptions o)
    {
        try
        {
            _ = o.ParseKey();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
