namespace Atomic.Server;

/// <summary>The server's own settings (section <c>Atomic</c>); the pipeline's sections sit beside them.</summary>
public sealed class ServerOptions
{
    public const string Section = "Atomic";

    /// <summary>
    /// <c>embedded</c> (this process hosts the building blocks, from <c>components/</c>) or <c>dapr</c> (the sidecar
    /// does, at <c>DAPR_HTTP_PORT</c>/<c>DAPR_HTTP_ENDPOINT</c>); empty: <c>dapr</c> when <c>DAPR_HTTP_PORT</c> is set, else <c>embedded</c>.
    /// </summary>
    public string? Runtime { get; set; }

    /// <summary>
    /// Which app this process is: <c>all</c> (the all-in-one server) or one of <c>atomic-gateway</c>,
    /// <c>atomic-verifier</c>, <c>atomic-overlay</c>, <c>atomic-broadcaster</c> (one app per service, on Dapr).
    /// </summary>
    public string App { get; set; } = ServerRoles.All;

    /// <summary>The Dapr components folder; empty: <c>components/</c> in the current directory, else the nearest one above the content root.</summary>
    public string? Components { get; set; }

    /// <summary>Where relative paths in the components (and the dev chain's data) resolve; empty: the components folder's parent.</summary>
    public string? BaseDirectory { get; set; }

    /// <summary>The app id the actor runtime keys its state with; empty: the app's (<c>atomic-server</c> for <c>all</c>).</summary>
    public string? AppId { get; set; }

    /// <summary>The URL this server is reached at, for the dev chain's ARC endpoint and callbacks; empty: the first of <c>Urls</c>.</summary>
    public string? PublicUrl { get; set; }

    public ChainTrackerOptions ChainTracker { get; set; } = new();

    public DevChainSwitch DevChain { get; set; } = new();

    /// <summary>The submission routes' rate limits per client (section <c>Atomic:RateLimits</c>); off unless <c>PermitLimit</c> is set.</summary>
    public Atomic.Services.Pipeline.RateLimitOptions RateLimits { get; set; } = new();
}

/// <summary>Whether the dev chain is mounted under <c>/arc</c> (section <c>Atomic:DevChain</c>, which also holds the dev chain's own settings).</summary>
public sealed class DevChainSwitch
{
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// The verifier's chain tracker (section <c>Atomic:ChainTracker</c>): <c>devchain</c>, <c>bhs</c> (Block Headers
/// Service), <c>whatsonchain</c> or <c>composite</c> (a list of those and a quorum); always behind a cache of
/// confirmed roots.
/// </summary>
public sealed class ChainTrackerOptions
{
    /// <summary>Empty: <c>devchain</c> when the dev chain is on; otherwise it must be set.</summary>
    public string? Kind { get; set; }

    /// <summary>The Block Headers Service's root URL (<c>bhs</c>), or another WhatsOnChain API root (<c>whatsonchain</c>).</summary>
    public string? Url { get; set; }

    public string? ApiKey { get; set; }

    /// <summary><c>main</c> or <c>test</c> (<c>whatsonchain</c>).</summary>
    public string Network { get; set; } = "main";

    /// <summary>The trackers a <c>composite</c> asks (none of them composite).</summary>
    public List<ChainTrackerOptions> Trackers { get; set; } = [];

    /// <summary>How many of a <c>composite</c>'s trackers must agree; empty: a majority.</summary>
    public int? Quorum { get; set; }

    /// <summary>How long a confirmed root is remembered.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(10);

    public int CacheCapacity { get; set; } = 100_000;

    /// <summary>How long the chain's height is reused; empty: 10 s, or 0 for the dev chain (it is in process).</summary>
    public TimeSpan? CurrentHeightTtl { get; set; }

    /// <summary>Time limit of one request to a remote tracker.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>A setting the server cannot start with; the message says which key and what to do.</summary>
public sealed class ServerConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
