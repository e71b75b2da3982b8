using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.DevChain.Chain;

namespace Atomic.Server.Hosting;

/// <summary>Builds the verifier's chain tracker from <see cref="ChainTrackerOptions"/> (already checked), behind a cache of confirmed roots.</summary>
internal static class ChainTrackers
{
    public const string HttpClientName = "atomic-chaintracker";

    public static IChainTracker Create(ChainTrackerOptions options, IServiceProvider services)
    {
        IChainTracker inner = CreateInner(options, services);
        TimeSpan heightTtl = options.CurrentHeightTtl ?? (options.Kind == "devchain" ? TimeSpan.Zero : CachingChainTracker.DefaultCurrentHeightTtl);
        return new CachingChainTracker(inner, options.CacheTtl, options.CacheCapacity, services.GetRequiredService<TimeProvider>(), heightTtl);
    }

    /// <summary>One line for the start-up banner.</summary>
    public static string Describe(ChainTrackerOptions options)
    {
        string inner = DescribeInner(options);
        return $"{inner}; confirmed roots cached {options.CacheTtl:g} (at most {options.CacheCapacity})";
    }

    private static string DescribeInner(ChainTrackerOptions options) => options.Kind switch
    {
        "devchain" => "the dev chain's headers, in process",
        "bhs" => $"Block Headers Service at {options.Url}{(string.IsNullOrEmpty(options.ApiKey) ? string.Empty : " (API key set)")}",
        "whatsonchain" => $"WhatsOnChain {options.Network}{(string.IsNullOrEmpty(options.Url) ? string.Empty : " at " + options.Url)}{(string.IsNullOrEmpty(options.ApiKey) ? string.Empty : " (API key set)")}",
        "composite" => $"composite, {options.Quorum ?? ((options.Trackers.Count / 2) + 1)} of [{string.Join("; ", options.Trackers.Select(DescribeInner))}]",
        _ => options.Kind ?? "?",
    };

    private static IChainTracker CreateInner(ChainTrackerOptions options, IServiceProvider services)
    {
        switch (options.Kind)
        {
            case "devchain":
                return new LocalChainTracker(services.GetRequiredService<LocalChain>());
            case "bhs":
                return new BlockHeadersServiceChainTracker(Http(options, services), new Uri(options.Url!), options.ApiKey);
            case "whatsonchain":
                return new WhatsOnChainChainTracker(Http(options, services), options.Network, options.ApiKey, string.IsNullOrWhiteSpace(options.Url) ? null : new Uri(options.Url));
            case "composite":
                return new CompositeChainTracker(options.Trackers.Select(t => CreateInner(t, services)).ToArray(), options.Quorum);
            default:
                throw new ServerConfigurationException($"Atomic:ChainTracker:Kind '{options.Kind}' is not a chain tracker");
        }
    }

    private static HttpClient Http(ChainTrackerOptions options, IServiceProvider services)
    {
        HttpClient client = services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
        client.Timeout = options.Timeout;
        return client;
    }
}
