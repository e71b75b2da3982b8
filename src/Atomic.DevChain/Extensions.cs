using Atomic.DevChain.Apis;
using Atomic.DevChain.Chain;
using Atomic.DevChain.Hosting;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Atomic.DevChain;

/// <summary>Registers the dev chain and maps its routes, standalone or mounted in a larger server.</summary>
public static class Extensions
{
    /// <summary>The standalone app's defaults, below every other source: http://127.0.0.1:5090 and data/devchain.sqlite.</summary>
    public static IConfigurationBuilder AddDevChainDefaults(this IConfigurationBuilder configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Urls"] = "http://127.0.0.1:5090",
                [$"{DevChainOptions.Section}:{nameof(DevChainOptions.DataPath)}"] = Path.Combine("data", "devchain.sqlite"),
            },
        });
        return configuration;
    }

    /// <summary>
    /// The chain (opened at first use from the <c>DevChain</c> section; a relative <c>DataPath</c> is taken from the
    /// content root), the callback dispatcher and the interval miner.
    /// </summary>
    public static IServiceCollection AddDevChain(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DevChainOptions>().Bind(configuration.GetSection(DevChainOptions.Section));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(provider => LocalChain.Open(
            provider.GetRequiredService<IOptions<DevChainOptions>>().Value,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetService<IHostEnvironment>()?.ContentRootPath));
        services.AddSingleton<DevChainEndpointFilter>();
        services.AddHttpClient(CallbackDispatcher.HttpClientName);
        services.AddHostedService<CallbackDispatcher>();
        services.AddHostedService<IntervalMiner>();
        return services;
    }

    /// <summary>
    /// Maps ARC's API, the Block Headers Service API, the faucet and mining under <paramref name="prefix"/>
    /// (<c>/arc</c> in the all-in-one server, the root standalone).
    /// </summary>
    public static RouteGroupBuilder MapDevChain(this IEndpointRouteBuilder endpoints, string prefix = "")
    {
        RouteGroupBuilder group = endpoints.MapGroup(prefix);
        group.AddEndpointFilter<DevChainEndpointFilter>();
        group.MapArcApi();
        group.MapHeadersApi();
        group.MapMineApi();
        group.MapFaucetApi();
        return group;
    }
}
