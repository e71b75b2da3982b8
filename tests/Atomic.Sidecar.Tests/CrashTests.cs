using Dapr.Client;
using Dapr.Workflow;
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

    [Fact]
    public async Task A_reminder_registered_before_a_sigkill_fires_once_after_the_restart()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        int httpPort = Hosting.SidecarRunner.FreePort();
        int grpcPort = Hosting.SidecarRunner.FreePort();
        await using ActorApp app = await ActorApp.StartAsync(httpPort, new ActorAppSettings());

        using (SidecarProcess first = await SidecarProcess.StartAsync(resources, "actors-app", app.Address, httpPort, grpcPort))
        {
            await ActorTests.Proxy($"http://127.0.0.1:{httpPort}", "k").ScheduleReminderAsync(new ReminderSpec("due", 2000, 0));
            await first.KillAsync();
        }

        app.Log.Events.Should().NotContain(e => e.StartsWith("reminder:", StringComparison.Ordinal), "the sidecar died before the reminder was due");
        await Task.Delay(2500); // it falls due while no sidecar runs
        using SidecarProcess second = await SidecarProcess.StartAsync(resources, "actors-app", app.Address, httpPort, grpcPort);
        await ActorTests.WaitForEventAsync(app.Log, "reminder:k:due:due");
        await Task.Delay(1000);
        app.Log.Count("reminder:k:due:due").Should().Be(1, "an overdue one-shot reminder fires once after the restart");
    }

    [Fact]
    public async Task A_workflow_running_when_the_sidecar_is_sigkilled_completes_after_the_restart_with_each_effect_once()
    {
        await using var resources = new TestResources(Backend.Sqlite);
        int httpPort = Hosting.SidecarRunner.FreePort();
        int grpcPort = Hosting.SidecarRunner.FreePort();
        string id = "crash-" + Guid.NewGuid().ToString("n")[..10];
        SidecarProcess sidecar = await SidecarProcess.StartAsync(resources, "workflows", app: null, httpPort, grpcPort);
        try
        {
            await using WorkflowApp app = await WorkflowApp.StartAsync(sidecar.GrpcAddress);
            await app.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), id, "x");
            await WorkflowTests.UntilAsync(app.Client, id, s => s.ReadCustomStatusAs<string>() == "waiting");

            await sidecar.KillAsync(); // mid-workflow: it waits for its event
            sidecar.Dispose();
            sidecar = await SidecarProcess.StartAsync(resources, "workflows", app: null, httpPort, grpcPort);

            await app.Client.RaiseEventAsync(id, "approve", "after-crash");
            WorkflowState state = await WorkflowTests.CompletionAsync(app.Client, id);
            state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
            state.ReadOutputAs<string>().Should().Be("approved:after-crash");
            app.Ledger.Applied($"{id}:before").Should().Be(1);
            app.Ledger.Applied($"{id}:after:after-crash").Should().Be(1);
        }
        finally
        {
            sidecar.Dispose();
        }
    }
}
