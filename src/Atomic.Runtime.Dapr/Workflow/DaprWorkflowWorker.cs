using Atomic.Runtime.Workflow;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using P = Atomic.Runtime.Dapr.Workflow.Protos;

namespace Atomic.Runtime.Dapr.Workflow;

/// <summary>How the workflow worker talks to the sidecar's gRPC port.</summary>
public sealed record DaprWorkflowWorkerOptions
{
    /// <summary>The first wait before reconnecting a broken <c>GetWorkItems</c> stream; it doubles up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Sent in <c>GetWorkItemsRequest</c> and enforced here: work items running at once, per kind.</summary>
    public int MaxConcurrentOrchestrations { get; init; } = 100;

    public int MaxConcurrentActivities { get; init; } = 100;

    /// <summary>Told about every failure the worker recovers from (a broken stream, a refused completion).</summary>
    public Action<Exception>? OnError { get; init; }
}

/// <summary>
/// The durabletask worker over the Dapr sidecar's gRPC port: opens <c>GetWorkItems</c>, runs each
/// <c>OrchestratorRequest</c> through the shared <see cref="OrchestrationExecutor"/> (the embedded engine's replay
/// code) and answers <c>CompleteOrchestratorTask</c>; runs each <c>ActivityRequest</c> through
/// <see cref="ActivityExecutor"/> and answers <c>CompleteActivityTask</c>. A broken stream reconnects with doubling
/// backoff; work items the sidecar handed out on it are the sidecar's to hand out again.
/// </summary>
public sealed class DaprWorkflowWorker : BackgroundService
{
    public const string Service = "TaskHubSidecarService";

    private readonly GrpcClient _grpc;
    private readonly OrchestrationExecutor _orchestrations;
    private readonly ActivityExecutor _activities;
    private readonly DaprWorkflowWorkerOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _orchestrationSlots;
    private readonly SemaphoreSlim _activitySlots;
    private int _connections;

    public DaprWorkflowWorker(GrpcClient grpc, WorkflowRegistry registry, DaprWorkflowWorkerOptions? options = null, ILogger<DaprWorkflowWorker>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(grpc);
        ArgumentNullException.ThrowIfNull(registry);
        _grpc = grpc;
        _orchestrations = new OrchestrationExecutor(registry);
        _activities = new ActivityExecutor(registry);
        _options = options ?? new DaprWorkflowWorkerOptions();
        _logger = logger ?? NullLogger<DaprWorkflowWorker>.Instance;
        _orchestrationSlots = new SemaphoreSlim(_options.MaxConcurrentOrchestrations);
        _activitySlots = new SemaphoreSlim(_options.MaxConcurrentActivities);
    }

    /// <summary>How many times the worker has opened <c>GetWorkItems</c>.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The method path of <paramref name="method"/>: <c>/TaskHubSidecarService/{method}</c> (the upstream proto has no package).</summary>
    public static string Path(string method) => $"/{Service}/{method}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var inFlight = new List<Task>();
        int failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                Interlocked.Increment(ref _connections);
                var request = new P.GetWorkItemsRequest
                {
                    MaxConcurrentOrchestrationWorkItems = _options.MaxConcurrentOrchestrations,
                    MaxConcurrentActivityWorkItems = _options.MaxConcurrentActivities,
                };
                await foreach (P.WorkItem item in _grpc.StreamAsync(Path("GetWorkItems"), request, P.WorkItem.Parser, stoppingToken).ConfigureAwait(false))
                {
                    failures = 0;
                    inFlight.RemoveAll(static t => t.IsCompleted);
                    switch (item.RequestCase)
                    {
                        case P.WorkItem.RequestOneofCase.OrchestratorRequest:
                            await _orchestrationSlots.WaitAsync(stoppingToken).ConfigureAwait(false);
                            inFlight.Add(Task.Run(() => OrchestrateAsync(item.OrchestratorRequest, item.CompletionToken, stoppingToken), CancellationToken.None));
                            break;
                        case P.WorkItem.RequestOneofCase.ActivityRequest:
                            await _activitySlots.WaitAsync(stoppingToken).ConfigureAwait(false);
                            inFlight.Add(Task.Run(() => RunActivityAsync(item.ActivityRequest, item.CompletionToken, stoppingToken), CancellationToken.None));
                            break;
                        default:
                            break; // healthPing, or a kind this worker does not serve (entities)
                    }
                }

                _logger.LogInformation("the sidecar ended the GetWorkItems stream; reconnecting");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is GrpcCallException or HttpRequestException or IOException or InvalidDataException)
            {
                failures++;
                Report(e, "the GetWorkItems stream broke");
            }

            TimeSpan delay = Backoff(failures);
            try
            {
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        // Work items still running are not awaited: their completions are refused once the worker stops (the token is
        // cancelled), and the sidecar hands the work items out again on the next connection.
    }

    /// <summary>The wait before reconnect attempt number <paramref name="failures"/> (0 after a clean end of stream).</summary>
    private TimeSpan Backoff(int failures)
    {
        double ms = _options.ReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(Math.Max(failures - 1, 0), 16));
        return TimeSpan.FromMilliseconds(Math.Min(ms, _options.MaxReconnectDelay.TotalMilliseconds));
    }

    private async Task OrchestrateAsync(P.OrchestratorRequest request, string completionToken, CancellationToken cancellationToken)
    {
        try
        {
            OrchestratorResult result = Orchestrate(request);
            await _grpc.UnaryAsync(Path("CompleteOrchestratorTask"), WorkflowProto.ToProto(request.InstanceId, result, completionToken),
                P.CompleteTaskResponse.Parser, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException)
        {
        }
        catch (Exception e) when (e is GrpcCallException or HttpRequestException or IOException)
        {
            Report(e, $"CompleteOrchestratorTask for '{request.InstanceId}' failed");
        }
        finally
        {
            _orchestrationSlots.Release();
        }
    }

    /// <summary>One episode: the request's history through the replay engine. A request the engine cannot run fails the instance.</summary>
    public OrchestratorResult Orchestrate(P.OrchestratorRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequiresHistoryStreaming)
        {
            return Failed("HistoryStreamingNotSupported", "the sidecar asked the worker to stream the history, a capability this worker does not announce");
        }

        try
        {
            List<HistoryEvent> past = [.. request.PastEvents.Select(WorkflowProto.FromProto).OfType<HistoryEvent>()];
            List<HistoryEvent> fresh = [.. request.NewEvents.Select(WorkflowProto.FromProto).OfType<HistoryEvent>()];
            return _orchestrations.Execute(request.InstanceId, past, fresh);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return Failed(e.GetType().FullName ?? e.GetType().Name, e.Message);
        }

        static OrchestratorResult Failed(string type, string message) => new(
            [new OrchestratorAction.CompleteOrchestration(0, WorkflowRuntimeStatus.Failed, null, new TaskFailureDetails(type, message, IsNonRetriable: true))], null);
    }

    private async Task RunActivityAsync(P.ActivityRequest request, string completionToken, CancellationToken cancellationToken)
    {
        try
        {
            ActivityResponse response = await _activities.ExecuteAsync(WorkflowProto.FromProto(request)).ConfigureAwait(false);
            await _grpc.UnaryAsync(Path("CompleteActivityTask"), WorkflowProto.ToProto(response, completionToken),
                P.CompleteTaskResponse.Parser, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException)
        {
        }
        catch (Exception e) when (e is GrpcCallException or HttpRequestException or IOException)
        {
            Report(e, $"CompleteActivityTask for '{request.OrchestrationInstance?.InstanceId}' task {request.TaskId} failed");
        }
        finally
        {
            _activitySlots.Release();
        }
    }

    private void Report(Exception e, string what)
    {
        _logger.LogWarning(e, "{What}", what);
        _options.OnError?.Invoke(e);
    }

    public override void Dispose()
    {
        base.Dispose();
        _orchestrationSlots.Dispose();
        _activitySlots.Dispose();
    }
}
