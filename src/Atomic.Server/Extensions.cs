using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.DevChain;
using Atomic.DevChain.Chain;
using Atomic.Runtime;
using Atomic.Runtime.Actors;
using Atomic.Runtime.Dapr;
using Atomic.Runtime.Dapr.Actors;
using Atomic.Runtime.Embedded.Components;
using Atomic.Server.Apis;
using Atomic.Server.Hosting;
using Atomic.Services;
using Atomic.Services.Broadcaster;
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
        if (settings.IsDapr)
        {
            DaprRuntimeHost.AddDaprRuntime(services, settings, health);
        }
        else
        {
            await AddEmbeddedRuntimeAsync(services, settings, health, cancellationToken).ConfigureAwait(false);
        }

        IHttpClientBuilder trackerHttp = services.AddHttpClient(ChainTrackers.HttpClientName);
        IHttpClientBuilder arcHttp = services.AddHttpClient(nameof(ArcClient));
        if (settings.IsDapr)
        {
            // dapr://{app-id} URLs became the sidecar's invoke URLs (ServerSettings); the sidecar wants its token on them.
            trackerHttp.AddHttpMessageHandler(() => new DaprApiTokenHandler(settings.Dapr!));
            arcHttp.AddHttpMessageHandler(() => new DaprApiTokenHandler(settings.Dapr!));
        }

        services.AddSingleton<IChainTracker>(sp => string.IsNullOrEmpty(settings.ChainTracker.Kind)
            ? throw new ServerConfigurationException($"Atomic:App '{settings.Role.Name}' has no chain tracker (Atomic:ChainTracker:Kind)")
            : ChainTrackers.Create(settings.ChainTracker, sp));
        services.AddAtomicPipeline(builder.Configuration);

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

        services.AddSingleton<StartupBanner>();
        return builder;
    }

    /// <summary>
    /// Maps the app's routes (all of the pipeline's in <c>all</c>, else its role's), the sidecar's callbacks on Dapr,
    /// the dev chain under <c>/arc</c> when on, <c>/healthz</c> and <c>/readyz</c>, and the start-up banner.
    /// </summary>
    public static WebApplication MapAtomicServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        ServerSettings settings = app.Services.GetRequiredService<ServerSettings>();
        if (settings.Role.IsAll)
        {
            app.MapAtomicPipeline();
        }
        else if (settings.Role.Gateway)
        {
            app.MapAtomicGateway();
        }
        else if (settings.Role.Broadcaster)
        {
            app.MapAtomicBroadcaster();
        }

        if (settings.IsDapr)
        {
            app.MapDaprPubSub();
            app.MapDaprActors(mapHealth: false); // /healthz is the server's own
        }

        if (settings.DevChain)
        {
            app.MapDevChain(ServerSettings.DevChainPrefix);
        }

        app.MapHealthApi();
        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<StartupBanner>().Announce());
        return app;
    }

    /// <summary>The embedded runtime: the components from <c>components/</c>, and the actor runtime over their actor state store.</summary>
    private static async Task AddEmbeddedRuntimeAsync(IServiceCollection services, ServerSettings settings, IHealthChecksBuilder health, CancellationToken cancellationToken)
    {
        IReadOnlyList<ComponentDefinition> definitions = ComponentLoader.LoadDirectory(settings.ComponentsDirectory);
        EmbeddedComponents components = await EmbeddedComponents.BuildAsync(definitions, settings.BaseDirectory, cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            CheckRequiredComponents(components, settings);
        }
        catch
        {
            await components.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        services.AddSingleton(definitions);
        services.AddSingleton(new BuildingBlocks(components.StateStores, components.PubSubs));
        services.AddSingleton(sp => new EmbeddedRuntimeHost(components, settings, sp, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EmbeddedRuntimeHost>>()));
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedRuntimeHost>());
        services.AddSingleton<IActorClient>(sp => sp.GetRequiredService<EmbeddedRuntimeHost>().Client);
        services.AddSingleton(sp => sp.GetRequiredService<IConfiguration>().GetSection(SidecarSettings.Section).Get<SidecarSettings>() ?? new SidecarSettings());
        services.AddSingleton<EmbeddedSidecarHost>();
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedSidecarHost>());
        health.AddCheck<ActorRuntimeCheck>("runtime", tags: [HealthApi.Ready]);
        foreach (string name in components.StateStores.Keys)
        {
            health.Add(new HealthCheckRegistration($"state:{name}", sp => new StateStoreCheck(sp.GetRequiredService<EmbeddedRuntimeHost>().Components.StateStores[name]), null, [HealthApi.Ready]));
        }
    }

    private static void CheckRequiredComponents(EmbeddedComponents components, ServerSettings settings)
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
