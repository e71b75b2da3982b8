using Dapr.DurableTask.Protobuf;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Atomic.Sidecar.Workflow;

/// <summary>
/// The durable task gRPC service (<c>TaskHubSidecarService</c>, no package, as <c>Dapr.Workflow</c>'s worker and
/// <c>DaprWorkflowClient</c> call it) over the message classes of <c>Dapr.Workflow.Grpc</c>. The package ships only the
/// client, so the methods are bound here by hand; a method not bound (<c>RerunWorkflowFromEvent</c>) answers UNIMPLEMENTED.
/// Handlers are virtual because Grpc.AspNetCore's binder takes only virtual methods of the type the attribute names.
/// </summary>
[BindServiceMethod(typeof(WorkflowGrpcService), nameof(BindService))]
public class WorkflowGrpcService
{
    public const string ServiceName = "TaskHubSidecarService";

    private readonly SidecarOptions _options;
    private readonly WorkflowBackend _backend;

    internal WorkflowGrpcService(SidecarOptions options, WorkflowBackend backend)
    {
        _options = options;
        _backend = backend;
    }

    /// <summary>Binds each implemented method by its name.</summary>
    public static void BindService(ServiceBinderBase binder, WorkflowGrpcService? service)
    {
        ArgumentNullException.ThrowIfNull(binder);
        _ = service;
        binder.AddMethod(Unary(nameof(Hello), Empty.Parser, Empty.Parser), (UnaryServerMethod<Empty, Empty>?)null);
        binder.AddMethod(Unary(nameof(StartInstance), CreateInstanceRequest.Parser, CreateInstanceResponse.Parser), (UnaryServerMethod<CreateInstanceRequest, CreateInstanceResponse>?)null);
        binder.AddMethod(Unary(nameof(GetInstance), GetInstanceRequest.Parser, GetInstanceResponse.Parser), (UnaryServerMethod<GetInstanceRequest, GetInstanceResponse>?)null);
        binder.AddMethod(Unary(nameof(WaitForInstanceStart), GetInstanceRequest.Parser, GetInstanceResponse.Parser), (UnaryServerMethod<GetInstanceRequest, GetInstanceResponse>?)null);
        binder.AddMethod(Unary(nameof(WaitForInstanceCompletion), GetInstanceRequest.Parser, GetInstanceResponse.Parser), (UnaryServerMethod<GetInstanceRequest, GetInstanceResponse>?)null);
        binder.AddMethod(Unary(nameof(RaiseEvent), RaiseEventRequest.Parser, RaiseEventResponse.Parser), (UnaryServerMethod<RaiseEventRequest, RaiseEventResponse>?)null);
        binder.AddMethod(Unary(nameof(TerminateInstance), TerminateRequest.Parser, TerminateResponse.Parser), (UnaryServerMethod<TerminateRequest, TerminateResponse>?)null);
        binder.AddMethod(Unary(nameof(SuspendInstance), SuspendRequest.Parser, SuspendResponse.Parser), (UnaryServerMethod<SuspendRequest, SuspendResponse>?)null);
        binder.AddMethod(Unary(nameof(ResumeInstance), ResumeRequest.Parser, ResumeResponse.Parser), (UnaryServerMethod<ResumeRequest, ResumeResponse>?)null);
        binder.AddMethod(Unary(nameof(PurgeInstances), PurgeInstancesRequest.Parser, PurgeInstancesResponse.Parser), (UnaryServerMethod<PurgeInstancesRequest, PurgeInstancesResponse>?)null);
        binder.AddMethod(
            new Method<GetWorkItemsRequest, WorkItem>(MethodType.ServerStreaming, ServiceName, nameof(GetWorkItems), Marshaller(GetWorkItemsRequest.Parser), Marshaller(WorkItem.Parser)),
            (ServerStreamingServerMethod<GetWorkItemsRequest, WorkItem>?)null);
        binder.AddMethod(Unary(nameof(CompleteActivityTask), ActivityResponse.Parser, CompleteTaskResponse.Parser), (UnaryServerMethod<ActivityResponse, CompleteTaskResponse>?)null);
        binder.AddMethod(Unary(nameof(CompleteOrchestratorTask), WorkflowResponse.Parser, CompleteTaskResponse.Parser), (UnaryServerMethod<WorkflowResponse, CompleteTaskResponse>?)null);
        binder.AddMethod(Unary(nameof(CompleteWorkflowTask), WorkflowResponse.Parser, CompleteTaskResponse.Parser), (UnaryServerMethod<WorkflowResponse, CompleteTaskResponse>?)null);
        binder.AddMethod(Unary(nameof(ListInstanceIDs), ListInstanceIDsRequest.Parser, ListInstanceIDsResponse.Parser), (UnaryServerMethod<ListInstanceIDsRequest, ListInstanceIDsResponse>?)null);
        binder.AddMethod(Unary(nameof(GetInstanceHistory), GetInstanceHistoryRequest.Parser, GetInstanceHistoryResponse.Parser), (UnaryServerMethod<GetInstanceHistoryRequest, GetInstanceHistoryResponse>?)null);
    }

    private static Marshaller<T> Marshaller<T>(MessageParser<T> parser)
        where T : class, IMessage<T> => Marshallers.Create(m => m.ToByteArray(), parser.ParseFrom);

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string name, MessageParser<TRequest> request, MessageParser<TResponse> response)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        new(MethodType.Unary, ServiceName, name, Marshaller(request), Marshaller(response));

    public virtual Task<Empty> Hello(Empty request, ServerCallContext context) => Call(context, () => Task.FromResult(new Empty()));

    public virtual Task<CreateInstanceResponse> StartInstance(CreateInstanceRequest request, ServerCallContext context) => Call(context, async () =>
        new CreateInstanceResponse { InstanceId = await _backend.StartInstanceAsync(request, context.CancellationToken).ConfigureAwait(false) });

    public virtual Task<GetInstanceResponse> GetInstance(GetInstanceRequest request, ServerCallContext context) => Call(context, async () =>
        Answer(await _backend.GetInstanceAsync(request.InstanceId, request.GetInputsAndOutputs, context.CancellationToken).ConfigureAwait(false)));

    public virtual Task<GetInstanceResponse> WaitForInstanceStart(GetInstanceRequest request, ServerCallContext context) => Call(context, async () =>
        Answer(await _backend.WaitAsync(request.InstanceId, request.GetInputsAndOutputs, s => s != OrchestrationStatus.Pending, context.CancellationToken).ConfigureAwait(false)));

    public virtual Task<GetInstanceResponse> WaitForInstanceCompletion(GetInstanceRequest request, ServerCallContext context) => Call(context, async () =>
        Answer(await _backend.WaitAsync(request.InstanceId, request.GetInputsAndOutputs, WorkflowStates.IsTerminal, context.CancellationToken).ConfigureAwait(false)));

    private static GetInstanceResponse Answer(Dapr.DurableTask.Protobuf.WorkflowState? state) =>
        state is null ? new GetInstanceResponse { Exists = false } : new GetInstanceResponse { Exists = true, WorkflowState = state };

    public virtual Task<RaiseEventResponse> RaiseEvent(RaiseEventRequest request, ServerCallContext context) => Call(context, async () =>
    {
        await _backend.RaiseEventAsync(request.InstanceId, request.Name, request.Input, context.CancellationToken).ConfigureAwait(false);
        return new RaiseEventResponse();
    });

    public virtual Task<TerminateResponse> TerminateInstance(TerminateRequest request, ServerCallContext context) => Call(context, async () =>
    {
        await _backend.TerminateAsync(request.InstanceId, request.Output, request.Recursive, context.CancellationToken).ConfigureAwait(false);
        return new TerminateResponse();
    });

    public virtual Task<SuspendResponse> SuspendInstance(SuspendRequest request, ServerCallContext context) => Call(context, async () =>
    {
        await _backend.SuspendAsync(request.InstanceId, request.Reason, context.CancellationToken).ConfigureAwait(false);
        return new SuspendResponse();
    });

    public virtual Task<ResumeResponse> ResumeInstance(ResumeRequest request, ServerCallContext context) => Call(context, async () =>
    {
        await _backend.ResumeAsync(request.InstanceId, request.Reason, context.CancellationToken).ConfigureAwait(false);
        return new ResumeResponse();
    });

    public virtual Task<PurgeInstancesResponse> PurgeInstances(PurgeInstancesRequest request, ServerCallContext context) => Call(context, async () =>
    {
        int deleted = request.RequestCase switch
        {
            PurgeInstancesRequest.RequestOneofCase.InstanceId => await _backend.PurgeAsync(request.InstanceId, request.Recursive, request.HasForce && request.Force, context.CancellationToken).ConfigureAwait(false),
            PurgeInstancesRequest.RequestOneofCase.PurgeInstanceFilter => await _backend.PurgeAsync(request.PurgeInstanceFilter, request.Recursive, context.CancellationToken).ConfigureAwait(false),
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, "an instance id or a purge filter is required")),
        };
        return new PurgeInstancesResponse { DeletedInstanceCount = deleted, IsComplete = true };
    });

    public virtual async Task GetWorkItems(GetWorkItemsRequest request, IServerStreamWriter<WorkItem> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _ = request;
        CheckToken(context);
        await _backend.StreamWorkItemsAsync(responseStream, context.CancellationToken).ConfigureAwait(false);
    }

    public virtual Task<CompleteTaskResponse> CompleteActivityTask(ActivityResponse request, ServerCallContext context) => Call(context, async () =>
    {
        await _backend.CompleteActivityAsync(request, context.CancellationToken).ConfigureAwait(false);
        return new CompleteTaskResponse();
    });

    public virtual Task<CompleteTaskResponse> CompleteOrchestratorTask(WorkflowResponse request, ServerCallContext context) => Call(context, async () =>
    {
        await _backend.CompleteOrchestrationAsync(request, context.CancellationToken).ConfigureAwait(false);
        return new CompleteTaskResponse();
    });

    public virtual Task<CompleteTaskResponse> CompleteWorkflowTask(WorkflowResponse request, ServerCallContext context) => CompleteOrchestratorTask(request, context);

    public virtual Task<ListInstanceIDsResponse> ListInstanceIDs(ListInstanceIDsRequest request, ServerCallContext context) => Call(context, async () =>
    {
        int pageSize = request.HasPageSize && request.PageSize > 0 ? (int)Math.Min(request.PageSize, 10_000) : 100;
        (List<string> ids, string? next) = await _backend.ListInstanceIdsAsync(request.HasContinuationToken ? request.ContinuationToken : null, pageSize, context.CancellationToken).ConfigureAwait(false);
        var response = new ListInstanceIDsResponse();
        response.InstanceIds.Add(ids);
        if (next is not null)
        {
            response.ContinuationToken = next;
        }

        return response;
    });

    public virtual Task<GetInstanceHistoryResponse> GetInstanceHistory(GetInstanceHistoryRequest request, ServerCallContext context) => Call(context, async () =>
    {
        WorkflowRuntimeState state = await _backend.GetStateAsync(request.InstanceId, context.CancellationToken).ConfigureAwait(false)
            ?? throw WorkflowBackend.NoSuchInstance(request.InstanceId);
        var response = new GetInstanceHistoryResponse();
        response.Events.Add(state.OldEvents);
        return response;
    });

    /// <summary>Checks the API token and runs the operation (a <see cref="DaprError"/> answers with its gRPC status).</summary>
    private async Task<T> Call<T>(ServerCallContext context, Func<Task<T>> operation)
    {
        CheckToken(context);
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (DaprError e)
        {
            throw new RpcException(new Status(e.GrpcStatus, e.Message));
        }
    }

    private void CheckToken(ServerCallContext context)
    {
        if (_options.ApiToken is not null && context.RequestHeaders.GetValue("dapr-api-token") != _options.ApiToken)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "missing or invalid dapr-api-token"));
        }
    }
}
