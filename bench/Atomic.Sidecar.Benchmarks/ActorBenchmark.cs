using System.Net;
using Dapr.Actors;
using Dapr.Actors.Client;
using Dapr.Actors.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Benchmarks;

/// <summary>The contract of the benchmark's actor.</summary>
public interface IBenchCounter : IActor
{
    Task<int> AddAsync(int amount);
}

/// <summary>
/// Actor calls per second, each a turn that changes the actor's state: <c>ActorProxy</c> (JSON) → the embedded sidecar →
/// a <c>Dapr.Actors.AspNetCore</c> app, whose state manager saves through the sidecar on <c>state.in-memory</c>; beside the
/// old in-process actor runtime doing the same turns.
/// </summary>
internal static class ActorBenchmark
{
    private const int Ids = 1_000;

    public sealed class BenchCounter(Dapr.Actors.Runtime.ActorHost host) : Dapr.Actors.Runtime.Actor(host), IBenchCounter
    {
        public async Task<int> AddAsync(int amount)
        {
            int value = await StateManager.GetOrAddStateAsync("count", 0) + amount;
            await StateManager.SetStateAsync("count", value);
            return value;
        }
    }

    /// <summary>
    /// How the three parties are wired: over loopback TCP throughout (as with daprd), with the sidecar calling the app in
    /// process (<see cref="SidecarOptions.AppChannel"/>, as <c>Atomic.Server</c> runs), and with the caller's proxy in
    /// process too (<see cref="EmbeddedSidecar.HttpChannel"/>). The actor's own state calls stay on TCP: Dapr.Actors'
    /// runtime takes no handler.
    /// </summary>
    private enum Wiring
    {
        Tcp,
        AppInProcess,
        AllInProcess,
    }

    /// <summary>Measures each wiring, or only <paramref name="only"/> (<c>tcp</c>, <c>app</c> or <c>all</c>).</summary>
    public static async Task RunAsync(int calls, int callers, string? only = null)
    {
        foreach (Wiring wiring in Enum.GetValues<Wiring>())
        {
            if (only is not null && only != wiring switch { Wiring.Tcp => "tcp", Wiring.AppInProcess => "app", _ => "all" })
            {
                continue;
            }

            double rate = await MeasureAsync(wiring, calls, callers);
            string name = wiring switch
            {
                Wiring.Tcp => "TCP",
                Wiring.AppInProcess => "app channel in process",
                _ => "app + proxy in process",
            };
            Rate.Print($"actor calls ({callers}, {name})", rate, "287,352 calls/s at d0bdbd8", 10_000, "calls/s", Rate.LastCost);
        }
    }

    private static async Task<double> MeasureAsync(Wiring wiring, int calls, int callers)
    {
        using var resources = new BenchResources(inMemory: true);
        int sidecarPort = Hosting.SidecarRunner.FreePort();
        string endpoint = $"http://127.0.0.1:{sidecarPort}";
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        Hosting.InProcessChannel appChannel = Hosting.InProcessChannel.AddTo(builder.Services);
        builder.Services.AddActors(options =>
        {
            options.Actors.RegisterActor<BenchCounter>();
            options.HttpEndpoint = endpoint;
            options.UseJsonSerialization = true;
        });
        await using WebApplication app = builder.Build();
        app.MapActorsHandlers();
        await app.StartAsync();
        var appAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");

        SidecarOptions options = resources.Options(app: appAddress, httpPort: sidecarPort) with
        {
            AppChannel = wiring == Wiring.Tcp ? null : appChannel,
        };
        await using EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(options);
        var proxies = new IBenchCounter[Ids];
        var proxyOptions = new ActorProxyOptions { HttpEndpoint = endpoint, UseJsonSerialization = true };
        ActorProxyFactory factory = wiring == Wiring.AllInProcess ? new(proxyOptions, sidecar.HttpChannel) : new(proxyOptions);
        for (int i = 0; i < Ids; i++)
        {
            proxies[i] = factory.CreateActorProxy<IBenchCounter>(new Dapr.Actors.ActorId($"c{i}"), nameof(BenchCounter));
        }

        return await Rate.MeasureAsync(calls, callers, i => proxies[Math.Abs(i) % Ids].AddAsync(1));
    }
}
