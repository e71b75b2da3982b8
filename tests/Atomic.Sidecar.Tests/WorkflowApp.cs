using System.Collections.Concurrent;
using Dapr.Workflow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Tests;

/// <summary>
/// A real app written with the official SDK, <c>Dapr.Workflow</c>: a generic host with <c>AddDaprWorkflow</c>
/// registering the workflows and activities below, its worker and <c>DaprWorkflowClient</c> pointed at a sidecar's
/// gRPC address through <c>DAPR_GRPC_ENDPOINT</c>, as daprd's app would be.
/// </summary>
public sealed class WorkflowApp : IAsyncDisposable
{
    private readonly IHost _host;

    private WorkflowApp(IHost host, Ledger ledger)
    {
        _host = host;
        Ledger = ledger;
    }

    /// <summary>What the activities did (shared by every app started with it).</summary>
    public Ledger Ledger { get; }

    /// <summary>The official client, from the app's DI.</summary>
    public DaprWorkflowClient Client => _host.Services.GetRequiredService<DaprWorkflowClient>();

    public static async Task<WorkflowApp> StartAsync(Uri sidecarGrpc, Ledger? ledger = null)
    {
        ledger ??= new Ledger();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DAPR_GRPC_ENDPOINT"] = sidecarGrpc.ToString().TrimEnd('/'),
            ["DAPR_HTTP_ENDPOINT"] = "http://127.0.0.1:1", // unused: workflows speak gRPC only
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(ledger);
        builder.Services.AddDaprWorkflow(o =>
        {
            o.RegisterWorkflow<ChainWorkflow>();
            o.RegisterWorkflow<ApprovalWorkflow>();
            o.RegisterWorkflow<TimerWorkflow>();
            o.RegisterWorkflow<FailingWorkflow>();
            o.RegisterWorkflow<ParentWorkflow>();
            o.RegisterWorkflow<CounterWorkflow>();
            o.RegisterActivity<UpperActivity>();
            o.RegisterActivity<ReverseActivity>();
            o.RegisterActivity<ExclaimActivity>();
            o.RegisterActivity<RecordActivity>();
            o.RegisterActivity<FailActivity>();
        });
        IHost host = builder.Build();
        await host.StartAsync();
        return new WorkflowApp(host, ledger);
    }

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _host.StopAsync(stopping.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }
}

/// <summary>The effects of <see cref="RecordActivity"/>: how many times each was applied, and how many times it ran.</summary>
public sealed class Ledger
{
    private readonly ConcurrentDictionary<string, int> _applied = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _runs = new(StringComparer.Ordinal);

    /// <summary>Applies <paramref name="effect"/> once (idempotent: a redelivered activity does not apply it again).</summary>
    public void Apply(string effect)
    {
        _runs.AddOrUpdate(effect, 1, (_, n) => n + 1);
        _applied.TryAdd(effect, 1);
    }

    public int Applied(string effect) => _applied.TryGetValue(effect, out int n) ? n : 0;

    public int Runs(string effect) => _runs.TryGetValue(effect, out int n) ? n : 0;

    public IReadOnlyCollection<string> Effects => [.. _applied.Keys];
}

/// <summary>Three activities in a row: "dapr" becomes "RPAD!".</summary>
public sealed class ChainWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input)
    {
        string upper = await context.CallActivityAsync<string>(nameof(UpperActivity), input);
        string reversed = await context.CallActivityAsync<string>(nameof(ReverseActivity), upper);
        return await context.CallActivityAsync<string>(nameof(ExclaimActivity), reversed);
    }
}

/// <summary>Records "{id}:before", waits for the event "approve", records "{id}:after:{payload}" and returns "approved:{payload}".</summary>
public sealed class ApprovalWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input)
    {
        await context.CallActivityAsync<string>(nameof(RecordActivity), $"{context.InstanceId}:before");
        context.SetCustomStatus("waiting");
        string payload = await context.WaitForExternalEventAsync<string>("approve");
        context.SetCustomStatus("approved");
        await context.CallActivityAsync<string>(nameof(RecordActivity), $"{context.InstanceId}:after:{payload}");
        return $"approved:{payload}";
    }
}

/// <summary>Sleeps on a durable timer of the given milliseconds, then records "{id}:woke" and returns "fired".</summary>
public sealed class TimerWorkflow : Workflow<int, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, int input)
    {
        context.SetCustomStatus("sleeping");
        await context.CreateTimer(TimeSpan.FromMilliseconds(input));
        await context.CallActivityAsync<string>(nameof(RecordActivity), $"{context.InstanceId}:woke");
        return "fired";
    }
}

/// <summary>Calls an activity that throws; the failure is not caught, so the workflow fails.</summary>
public sealed class FailingWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input) =>
        await context.CallActivityAsync<string>(nameof(FailActivity), input);
}

/// <summary>Runs <see cref="ChainWorkflow"/> as a child (id "{id}-child") and counts to its input with <see cref="CounterWorkflow"/>'s continue-as-new.</summary>
public sealed class ParentWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input)
    {
        string chained = await context.CallChildWorkflowAsync<string>(nameof(ChainWorkflow), input, new ChildWorkflowTaskOptions { InstanceId = context.InstanceId + "-child" });
        int counted = await context.CallChildWorkflowAsync<int>(nameof(CounterWorkflow), 0, new ChildWorkflowTaskOptions { InstanceId = context.InstanceId + "-counter" });
        return $"{chained}/{counted}";
    }
}

/// <summary>Continues as new with input + 1 until it reaches 3, then returns it.</summary>
public sealed class CounterWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        await context.CallActivityAsync<string>(nameof(RecordActivity), $"{context.InstanceId}:count:{input}");
        if (input < 3)
        {
            context.ContinueAsNew(input + 1);
            return input;
        }

        return input;
    }
}

public sealed class UpperActivity : WorkflowActivity<string, string>
{
    public override Task<string> RunAsync(WorkflowActivityContext context, string input) => Task.FromResult(input.ToUpperInvariant());
}

public sealed class ReverseActivity : WorkflowActivity<string, string>
{
    public override Task<string> RunAsync(WorkflowActivityContext context, string input) => Task.FromResult(new string([.. input.Reverse()]));
}

public sealed class ExclaimActivity : WorkflowActivity<string, string>
{
    public override Task<string> RunAsync(WorkflowActivityContext context, string input) => Task.FromResult(input + "!");
}

/// <summary>Applies an effect to the app's <see cref="Ledger"/>.</summary>
public sealed class RecordActivity(Ledger ledger) : WorkflowActivity<string, string>
{
    public override Task<string> RunAsync(WorkflowActivityContext context, string input)
    {
        ledger.Apply(input);
        return Task.FromResult(input);
    }
}

public sealed class FailActivity : WorkflowActivity<string, string>
{
    public override Task<string> RunAsync(WorkflowActivityContext context, string input) =>
        throw new InvalidOperationException($"boom: {input}");
}
