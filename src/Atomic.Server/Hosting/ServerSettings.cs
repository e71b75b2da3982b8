using Atomic.Services.Broadcaster;

namespace Atomic.Server.Hosting;

/// <summary>
/// The server's settings checked and resolved once at start-up: where the components and data are, which URL the
/// server calls itself by, whether the dev chain is on, and which chain tracker to build. Anything it cannot use stops
/// start-up with a <see cref="ServerConfigurationException"/> naming the key.
/// </summary>
internal sealed class ServerSettings
{
    public const string DevChainPrefix = "/arc";

    /// <summary>The token sent to and checked from the dev chain's callbacks when none is configured: random per process.</summary>
    private static readonly string DevCallbackToken = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private static readonly string[] Kinds = ["devchain", "bhs", "whatsonchain", "composite"];

    public const string Embedded = "embedded";

    public const string DaprRuntime = "dapr";

    private ServerSettings(ServerOptions options, ServerRole role, DaprOptions dapr, bool external, SidecarSettings sidecar, string components, string baseDirectory, string publicUrl, IReadOnlyDictionary<string, string?> overrides)
    {
        IsDapr = external;
        Sidecar = sidecar;
        Overrides = overrides;
        Options = options;
        Role = role;
        Dapr = dapr;
        ComponentsDirectory = components;
        BaseDirectory = baseDirectory;
        PublicUrl = publicUrl;
    }

    public ServerOptions Options { get; }

    /// <summary>Which app this process is (<c>Atomic:App</c>).</summary>
    public ServerRole Role { get; }

    /// <summary>
    /// Where the sidecar is and its tokens: daprd's (<c>DAPR_HTTP_PORT</c> and friends) on <c>dapr</c>, or the embedded
    /// sidecar's loopback ports on <c>embedded</c>.
    /// </summary>
    public DaprOptions Dapr { get; }

    /// <summary>Whether a sidecar outside this process (daprd, or <c>atomic sidecar</c>) serves the app.</summary>
    public bool IsDapr { get; }

    /// <summary>The embedded sidecar's settings (used on <c>embedded</c> only).</summary>
    public SidecarSettings Sidecar { get; }

    /// <summary>The app id the actor runtime keys its state with.</summary>
    public string AppId => Options.AppId!;

    public string ComponentsDirectory { get; }

    public string BaseDirectory { get; }

    /// <summary>The server's own URL without a trailing slash.</summary>
    public string PublicUrl { get; }

    /// <summary>The dev chain under <c>/arc</c>: in the all-in-one server only (split, it is its own app, <c>atomic-devchain</c>).</summary>
    public bool DevChain => Options.DevChain.Enabled && Role.IsAll;

    public ChainTrackerOptions ChainTracker => Options.ChainTracker;

    /// <summary>
    /// Settings that replace what configuration says, placed above every other source: each broadcaster endpoint
    /// written <c>dapr://{app-id}/…</c> as the sidecar's service invocation URL for it.
    /// </summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; }

    /// <summary>Reads and checks the <c>Atomic</c> section.</summary>
    public static ServerSettings Resolve(IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        var options = new ServerOptions();
        try
        {
            configuration.GetSection(ServerOptions.Section).Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new ServerConfigurationException($"the {ServerOptions.Section} section cannot be read: {e.Message}", e);
        }

        ServerRole role = ServerRoles.Find(options.App)
            ?? throw new ServerConfigurationException($"Atomic:App '{options.App}' is not an app this server runs: use {string.Join(", ", ServerRoles.Known.Select(r => r.Name))}");
        options.App = role.Name;
        options.AppId = string.IsNullOrWhiteSpace(options.AppId) ? role.AppId : options.AppId;
        string runtime = RuntimeOf(options.Runtime, configuration);
        options.Runtime = runtime;
        SidecarSettings sidecar = configuration.GetSection(SidecarSettings.Section).Get<SidecarSettings>() ?? new SidecarSettings();
        DaprOptions dapr;
        string components = string.Empty;
        string baseDirectory;
        if (runtime == DaprRuntime)
        {
            try
            {
                dapr = DaprOptions.FromEnvironment(name => configuration[name]);
            }
            catch (ArgumentException e)
            {
                throw new ServerConfigurationException($"{e.Message} (Atomic:Runtime is 'dapr')", e);
            }

            baseDirectory = string.IsNullOrWhiteSpace(options.BaseDirectory) ? environment.ContentRootPath : Path.GetFullPath(options.BaseDirectory);
        }
        else
        {
            if (!role.IsAll)
            {
                throw new ServerConfigurationException($"Atomic:App '{role.Name}' is one app of a split deployment and needs a sidecar of its own (daprd, or 'atomic sidecar', which set DAPR_HTTP_PORT): the embedded sidecar serves the all-in-one app, Atomic:App 'all'");
            }

            if (!sidecar.Enabled)
            {
                throw new ServerConfigurationException($"{SidecarSettings.Section}:Enabled is false and no sidecar is given (DAPR_HTTP_PORT, DAPR_GRPC_PORT): the services need one");
            }

            components = FindComponents(options.Components, environment.ContentRootPath);
            baseDirectory = string.IsNullOrWhiteSpace(options.BaseDirectory)
                ? Path.GetDirectoryName(components) ?? components
                : Path.GetFullPath(options.BaseDirectory);
            dapr = EmbeddedSidecarHost.Plan(sidecar, configuration["DAPR_API_TOKEN"]);
        }

        string publicUrl = PublicUrlOf(options.PublicUrl, configuration["Urls"] ?? configuration["ASPNETCORE_URLS"] ?? DefaultUrl(role));
        bool devChain = options.DevChain.Enabled && role.IsAll;

        if (string.IsNullOrWhiteSpace(options.ChainTracker.Kind) && devChain)
        {
            options.ChainTracker.Kind = "devchain";
        }

        if (string.IsNullOrWhiteSpace(options.ChainTracker.Kind))
        {
            if (role.NeedsChainTracker)
            {
                throw new ServerConfigurationException(role.IsAll
                    ? "Atomic:ChainTracker:Kind is required when the dev chain is off (Atomic:DevChain:Enabled=false): bhs, whatsonchain or composite"
                    : $"Atomic:ChainTracker:Kind is required for Atomic:App '{role.Name}' (the dev chain is its own app when split): bhs (e.g. the atomic-devchain app's URL), whatsonchain or composite");
            }
        }
        else
        {
            Check(options.ChainTracker, "Atomic:ChainTracker", devChain, nested: false, dapr);
        }

        if (options.ChainTracker.CacheTtl < TimeSpan.Zero || options.ChainTracker.CacheCapacity < 1 || options.ChainTracker.CurrentHeightTtl < TimeSpan.Zero)
        {
            throw new ServerConfigurationException("Atomic:ChainTracker: CacheTtl and CurrentHeightTtl cannot be negative, and CacheCapacity is at least 1");
        }

        if (string.IsNullOrWhiteSpace(options.AppId) || options.AppId.Contains("||", StringComparison.Ordinal))
        {
            throw new ServerConfigurationException($"Atomic:AppId '{options.AppId}' must be a non-empty name without '||'");
        }

        if (options.RateLimits.Problem() is string rateLimits)
        {
            throw new ServerConfigurationException(rateLimits);
        }

        Dictionary<string, string?> overrides = BroadcastEndpoints(configuration, dapr);
        return new ServerSettings(options, role, dapr, runtime == DaprRuntime, sidecar, components, baseDirectory, publicUrl, overrides);
    }

    /// <summary>The app's own URL when <c>Urls</c> is not set: loopback at the role's default port.</summary>
    public static string DefaultUrl(ServerRole role) => $"http://127.0.0.1:{role.Port}";

    /// <summary>
    /// <c>Atomic:Runtime</c>, or when empty: <c>dapr</c> when <c>DAPR_HTTP_PORT</c>, <c>DAPR_GRPC_PORT</c> or
    /// <c>DAPR_HTTP_ENDPOINT</c> is set (daprd and <c>atomic sidecar</c> set them for their app), else <c>embedded</c>.
    /// </summary>
    private static string RuntimeOf(string? configured, IConfiguration configuration)
    {
        string runtime = (configured ?? string.Empty).Trim().ToLowerInvariant();
        if (runtime.Length == 0)
        {
            return string.IsNullOrWhiteSpace(configuration["DAPR_HTTP_PORT"]) && string.IsNullOrWhiteSpace(configuration["DAPR_GRPC_PORT"])
                && string.IsNullOrWhiteSpace(configuration["DAPR_HTTP_ENDPOINT"]) ? Embedded : DaprRuntime;
        }

        return runtime is Embedded or DaprRuntime
            ? runtime
            : throw new ServerConfigurationException($"Atomic:Runtime '{configured}' is not a runtime this server knows: use 'embedded' or 'dapr' (empty: 'dapr' when DAPR_HTTP_PORT is set)");
    }

    /// <summary>
    /// Defaults that depend on the resolved settings, placed below every other configuration source: the dev chain's
    /// database and the audit journal under the base directory, and, with the dev chain on, the broadcaster pointed at it with callbacks to
    /// this server.
    /// </summary>
    public Dictionary<string, string?> Defaults(IConfiguration configuration)
    {
        var defaults = new Dictionary<string, string?>
        {
            ["Atomic:DevChain:DataPath"] = Path.Combine(BaseDirectory, "data", "devchain.sqlite"),
            ["Atomic:Audit:JournalPath"] = Path.Combine(BaseDirectory, "data", $"audit-{Role.Name}.journal"),
        };
        if (configuration["Urls"] is null && configuration["ASPNETCORE_URLS"] is null)
        {
            defaults["Urls"] = DefaultUrl(Role);
        }

        if (!DevChain)
        {
            return defaults;
        }

        if (!configuration.GetSection("Atomic:Broadcaster:Endpoints").GetChildren().Any())
        {
            defaults["Atomic:Broadcaster:Endpoints:0:Url"] = PublicUrl + DevChainPrefix;
            defaults["Atomic:Broadcaster:Endpoints:0:ApiKey"] = configuration["Atomic:DevChain:ApiKey"];
        }

        defaults["Atomic:Broadcaster:CallbackUrl"] = PublicUrl + ArcCallbackApi.Route;
        defaults["Atomic:Broadcaster:CallbackToken"] = DevCallbackToken;
        return defaults;
    }

    private static string FindComponents(string? configured, string contentRoot)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            string path = Path.GetFullPath(configured);
            return Directory.Exists(path)
                ? path
                : throw new ServerConfigurationException($"the components folder '{path}' (Atomic:Components) does not exist");
        }

        string current = Path.Combine(Directory.GetCurrentDirectory(), "components");
        if (HasComponents(current))
        {
            return current;
        }

        for (string? dir = Path.GetFullPath(contentRoot); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, "components");
            if (HasComponents(candidate))
            {
                return candidate;
            }
        }

        throw new ServerConfigurationException($"no components folder (a components/ folder holding Dapr component .yaml files) in {Directory.GetCurrentDirectory()} or above {contentRoot}: set Atomic:Components");
    }

    private static bool HasComponents(string directory) =>
        Directory.Exists(directory) && Directory.EnumerateFiles(directory).Any(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal));

    private static string PublicUrlOf(string? configured, string? urls)
    {
        string? first = !string.IsNullOrWhiteSpace(configured)
            ? configured
            : urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
                ?? urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        first ??= "http://localhost:5000"; // Kestrel's own default

        // A wildcard host is where the server listens, not a name to call it by.
        string normalized = first.Replace("://*", "://127.0.0.1", StringComparison.Ordinal).Replace("://+", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal).Replace("://[::]", "://[::1]", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ServerConfigurationException($"'{first}' is not an http(s) URL the server can call itself by: set Atomic:PublicUrl");
        }

        return url.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    /// <summary>
    /// Checks <c>Atomic:Broadcaster:Endpoints</c>: each Url absolute http(s), or <c>dapr://{app-id}/…</c> on the Dapr
    /// runtime, which is returned resolved to the sidecar's invoke URL, keyed by its setting.
    /// </summary>
    private static Dictionary<string, string?> BroadcastEndpoints(IConfiguration configuration, DaprOptions dapr)
    {
        var resolved = new Dictionary<string, string?>();
        foreach (IConfigurationSection endpoint in configuration.GetSection("Atomic:Broadcaster:Endpoints").GetChildren())
        {
            string key = $"{endpoint.Path}:Url";
            string? url = endpoint["Url"];
            if (Invocation(url, key, dapr) is string invoke)
            {
                resolved[key] = invoke;
            }
            else if (!IsHttpUrl(url))
            {
                throw new ServerConfigurationException($"{key} must be an ARC endpoint's absolute http(s) URL or dapr://{{app-id}} for service invocation, got '{url}'");
            }
        }

        return resolved;
    }

    /// <summary>
    /// A <c>dapr://{app-id}/…</c> URL resolved to the sidecar's service invocation URL (null for any other URL); for a
    /// malformed app id, a <see cref="ServerConfigurationException"/> naming <paramref name="key"/>.
    /// </summary>
    private static string? Invocation(string? url, string key, DaprOptions dapr)
    {
        if (!DaprInvocation.IsInvocationUrl(url))
        {
            return null;
        }

        try
        {
            return DaprInvocation.Resolve(url!, dapr).AbsoluteUri;
        }
        catch (FormatException e)
        {
            throw new ServerConfigurationException($"{key}: {e.Message}", e);
        }
    }

    private static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out Uri? parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps);

    private static void Check(ChainTrackerOptions tracker, string key, bool devChain, bool nested, DaprOptions dapr)
    {
        string kind = tracker.Kind = (tracker.Kind ?? string.Empty).Trim().ToLowerInvariant();
        if (Array.IndexOf(Kinds, kind) < 0)
        {
            throw new ServerConfigurationException($"{key}:Kind '{tracker.Kind}' is not a chain tracker: use {string.Join(", ", Kinds)}");
        }

        if (kind is "bhs" or "whatsonchain" && Invocation(tracker.Url, $"{key}:Url", dapr) is string invoke)
        {
            tracker.Url = invoke;
        }

        switch (kind)
        {
            case "devchain" when !devChain:
                throw new ServerConfigurationException($"{key}:Kind is 'devchain' but the dev chain is off (Atomic:DevChain:Enabled=false)");
            case "bhs" when !IsHttpUrl(tracker.Url):
                throw new ServerConfigurationException($"{key}:Url must be the Block Headers Service's absolute http(s) URL or dapr://{{app-id}} for service invocation, got '{tracker.Url}'");
            case "whatsonchain" when tracker.Network is not ("main" or "test"):
                throw new ServerConfigurationException($"{key}:Network must be 'main' or 'test', got '{tracker.Network}'");
            case "whatsonchain" when !string.IsNullOrWhiteSpace(tracker.Url) && !IsHttpUrl(tracker.Url):
                throw new ServerConfigurationException($"{key}:Url must be an absolute http(s) URL when set, got '{tracker.Url}'");
            case "composite" when nested:
                throw new ServerConfigurationException($"{key}:Kind 'composite' cannot be nested inside a composite");
            case "composite" when tracker.Trackers.Count == 0:
                throw new ServerConfigurationException($"{key}:Trackers must list the chain trackers a composite asks");
            case "composite" when tracker.Quorum is int quorum && (quorum < 1 || quorum > tracker.Trackers.Count):
                throw new ServerConfigurationException($"{key}:Quorum must be between 1 and {tracker.Trackers.Count}, got {quorum}");
        }

        if (tracker.Timeout <= TimeSpan.Zero)
        {
            throw new ServerConfigurationException($"{key}:Timeout must be positive");
        }

        for (int i = 0; i < tracker.Trackers.Count && kind == "composite"; i++)
        {
            Check(tracker.Trackers[i], $"{key}:Trackers:{i}", devChain, nested: true, dapr);
        }
    }
}
