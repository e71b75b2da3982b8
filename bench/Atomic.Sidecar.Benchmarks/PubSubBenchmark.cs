using Atomic.Sidecar.Components.PubSub;
using Dapr;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Benchmarks;

/// <summary>
/// Publish → deliver → acknowledge: <c>DaprClient.PublishEventAsync</c> into the embedded sidecar, delivered to a
/// Dapr.AspNetCore subscriber, timed until the last event is handled; beside the durable pub/sub called in process.
/// </summary>
internal static class PubSubBenchmark
{
    public sealed record Tick(int N);

    public static async Task RunAsync(int count, int publishers)
    {
        // Each side publishes a warm-up round of `count` events and waits for them, then the measured round.
        int handled = 0;
        var warm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDaprClient();
        await using WebApplication app = builder.Build();
        app.UseCloudEvents();
        app.MapSubscribeHandler();
        app.MapPost("/ticks", (Tick _) =>
        {
            int n = Interlocked.Increment(ref handled);
            if (n == count)
            {
                warm.TrySetResult();
            }
            else if (n == 2 * count)
            {
                done.TrySetResult();
            }

            return Microsoft.AspNetCore.Http.Results.Ok();
        }).WithTopic("pubsub", "ticks");
        await app.StartAsync();
        var appAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");

        using var resources = new BenchResources();
        double sidecarRate;
        await using (EmbeddedSidecar sidecar = await EmbeddedSidecar.StartAsync(resources.Options(app: appAddress)))
        {
            using DaprClient dapr = new DaprClientBuilder().UseGrpcEndpoint(sidecar.GrpcAddress.ToString().TrimEnd('/')).Build();
            await Rate.RunAsync(count, publishers, i => dapr.PublishEventAsync("pubsub", "ticks", new Tick(i)));
            await warm.Task.WaitAsync(TimeSpan.FromMinutes(5));
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await Rate.RunAsync(count, publishers, i => dapr.PublishEventAsync("pubsub", "ticks", new Tick(i)));
            await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
            sidecarRate = count / watch.Elapsed.TotalSeconds;
        }

        using var direct = new BenchResources();
        await using SidecarComponents components = await SidecarComponents.LoadAsync(direct.Options());
        IPubSub pubsub = components.PubSubs["pubsub"];
        int inProcessHandled = 0;
        var inProcessWarm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inProcessDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using IAsyncDisposable subscription = pubsub.Subscribe(new Subscription("pubsub", "ticks", (_, _) =>
        {
            int n = Interlocked.Increment(ref inProcessHandled);
            if (n == count)
            {
                inProcessWarm.TrySetResult();
            }
            else if (n == 2 * count)
            {
                inProcessDone.TrySetResult();
            }

            return Task.FromResult(DeliveryResult.Success);
        }, Consumer: "bench", MaxConcurrency: 16));
        byte[] data = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Tick(0));
        await Rate.RunAsync(count, publishers, _ => pubsub.PublishAsync(Atomic.Sidecar.Components.PubSub.CloudEvent.Create("pubsub", "ticks", data)));
        await inProcessWarm.Task.WaitAsync(TimeSpan.FromMinutes(5));
        var inProcessWatch = System.Diagnostics.Stopwatch.StartNew();
        await Rate.RunAsync(count, publishers, _ => pubsub.PublishAsync(Atomic.Sidecar.Components.PubSub.CloudEvent.Create("pubsub", "ticks", data)));
        await inProcessDone.Task.WaitAsync(TimeSpan.FromMinutes(5));
        double inProcessRate = count / inProcessWatch.Elapsed.TotalSeconds;
        Rate.Print($"publish->deliver->ack ({publishers} pub.)", sidecarRate, inProcessRate, 5_000, "events/s");
    }
}
