using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;
using Atomic.Runtime.Workflow;
using Google.Protobuf.WellKnownTypes;
using P = Atomic.Runtime.Dapr.Workflow.Protos;

namespace Atomic.Runtime.Dapr.Workflow;

/// <summary>
/// <see cref="IWorkflowClient"/> over the sidecar's workflow HTTP API (<c>/v1.0/workflows/dapr/…</c>). What that API
/// cannot say goes, when the client has the sidecar's gRPC port (<paramref name="grpc"/>), through the durabletask
/// management methods daprd serves there: a start time (<c>StartInstance</c>), a termination output or a terminate that
/// is not recursive (<c>TerminateInstance</c>), and a failed instance's failure details with their inner failures
/// (<c>GetInstance</c>). Without it a start time is refused and a terminate carries no output and is always recursive.
/// Waiting is polling <c>GET</c> every <see cref="PollInterval"/>; pause and resume carry no reason; the unknown
/// instance of a raise event and the running or absent instance of a purge are found by reading the instance after
/// the sidecar refused.
/// </summary>
public sealed class DaprWorkflowClient(HttpClient sidecar, TimeSpan? pollInterval = null, GrpcClient? grpc = null) : IWorkflowClient
{
    /// <summary>Dapr's built-in workflow component.</summary>
    public const string Component = "dapr";

    private const string Base = "v1.0/workflows/" + Component + "/";

    private readonly HttpClient _sidecar = sidecar ?? throw new ArgumentNullException(nameof(sidecar));

    public TimeSpan PollInterval { get; } = pollInterval ?? TimeSpan.FromMilliseconds(250);

    public async Task<string> ScheduleNewWorkflowAsync(
        string name, object? input = null, string? instanceId = null, DateTimeOffset? startAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (startAt is DateTimeOffset at)
        {
            return grpc is null
                ? throw new NotSupportedException("the sidecar's workflow HTTP API has no start time, and this client has no gRPC port to the sidecar: schedule the start from a workflow timer instead")
                : await StartAtAsync(grpc, name, input, instanceId, at, cancellationToken).ConfigureAwait(false);
        }

        string url = Base + Escape(name) + "/start" + (instanceId is null ? "" : "?instanceID=" + Escape(instanceId));
        using HttpContent? body = Payload(input);
        using HttpResponseMessage response = await _sidecar.PostAsync(url, body, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.OK))
        {
            DaprSidecarException failure = await DaprSidecar.FailureAsync(response, "start workflow", cancellationToken).ConfigureAwait(false);
            if (instanceId is not null && await GetWorkflowStateAsync(instanceId, false, cancellationToken).ConfigureAwait(false) is { IsWorkflowCompleted: false })
            {
                throw new InvalidOperationException($"workflow instance '{instanceId}' already exists and has not finished", failure);
            }

            throw failure;
        }

        StartAnswer? answer = await response.Content.ReadFromJsonAsync<StartAnswer>(DaprSidecar.Json, cancellationToken).ConfigureAwait(false);
        return answer?.InstanceId is { Length: > 0 } id ? id : instanceId ?? throw new InvalidOperationException("the sidecar answered a start without an instanceID");
    }

    public async Task<WorkflowState?> GetWorkflowStateAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        using HttpResponseMessage response = await _sidecar.GetAsync(Base + Escape(instanceId), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await DaprSidecar.EnsureAsync(response, "get workflow", cancellationToken, HttpStatusCode.OK).ConfigureAwait(false);
        GetAnswer answer = await response.Content.ReadFromJsonAsync<GetAnswer>(DaprSidecar.Json, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("the sidecar answered a workflow read with null");
        if (string.IsNullOrEmpty(answer.RuntimeStatus))
        {
            return null; // daprd answers an unknown instance with its id and nothing else
        }

        WorkflowState state = ToState(instanceId, answer, includeInputsAndOutputs);
        if (state.RuntimeStatus == WorkflowRuntimeStatus.Failed && grpc is not null)
        {
            // The HTTP answer flattens the failure to its type, message and trace: read the whole of it.
            P.GetInstanceResponse full = await grpc.UnaryAsync(
                DaprWorkflowWorker.Path("GetInstance"), new P.GetInstanceRequest { InstanceId = instanceId }, P.GetInstanceResponse.Parser, cancellationToken).ConfigureAwait(false);
            if (full.Exists && WorkflowProto.Failure(full.OrchestrationState?.FailureDetails) is TaskFailureDetails details)
            {
                state = state with { FailureDetails = details };
            }
        }

        return state;
    }

    public Task<WorkflowState> WaitForWorkflowStartAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default) =>
        PollAsync(instanceId, includeInputsAndOutputs, static s => s.RuntimeStatus != WorkflowRuntimeStatus.Pending, cancellationToken);

    public Task<WorkflowState> WaitForWorkflowCompletionAsync(string instanceId, bool includeInputsAndOutputs = true, CancellationToken cancellationToken = default) =>
        PollAsync(instanceId, includeInputsAndOutputs, static s => s.IsWorkflowCompleted, cancellationToken);

    public async Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        using HttpContent? body = Payload(eventPayload);
        using HttpResponseMessage response = await _sidecar.PostAsync(
            Base + Escape(instanceId) + "/raiseEvent/" + Escape(eventName), body, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.OK))
        {
            DaprSidecarException failure = await DaprSidecar.FailureAsync(response, "raise workflow event", cancellationToken).ConfigureAwait(false);
            if (await GetWorkflowStateAsync(instanceId, false, cancellationToken).ConfigureAwait(false) is null)
            {
                throw new InvalidOperationException($"there is no workflow instance '{instanceId}'", failure);
            }

            throw failure;
        }
    }

    /// <summary>
    /// Terminates the instance, and its children when <paramref name="recursive"/>, recording <paramref name="output"/>
    /// (over gRPC). Without the gRPC port: over HTTP, which is always recursive and carries no output.
    /// </summary>
    public async Task TerminateWorkflowAsync(string instanceId, object? output = null, bool recursive = true, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        if (grpc is null || (output is null && recursive))
        {
            await PostAsync(instanceId, "terminate", cancellationToken).ConfigureAwait(false);
            return;
        }

        await grpc.UnaryAsync(
            DaprWorkflowWorker.Path("TerminateInstance"),
            new P.TerminateRequest { InstanceId = instanceId, Output = WorkflowJson.Serialize(output), Recursive = recursive },
            P.TerminateResponse.Parser,
            cancellationToken).ConfigureAwait(false);
    }

    public Task SuspendWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        PostAsync(instanceId, "pause", cancellationToken);

    public Task ResumeWorkflowAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        PostAsync(instanceId, "resume", cancellationToken);

    public async Task<bool> PurgeWorkflowAsync(string instanceId, bool recursive = true, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        using HttpResponseMessage response = await _sidecar.PostAsync(Base + Escape(instanceId) + "/purge", null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
        {
            return true;
        }

        DaprSidecarException failure = await DaprSidecar.FailureAsync(response, "purge workflow", cancellationToken).ConfigureAwait(false);
        return await GetWorkflowStateAsync(instanceId, false, cancellationToken).ConfigureAwait(false) is null or { IsWorkflowCompleted: false }
            ? false
            : throw failure;
    }

    private async Task<string> StartAtAsync(GrpcClient client, string name, object? input, string? instanceId, DateTimeOffset startAt, CancellationToken cancellationToken)
    {
        var request = new P.CreateInstanceRequest
        {
            InstanceId = instanceId ?? Guid.NewGuid().ToString(),
            Name = name,
            Input = WorkflowJson.Serialize(input),
            ScheduledStartTimestamp = Timestamp.FromDateTimeOffset(startAt),
        };
        try
        {
            P.CreateInstanceResponse response = await client.UnaryAsync(
                DaprWorkflowWorker.Path("StartInstance"), request, P.CreateInstanceResponse.Parser, cancellationToken).ConfigureAwait(false);
            return response.InstanceId is { Length: > 0 } id ? id : request.InstanceId;
        }
        catch (GrpcCallException e) when (instanceId is not null)
        {
            if (await GetWorkflowStateAsync(instanceId, false, cancellationToken).ConfigureAwait(false) is { IsWorkflowCompleted: false })
            {
                throw new InvalidOperationException($"workflow instance '{instanceId}' already exists and has not finished", e);
            }

            throw;
        }
    }

    private async Task PostAsync(string instanceId, string verb, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        using HttpResponseMessage response = await _sidecar.PostAsync(Base + Escape(instanceId) + "/" + verb, null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.OK))
        {
            throw await DaprSidecar.FailureAsync(response, verb + " workflow", cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<WorkflowState> PollAsync(string instanceId, bool includeInputsAndOutputs, Func<WorkflowState, bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await GetWorkflowStateAsync(instanceId, includeInputsAndOutputs, cancellationToken).ConfigureAwait(false) is WorkflowState state && done(state))
            {
                return state;
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The body of a start or raise: the payload's JSON, or nothing for null (daprd passes the bytes on as the raw string input).</summary>
    private static ByteArrayContent? Payload(object? value)
    {
        if (WorkflowJson.Serialize(value) is not string json)
        {
            return null;
        }

        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>The read answer as a <see cref="WorkflowState"/>: status names as daprd writes them, payloads from the <c>dapr.workflow.*</c> properties.</summary>
    public static WorkflowState ToState(string instanceId, GetAnswer answer, bool includeInputsAndOutputs)
    {
        ArgumentNullException.ThrowIfNull(answer);
        IReadOnlyDictionary<string, string> p = answer.Properties ?? new Dictionary<string, string>();
        WorkflowRuntimeStatus status = answer.RuntimeStatus switch
        {
            "RUNNING" => WorkflowRuntimeStatus.Running,
            "COMPLETED" => WorkflowRuntimeStatus.Completed,
            "CONTINUED_AS_NEW" => WorkflowRuntimeStatus.ContinuedAsNew,
            "FAILED" => WorkflowRuntimeStatus.Failed,
            "CANCELED" => WorkflowRuntimeStatus.Canceled,
            "TERMINATED" => WorkflowRuntimeStatus.Terminated,
            "PENDING" => WorkflowRuntimeStatus.Pending,
            "SUSPENDED" => WorkflowRuntimeStatus.Suspended,
            _ => throw new InvalidOperationException($"the sidecar answered runtimeStatus '{answer.RuntimeStatus}', which is not a workflow status"),
        };
        TaskFailureDetails? failure = p.TryGetValue("dapr.workflow.failure.error_type", out string? type)
            ? new TaskFailureDetails(type, p.GetValueOrDefault("dapr.workflow.failure.error_message") ?? "", p.GetValueOrDefault("dapr.workflow.failure.stack_trace"))
            : null;
        return new WorkflowState(
            answer.InstanceId ?? instanceId,
            answer.WorkflowName ?? "",
            status,
            answer.CreatedAt,
            answer.LastUpdatedAt,
            includeInputsAndOutputs ? NonEmpty(p.GetValueOrDefault("dapr.workflow.input")) : null,
            includeInputsAndOutputs ? NonEmpty(p.GetValueOrDefault("dapr.workflow.output")) : null,
            includeInputsAndOutputs ? NonEmpty(p.GetValueOrDefault("dapr.workflow.custom_status")) : null,
            failure);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private sealed record StartAnswer([property: JsonPropertyName("instanceID")] string? InstanceId);

    /// <summary>daprd's answer to <c>GET /v1.0/workflows/dapr/{instanceID}</c>.</summary>
    public sealed record GetAnswer(
        [property: JsonPropertyName("instanceID")] string? InstanceId,
        [property: JsonPropertyName("workflowName")] string? WorkflowName,
        [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
        [property: JsonPropertyName("lastUpdatedAt")] DateTimeOffset LastUpdatedAt,
        [property: JsonPropertyName("runtimeStatus")] string? RuntimeStatus,
        [property: JsonPropertyName("properties")] Dictionary<string, string>? Properties);
}
