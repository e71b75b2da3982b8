using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.DevChain;
using Atomic.DevChain.Chain;
using Atomic.Sidecar.Components;
using Atomic.Server.Apis;
using Atomic.Server.Hosting;
using Atomic.Services;
using Atomic.Services.Broadcaster;
using Atomic.Services.Funding;
using Atomic.Services.Identity;
using Atomic.Services.Payments;
using Atomic.Services.Operations;
using Atomic.Services.Pipeline;
using Atomic.Services.Sessions;
using Atomic.Sidecar;
using Atomic.Sidecar.Hosting;
using Dapr;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Atomic.Server;

/// <summary>
/// The server's composition: the services of the app it is (<c>Atomic:App</c>: all of them, or one), on the runtime it
/// is given (<c>Atomic:Runtime</c>: embedded over <c>components/</c>, or the Dapr sidecar), the dev chain under
/// <c>/arc</c> (all-in-one, when on), health and telemetry.
/// </summary>
public static class Extensions
{
    /// <summary>
    /// The host arguments the server is built with: <paramref name="args"/> after one that reads appsettings*.json once,
    /// at start. Re-reading them on change, the default, is a recursive inotify watch of the whole content root, which
    /// holds data/: every write to the state store's files woke it. A later
    /// <c>--hostBuilder:reloadConfigOnChange=true</c> turns the watch back on.
    /// </summary>
    public static string[] HostArgs(params string[] args) => ["--hostBuilder:reloadConfigOnChange=false", .. args];

    /// <summary>
    /// Checks the configuration, loads the components and registers everything. A setting it cannot use throws
    /// <see cref="ServerConfigurationException"/> (or, for a component file, <see cref="ComponentException"/>) naming the key.
    /// </summary>
    public static async Task<WebApplicationBuilder> AddAtomicServerAsync(this WebApplicationBuilder builder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        ServerSettings settings = ServerSettings.Resolve(builder.Configuration, builder.Environment);
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = settings.Defaults(builder.Configuration) });
        if (settings.Overrides.Count > 0)
        {
            builder.Configuration.AddInMemoryCollection(settings.Overrides);
        }

        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);

        // Start order is registration order (stop order the reverse): telemetry, the runtime, then the pipeline and the dev chain.
        services.AddSingleton<ServerTelemetry>();
        services.AddHostedService(sp => sp.GetRequiredService<ServerTelemetry>());
        IHealthChecksBuilder health = services.AddHealthChecks();
        if (!settings.IsDapr)
        {
            await AddEmbeddedSidecarAsync(builder, settings, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            services.AddSingleton<IReadOnlyList<ComponentDefinition>>([]);
        }

        health.Add(new HealthCheckRegistration("sidecar", sp => new SidecarCheck(sp.GetRequiredService<IHttpClientFactory>().CreateClient(SidecarCheck.HttpClientName), sp), null, [HealthApi.Ready]));
        foreach (string store in new[] { Names.StateStore, Names.TxStore })
        {
            health.Add(new HealthCheckRegistration($"state:{store}", sp => new StateStoreCheck(sp.GetRequiredService<Dapr.Client.DaprClient>(), store), null, [HealthApi.Ready]));
        }

        services.AddHttpClient(SidecarCheck.HttpClientName, client => client.BaseAddress = settings.Dapr.HttpEndpoint)
            .AddHttpMessageHandler(() => new DaprApiTokenHandler(settings.Dapr));

        // dapr://{app-id} URLs became the sidecar's invoke URLs (ServerSettings); the sidecar wants its token on them.
        IHttpClientBuilder chainTracker = services.AddHttpClient(ChainTrackers.HttpClientName).AddHttpMessageHandler(() => new DaprApiTokenHandler(settings.Dapr));
        IHttpClientBuilder arc = services.AddHttpClient(nameof(ArcClient)).AddHttpMessageHandler(() => new DaprApiTokenHandler(settings.Dapr));
        if (!settings.IsDapr && settings.Sidecar.InProcess)
        {
            // The server's calls to its embedded sidecar and to itself (the dev chain as ARC and chain tracker) stay in process.
            chainTracker.ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<EmbeddedSidecarHost>().CreateClientHandler());
            arc.ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<EmbeddedSidecarHost>().CreateClientHandler());
            services.AddSingleton(sp => new DaprTransport(sp.GetRequiredService<EmbeddedSidecarHost>().CreateClientHandler()));
        }

        services.AddSingleton<IChainTracker>(sp => string.IsNullOrEmpty(settings.ChainTracker.Kind)
            ? throw new ServerConfigurationException($"Atomic:App '{settings.Role.Name}' has no chain tracker (Atomic:ChainTracker:Kind)")
            : ChainTrackers.Create(settings.ChainTracker, sp));
        services.AddAtomicPipeline(builder.Configuration);
        services.AddSubmitRateLimits(settings.Options.RateLimits);

        // Kestrel's own limits (MaxRequestBodySize and the rest) from Kestrel:Limits: the host binds only its endpoints.
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel => builder.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits));
        if (settings.Role.HostsActors)
        {
            services.AddPipelineActors();
        }

        if (settings.Role.Orchestrator)
        {
            services.AddAtomicSessions(); // atomic-orchestrator's part, and the all-in-one server's
        }

        if (!settings.Role.IsAll)
        {
            // One app of a split deployment: its role decides the stages, whatever Atomic:Pipeline says.
            services.PostConfigure<PipelineOptions>(o =>
            {
                o.Verifier = settings.Role.Verifier;
                o.Overlay = settings.Role.Overlay;
                o.Broadcaster = settings.Role.Broadcaster;
            });
        }

        if (settings.DevChain)
        {
            services.AddDevChain(builder.Configuration.GetSection(ServerOptions.Section));
            services.PostConfigure<DevChainOptions>(o =>
            {
                if (!o.IsInMemory && !Path.IsPathRooted(o.DataPath!))
                {
                    o.DataPath = Path.GetFullPath(o.DataPath!, settings.BaseDirectory);
                }
            });
        }

        if (settings.DevChain)
        {
            health.AddCheck<DevChainCheck>("devchain", tags: [HealthApi.Ready]);
        }

        bool payments = builder.Configuration.GetValue<bool>(PaymentOptions.EnabledKey);
        if (builder.Configuration.GetValue<bool>(CertifierOptions.EnabledKey))
        {
            services.AddCertifier(); // BRC-52 certifier under /v1/certifier (with BRC-103 auth)
        }
        else if (BsvAuthExtensions.AnyRequired(builder.Configuration) || payments)
        {
            services.AddBsvAuth();
        }

        if (payments && settings.Role.Gateway)
        {
            // BRC-105 where the priced routes are: Atomic:Payments (docs/architecture.md, README "Payments (BRC-105)"),
            // with the recovery of payments whose requests gave up.
            services.AddBsvPayments();
        }

        if (!string.IsNullOrWhiteSpace(builder.Configuration[FundingOptions.KeyKey]))
        {
            services.AddFunding(); // the server's coins: revocation outputs and audit anchors are paid from them
            if (settings.Role.Gateway)
            {
                services.AddHostedService<AuditAnchorService>(); // the audit head on chain every Atomic:Audit:AnchorInterval
            }
        }

        services.AddSingleton<StartupBanner>();
        return builder;
    }

    /// <summary>
    /// Maps the app's routes (all of the pipeline's in <c>all</c>, else its role's), the sidecar's callbacks on Dapr,
    /// the dev chain under <c>/arc</c> when on, <c>/healthz</c> and <c>/readyz</c>, <c>/metrics</c>, and the start-up banner.
    /// </summary>
    public static WebApplication MapAtomicServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        ServerSettings settings = app.Services.GetRequiredService<ServerSettings>();

        // A body refused while it is read (Kestrel's MaxRequestBodySize, for one) answers problem+json, never the
        // developer exception page; then BRC-103/104, so that the submission routes' rate limits (RateLimits.Policy),
        // next and before any body is read, count a signed request against its identity key rather than its address.
        app.UseRequestProblems();
        if (app.Services.GetService<BsvAuthVerifier>() is not null)
        {
            app.UseBsvAuth(); // BRC-103/104: the handshake, and signed answers to signed requests (Atomic:Auth:RequireForBaskets)
        }

        app.UseRateLimiter();

        bool identity = app.Services.GetService<BsvAuthVerifier>() is not null;
        if (settings.Role.Gateway && app.Configuration.GetValue<bool>(PaymentOptions.EnabledKey))
        {
            app.UseBsvPayments();
            app.MapPaymentsApi();
        }

        // Dapr's programming model: events arrive as CloudEvents (their id and trace context forwarded as headers), the
        // sidecar reads the subscriptions from /dapr/subscribe and calls the actors under /actors.
        app.UseCloudEvents(new CloudEventsMiddlewareOptions { ForwardCloudEventPropertiesAsHeaders = true });
        app.MapSubscribeHandler();
        app.MapAtomicPipeline(gateway: settings.Role.Gateway);
        if (settings.Role.Gateway && app.Services.GetService<FundingCoins>() is not null)
        {
            app.MapFundingApi(); // GET and POST /v1/funding: the server's coins, and deposits to them
        }

        if (settings.Role.Orchestrator)
        {
            app.MapSessionsApi();
        }
        if (settings.Role.HostsActors)
        {
            app.MapActorsHandlers();
        }

        if (settings.DevChain)
        {
            app.MapDevChain(ServerSettings.DevChainPrefix);
        }

        if (app.Configuration.GetValue<bool>(CertifierOptions.EnabledKey))
        {
            app.MapCertifierApi();
        }

        if (identity)
        {
            RevocationMonitor.MapRevocationEvents(app); // certificate.revoked from other apps: refuse it here too
        }

        app.MapHealthApi();
        app.MapOperationsApi(); // GET /v1/status and /dashboard, in every role: each app reports its own stages
        app.MapErpHooks(); // with Atomic:Erp:Binding set: the chosen events, signed, through that output binding
        // Mapped in every role; 404 when Atomic:Metrics:Prometheus is false (read, and checked, with the rest of telemetry at start).
        app.MapGet(ServerTelemetry.MetricsPath, context => context.RequestServices.GetRequiredService<ServerTelemetry>().ScrapeAsync(context))
            .ExcludeFromDescription();

        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<StartupBanner>().Announce());
        return app;
    }

    /// <summary>
    /// The embedded sidecar: the components from <c>components/</c> (checked now, so a missing one stops start-up), the
    /// records of an older version moved to today's keys, and the SDK clients pointed at the sidecar's ports.
    /// </summary>
    private static async Task AddEmbeddedSidecarAsync(WebApplicationBuilder builder, ServerSettings settings, CancellationToken cancellationToken)
    {
        var options = new SidecarOptions { AppId = settings.AppId, ResourcesPath = settings.ComponentsDirectory, BaseDirectory = settings.BaseDirectory };
        SidecarComponents components = await SidecarComponents.LoadAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
            CheckRequiredComponents(components, settings);
            if (await StoreMigration.RunAsync(components, settings.AppId, cancellationToken).ConfigureAwait(false))
            {
                // The pub/sub read its consumers when it opened: open it again over the moved registrations.
                await components.DisposeAsync().ConfigureAwait(false);
                components = await SidecarComponents.LoadAsync(options, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await components.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        builder.Configuration.AddInMemoryCollection(EmbeddedSidecarHost.ClientSettings(settings.Dapr));
        builder.Services.AddSingleton(components.Definitions);
        InProcessChannel? app = settings.Sidecar.InProcess ? InProcessChannel.AddTo(builder.Services) : null;
        builder.Services.AddSingleton(sp => new EmbeddedSidecarHost(components, settings, app, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EmbeddedSidecarHost>());
    }

    private static void CheckRequiredComponents(SidecarComponents components, ServerSettings settings)
    {
        string declared = $"{settings.ComponentsDirectory} declares state stores [{string.Join(", ", components.StateStores.Keys)}] and pub/subs [{string.Join(", ", components.PubSubs.Keys)}]";
        if (components.ActorStateStore is null)
        {
            throw new ServerConfigurationException($"no state store is the actor state store (metadata actorStateStore: \"true\"): {declared}");
        }

        foreach (string store in new[] { Names.StateStore, Names.TxStore })
        {
            if (!components.StateStores.ContainsKey(store))
            {
                throw new ServerConfigurationException($"the pipeline needs a state store component named '{store}': {declared}");
            }
        }

        if (!components.PubSubs.ContainsKey(Names.PubSub))
        {
            throw new ServerConfigurationException($"the pipeline needs a pub/sub component named '{Names.PubSub}': {declared}");
        }
    }
}
