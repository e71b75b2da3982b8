using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.DevChain;
using Atomic.DevChain.Chain;
using Atomic.Runtime;
using Atomic.Runtime.Actors;
using Atomic.Runtime.Embedded.Components;
using Atomic.Server.Apis;
using Atomic.Server.Hosting;
using Atomic.Services;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Atomic.Server;

/// <summary>
/// The all-in-one server's composition: every service of the pipeline, the embedded runtime over <c>components/</c>,
/// the dev chain under <c>/arc</c> (when on), health and telemetry, in one process.
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

        var blocks = new BuildingBlocks(components.StateStores, components.PubSubs);
        services.AddSingleton(settings);
        services.AddSingleton(definitions);
        services.AddSingleton(blocks);
        services.TryAddSingleton(TimeProvider.System);

        // Start order is registration order (stop order the reverse): telemetry, the runtime, then the pipeline and the dev chain.
        services.AddSingleton<ServerTelemetry>();
        services.AddHostedService(sp => sp.GetRequiredService<ServerTelemetry>());
        services.AddSingleton(sp => new EmbeddedRuntimeHost(components, settings, sp, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EmbeddedRuntimeHost>>()));
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedRuntimeHost>());
        services.AddSingleton<IActorClient>(sp => sp.GetRequiredService<EmbeddedRuntimeHost>().Client);

        services.AddHttpClient(ChainTrackers.HttpClientName);
        services.AddSingleton<IChainTracker>(sp => ChainTrackers.Create(settings.ChainTracker, sp));
        services.AddAtomicPipeline(builder.Configuration);
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

        IHealthChecksBuilder health = services.AddHealthChecks()
            .AddCheck<ActorRuntimeCheck>("runtime", tags: [HealthApi.Ready]);
        foreach (string name in components.StateStores.Keys)
        {
            health.Add(new HealthCheckRegistration($"state:{name}", sp => new StateStoreCheck(sp.GetRequiredService<EmbeddedRuntimeHost>(), name), null, [HealthApi.Ready]));
        }

        if (settings.DevChain)
        {
            health.AddCheck<DevChainCheck>("devchain", tags: [HealthApi.Ready]);
        }

        services.AddSingleton<StartupBanner>();
        return builder;
    }

    /// <summary>Maps the pipeline's routes, the dev chain under <c>/arc</c> when on, <c>/healthz</c> and <c>/readyz</c>, and the start-up banner.</summary>
    public static WebApplication MapAtomicServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        ServerSettings settings = app.Services.GetRequiredService<ServerSettings>();
        app.MapAtomicPipeline();
        if (settings.DevChain)
        {
            app.MapDevChain(ServerSettings.DevChainPrefix);
        }

        app.MapHealthApi();
        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<StartupBanner>().Announce());
        return app;
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
