using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// Crash tests on real processes: <c>atomic sidecar</c> is killed with SIGKILL while it holds work, started again on
/// the same resources, and everything acknowledged before the kill completes as a single run would.
/// </summary>
public sealed class CrashTests
{
    [Fact]
    public async Task Events_published_before_a_sigkill_and_not_yet_delivered_are_all_delivered_after_the_restart()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        bool accepting = false;
        await using SubscriberApp app = await SubscriberApp.StartAsync((web, sub) =>
            web.MapPost("/orders", (Order order, HttpContext context) =>
            {
                if (!Volatile.Read(ref accepting))
                {
                    return Results.StatusCode(500); // not now: the sidecar keeps the event and retries
                }

                sub.Record(context, order);
                return Results.Ok();
            }).WithTopic("pubsub", "orders"));
        int httpPort = Hosting.SidecarRunner.FreePort();
        int grpcPort = Hosting.SidecarRunner.FreePort();

        using (SidecarProcess first = await SidecarProcess.StartAsync(resources, "shop", app.Address, httpPort, grpcPort))
        {
            using DaprClient dapr = new DaprClientBuilder().UseGrpcEndpoint(first.GrpcAddress.ToString().TrimEnd('/')).Build();
            for (int i = 0; i < 20; i++)
            {
                await dapr.PublishEventAsync("pubsub", "orders", new Order($"o-{i}", i));
            }

            await first.KillAsync();
        }

        Volatile.Write(ref accepting, true);
        using SidecarProcess second = await SidecarProcess.StartAsync(resources, "shop", app.Address, httpPort, grpcPort);
        IReadOnlyList<Received> delivered = await app.WaitForAsync("/orders", 20);

        delivered.Select(r => r.Order!.Id).Distinct().Should().HaveCount(20, "every acknowledged publish is delivered after the crash");
    }
}
