using Atomic.Sidecar.Components.State;
using Atomic.Sidecar.Http;
using Atomic.Sidecar.PubSub;
using Atomic.Sidecar.State;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using ProtoStateItem = Dapr.Client.Autogen.Grpc.v1.StateItem;

namespace Atomic.Sidecar.Grpc;

/// <summary>
/// The gRPC API (<c>dapr.proto.runtime.v1.Dapr</c>) for what <c>Dapr.Client</c> calls for state, publish and metadata,
/// over the message classes of <c>Dapr.Protos</c>. That package ships no server base, so the methods are bound here by
/// hand; a method not bound answers UNIMPLEMENTED. The handlers are virtual because Grpc.AspNetCore's binder takes a
/// handler only where it is a virtual method of the type the binding attribute names.
/// </summary>
[BindServiceMethod(typeof(DaprGrpcService), nameof(BindService))]
public class DaprGrpcService(SidecarOptions options, StateService state, Publisher publisher, SidecarMetadata metadata, Invoke.Invoker invoker, Bindings.OutputBindings bindings)
{
    public const string ServiceName = "dapr.proto.runtime.v1.Dapr";

    /// <summary>Binds each implemented method by its name (the binder finds the handler of that name on this class).</summary>
    public static void BindService(ServiceBinderBase binder, DaprGrpcService? service)
    {
        ArgumentNullException.ThrowIfNull(binder);
        _ = service;
        binder.AddMethod(Unary(nameof(GetState), GetStateRequest.Parser, GetStateResponse.Parser), (UnaryServerMethod<GetStateRequest, GetStateResponse>?)null);
        binder.AddMethod(Unary(nameof(GetBulkState), GetBulkStateRequest.Parser, GetBulkStateResponse.Parser), (UnaryServerMethod<GetBulkStateRequest, GetBulkStateResponse>?)null);
        binder.AddMethod(Unary(nameof(SaveState), SaveStateRequest.Parser, Empty.Parser), (UnaryServerMethod<SaveStateRequest, Empty>?)null);
        binder.AddMethod(Unary(nameof(DeleteState), DeleteStateRequest.Parser, Empty.Parser), (UnaryServerMethod<DeleteStateRequest, Empty>?)null);
        binder.AddMethod(Unary(nameof(DeleteBulkState), DeleteBulkStateRequest.Parser, Empty.Parser), (UnaryServerMethod<DeleteBulkStateRequest, Empty>?)null);
        binder.AddMethod(Unary(nameof(ExecuteStateTransaction), ExecuteStateTransactionRequest.Parser, Empty.Parser), (UnaryServerMethod<ExecuteStateTransactionRequest, Empty>?)null);
        binder.AddMethod(Unary(nameof(PublishEvent), PublishEventRequest.Parser, Empty.Parser), (UnaryServerMethod<PublishEventRequest, Empty>?)null);
        binder.AddMethod(Unary(nameof(BulkPublishEvent), BulkPublishRequest.Parser, BulkPublishResponse.Parser), (UnaryServerMethod<BulkPublishRequest, BulkPublishResponse>?)null);
        binder.AddMethod(Unary(nameof(BulkPublishEventAlpha1), BulkPublishRequest.Parser, BulkPublishResponse.Parser), (UnaryServerMethod<BulkPublishRequest, BulkPublishResponse>?)null);
        binder.AddMethod(Unary(nameof(InvokeService), InvokeServiceRequest.Parser, InvokeResponse.Parser), (UnaryServerMethod<InvokeServiceRequest, InvokeResponse>?)null);
        binder.AddMethod(Unary(nameof(InvokeBinding), InvokeBindingRequest.Parser, InvokeBindingResponse.Parser), (UnaryServerMethod<InvokeBindingRequest, InvokeBindingResponse>?)null);
        binder.AddMethod(Unary(nameof(GetMetadata), GetMetadataRequest.Parser, GetMetadataResponse.Parser), (UnaryServerMethod<GetMetadataRequest, GetMetadataResponse>?)null);
        binder.AddMethod(Unary(nameof(SetMetadata), SetMetadataRequest.Parser, Empty.Parser), (UnaryServerMethod<SetMetadataRequest, Empty>?)null);
    }

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string name, MessageParser<TRequest> request, MessageParser<TResponse> response)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        new(MethodType.Unary, ServiceName, name,
            Marshallers.Create(m => m.ToByteArray(), request.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), response.ParseFrom));

    public virtual Task<GetStateResponse> GetState(GetStateRequest request, ServerCallContext context) => Call(context, async () =>
    {
        Components.State.StateItem? item = await state.GetAsync(request.StoreName, request.Key, context.CancellationToken).ConfigureAwait(false);
        var response = new GetStateResponse();
        if (item is not null)
        {
            response.Data = ByteString.CopyFrom(item.Value.Span);
            response.Etag = item.ETag;
        }

        return response;
    });

    public virtual Task<GetBulkStateResponse> GetBulkState(GetBulkStateRequest request, ServerCallContext context) => Call(context, async () =>
    {
        IReadOnlyList<(string Key, Components.State.StateItem? Item)> found = await state.GetBulkAsync(request.StoreName, [.. request.Keys], context.CancellationToken).ConfigureAwait(false);
        var response = new GetBulkStateResponse();
        foreach ((string key, Components.State.StateItem? item) in found)
        {
            var entry = new BulkStateItem { Key = key };
            if (item is not null)
            {
                entry.Data = ByteString.CopyFrom(item.Value.Span);
                entry.Etag = item.ETag;
            }

            response.Items.Add(entry);
        }

        return response;
    });

    public virtual Task<Empty> SaveState(SaveStateRequest request, ServerCallContext context) => Call(context, async () =>
    {
        var writes = new List<StateWrite>(request.States.Count);
        foreach (ProtoStateItem item in request.States)
        {
            writes.Add(Write(item, $"state item {writes.Count}"));
        }

        await state.SaveAsync(request.StoreName, writes, context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    });

    public virtual Task<Empty> DeleteState(DeleteStateRequest request, ServerCallContext context) => Call(context, async () =>
    {
        await state.DeleteAsync(request.StoreName, request.Key, ETag(request.Etag), Concurrency(request.Options), context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    });

    public virtual Task<Empty> DeleteBulkState(DeleteBulkStateRequest request, ServerCallContext context) => Call(context, async () =>
    {
        foreach (ProtoStateItem item in request.States)
        {
            await state.DeleteAsync(request.StoreName, item.Key, ETag(item.Etag), Concurrency(item.Options), context.CancellationToken).ConfigureAwait(false);
        }

        return new Empty();
    });

    public virtual Task<Empty> ExecuteStateTransaction(ExecuteStateTransactionRequest request, ServerCallContext context) => Call(context, async () =>
    {
        var operations = new List<StateOperation>(request.Operations.Count);
        foreach (TransactionalStateOperation operation in request.Operations)
        {
            string what = $"operation {operations.Count}";
            ProtoStateItem item = operation.Request ?? throw DaprError.Malformed($"{what}: no request");
            Dictionary<string, string> shared = new(request.Metadata);
            operations.Add(operation.OperationType switch
            {
                "upsert" => new StateOperation.Upsert(Write(item, what, shared)),
                "delete" => new StateOperation.Delete(item.Key, ETag(item.Etag), Concurrency(item.Options)),
                _ => throw DaprError.Malformed($"{what}: operation type {operation.OperationType} not supported"),
            });
        }

        await state.TransactAsync(request.StoreName, operations, context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    });

    /// <summary>An output binding: its answer, or INTERNAL with daprd's message (the HTTP API's ERR_INVOKE_OUTPUT_BINDING).</summary>
    public virtual Task<InvokeBindingResponse> InvokeBinding(InvokeBindingRequest request, ServerCallContext context) => Call(context, async () =>
    {
        var metadata = new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal);
        Http.TraceContext.AddTo(metadata);
        Bindings.BindingResponse answer;
        try
        {
            answer = await bindings.InvokeAsync(request.Name, request.Operation, request.Data.Memory, metadata, context.CancellationToken).ConfigureAwait(false);
        }
        catch (Bindings.BindingException e)
        {
            throw new DaprError(500, StatusCode.Internal, Bindings.OutputBindings.ErrorCode, e.Message);
        }

        var response = new InvokeBindingResponse { Data = ByteString.CopyFrom(answer.Data) };
        foreach ((string key, string value) in answer.Metadata)
        {
            response.Metadata[key] = value;
        }

        return response;
    });

    public virtual Task<Empty> PublishEvent(PublishEventRequest request, ServerCallContext context) => Call(context, async () =>
    {
        await publisher.PublishAsync(request.PubsubName, request.Topic, request.Data.Memory, request.DataContentType, request.Metadata, context.CancellationToken).ConfigureAwait(false);
        return new Empty();
    });

    public virtual Task<BulkPublishResponse> BulkPublishEvent(BulkPublishRequest request, ServerCallContext context) => Call(context, () => BulkPublishAsync(request, context));

    public virtual Task<BulkPublishResponse> BulkPublishEventAlpha1(BulkPublishRequest request, ServerCallContext context) => Call(context, () => BulkPublishAsync(request, context));

    private async Task<BulkPublishResponse> BulkPublishAsync(BulkPublishRequest request, ServerCallContext context)
    {
        var entries = new List<(ReadOnlyMemory<byte>, string?, IReadOnlyDictionary<string, string>)>(request.Entries.Count);
        foreach (BulkPublishRequestEntry entry in request.Entries)
        {
            var entryMetadata = new Dictionary<string, string>(entry.Metadata);
            foreach ((string name, string value) in request.Metadata)
            {
                entryMetadata.TryAdd(name, value);
            }

            entries.Add((entry.Event.Memory, entry.ContentType, entryMetadata));
        }

        var response = new BulkPublishResponse();
        try
        {
            await publisher.PublishBulkAsync(request.PubsubName, request.Topic, entries, context.CancellationToken).ConfigureAwait(false);
        }
        catch (DaprError e) when (e.ErrorCode == ErrorCodes.PubSubPublishMessage)
        {
            foreach (BulkPublishRequestEntry entry in request.Entries)
            {
                response.FailedEntries.Add(new BulkPublishResponseFailedEntry { EntryId = entry.EntryId, Error = e.Message });
            }
        }

        return response;
    }

    /// <summary>
    /// Invokes a method of an HTTP app: the data's bytes are the body, the HTTP extension gives verb and query (POST
    /// when none); a non-2xx answer is an error whose status follows the HTTP status, as daprd maps it.
    /// </summary>
    public virtual Task<InvokeResponse> InvokeService(InvokeServiceRequest request, ServerCallContext context) => Call(context, async () =>
    {
        InvokeRequest message = request.Message ?? throw DaprError.Malformed("InvokeServiceRequest.message is required");
        HttpMethod verb = message.HttpExtension?.Verb switch
        {
            null or HTTPExtension.Types.Verb.None or HTTPExtension.Types.Verb.Post => HttpMethod.Post,
            HTTPExtension.Types.Verb.Get => HttpMethod.Get,
            HTTPExtension.Types.Verb.Put => HttpMethod.Put,
            HTTPExtension.Types.Verb.Delete => HttpMethod.Delete,
            HTTPExtension.Types.Verb.Patch => HttpMethod.Patch,
            HTTPExtension.Types.Verb.Head => HttpMethod.Head,
            HTTPExtension.Types.Verb.Options => HttpMethod.Options,
            HTTPExtension.Types.Verb.Trace => HttpMethod.Trace,
            _ => throw DaprError.Malformed($"verb {message.HttpExtension.Verb} is not supported"),
        };
        (System.Net.HttpStatusCode status, byte[] body, string? contentType) = await invoker.InvokeAsync(
            request.Id, message.Method, verb, message.HttpExtension?.Querystring, message.Data?.Value.Memory ?? ReadOnlyMemory<byte>.Empty, message.ContentType,
            context.CancellationToken).ConfigureAwait(false);
        if ((int)status is < 200 or > 299)
        {
            throw new RpcException(new Status(GrpcStatusFor(status), $"fail to invoke, id: {request.Id}, err: the app answered {(int)status}: {System.Text.Encoding.UTF8.GetString(body)}"));
        }

        return new InvokeResponse { Data = new Any { Value = ByteString.CopyFrom(body) }, ContentType = contentType ?? string.Empty };
    });

    /// <summary>The gRPC status for an app's HTTP status (the mapping of gRPC's HTTP guide, as daprd uses it).</summary>
    private static StatusCode GrpcStatusFor(System.Net.HttpStatusCode status) => (int)status switch
    {
        400 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.NotFound,
        409 => StatusCode.Aborted,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    public virtual Task<GetMetadataResponse> GetMetadata(GetMetadataRequest request, ServerCallContext context) => Call(context, () =>
    {
        _ = request;
        var response = new GetMetadataResponse { Id = options.AppId, RuntimeVersion = SidecarMetadata.RuntimeVersion };
        foreach (Components.ComponentDefinition component in metadata.Components)
        {
            var registered = new RegisteredComponents { Name = component.Name, Type = component.Type, Version = component.Version };
            response.RegisteredComponents.Add(registered);
        }

        foreach (AppChannel.SubscriptionInfo subscription in metadata.Subscriptions)
        {
            var rules = new PubsubSubscriptionRules();
            foreach ((string match, string path) in subscription.Rules)
            {
                rules.Rules.Add(new PubsubSubscriptionRule { Match = match, Path = path });
            }

            rules.Rules.Add(new PubsubSubscriptionRule { Path = subscription.Route });
            var entry = new PubsubSubscription
            {
                PubsubName = subscription.PubSubName,
                Topic = subscription.Topic,
                Rules = rules,
                DeadLetterTopic = subscription.DeadLetterTopic ?? string.Empty,
                Type = subscription.Type == "DECLARATIVE" ? PubsubSubscriptionType.Declarative : PubsubSubscriptionType.Programmatic,
            };
            entry.Metadata.Add(new Dictionary<string, string>(subscription.Metadata));
            response.Subscriptions.Add(entry);
        }

        foreach ((string key, string value) in metadata.Extended)
        {
            response.ExtendedMetadata[key] = value;
        }

        response.AppConnectionProperties = new AppConnectionProperties
        {
            Port = options.AppAddress?.Port ?? 0,
            Protocol = "http",
            ChannelAddress = options.AppAddress?.Host ?? string.Empty,
        };
        if (options.EnableAppHealthCheck && options.AppAddress is not null)
        {
            response.AppConnectionProperties.Health = new AppConnectionHealthProperties
            {
                HealthCheckPath = options.AppHealthCheckPath,
                HealthProbeInterval = SidecarMetadata.GoDuration(options.AppHealthProbeInterval),
                HealthProbeTimeout = SidecarMetadata.GoDuration(options.AppHealthProbeTimeout),
                HealthThreshold = options.AppHealthThreshold,
            };
        }

        var actors = new ActorRuntime
        {
            RuntimeStatus = metadata.Actors.RuntimeStatus switch
            {
                "RUNNING" => ActorRuntime.Types.ActorRuntimeStatus.Running,
                "DISABLED" => ActorRuntime.Types.ActorRuntimeStatus.Disabled,
                _ => ActorRuntime.Types.ActorRuntimeStatus.Initializing,
            },
            HostReady = metadata.Actors.HostReady,
            Placement = "placement: this process",
        };
        foreach (Actors.ActiveActorCount active in metadata.Actors.ActiveActors)
        {
            actors.ActiveActors.Add(new ActiveActorsCount { Type = active.Type, Count = active.Count });
        }

        response.ActorRuntime = actors;

        return Task.FromResult(response);
    });

    public virtual Task<Empty> SetMetadata(SetMetadataRequest request, ServerCallContext context) => Call(context, () =>
    {
        metadata.Extended[request.Key] = request.Value;
        return Task.FromResult(new Empty());
    });

    /// <summary>Checks the API token, runs the operation and answers a <see cref="DaprError"/> with its gRPC status.</summary>
    private async Task<T> Call<T>(ServerCallContext context, Func<Task<T>> operation)
    {
        if (options.ApiToken is not null && context.RequestHeaders.GetValue("dapr-api-token") != options.ApiToken)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "authentication error: api token mismatch"));
        }

        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (DaprError e)
        {
            throw new RpcException(new Status(e.GrpcStatus, $"{e.ErrorCode}: {e.Message}"));
        }
    }

    private static StateWrite Write(ProtoStateItem item, string what, IReadOnlyDictionary<string, string>? shared = null)
    {
        var itemMetadata = new Dictionary<string, string>(item.Metadata);
        if (shared is not null)
        {
            foreach ((string name, string value) in shared)
            {
                itemMetadata.TryAdd(name, value);
            }
        }

        return new StateWrite(item.Key, item.Value.Memory, ETag(item.Etag), Concurrency(item.Options), StateApi.Ttl(itemMetadata, what), itemMetadata);
    }

    private static string? ETag(Etag? etag) => etag is { Value.Length: > 0 } ? etag.Value : null;

    private static StateConcurrency Concurrency(StateOptions? options) =>
        options?.Concurrency == StateOptions.Types.StateConcurrency.ConcurrencyFirstWrite ? StateConcurrency.FirstWrite : StateConcurrency.LastWrite;
}
