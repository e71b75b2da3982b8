namespace Atomic.Sidecar;

/// <summary>daprd's error codes (reference/api/error_codes.md), as the HTTP API answers them in <c>errorCode</c>.</summary>
public static class ErrorCodes
{
    public const string ApiToken = "ERR_API_TOKEN"; // not daprd's: it answers 401 with a plain body; ours names it
    public const string MalformedRequest = "ERR_MALFORMED_REQUEST";
    public const string BodyTooLarge = "ERR_BODY_TOO_LARGE";
    public const string StateStoresNotConfigured = "ERR_STATE_STORES_NOT_CONFIGURED";
    public const string StateStoreNotFound = "ERR_STATE_STORE_NOT_FOUND";
    public const string StateGet = "ERR_STATE_GET";
    public const string StateSave = "ERR_STATE_SAVE";
    public const string StateDelete = "ERR_STATE_DELETE";
    public const string StateBulkGet = "ERR_STATE_BULK_GET";
    public const string StateTransaction = "ERR_STATE_TRANSACTION";
    public const string PubSubNotFound = "ERR_PUBSUB_NOT_FOUND";
    public const string PubSubEmpty = "ERR_PUBSUB_EMPTY";
    public const string TopicEmpty = "ERR_TOPIC_NAME_EMPTY";
    public const string PubSubPublishMessage = "ERR_PUBSUB_PUBLISH_MESSAGE";
    public const string PubSubCloudEventsSer = "ERR_PUBSUB_CLOUD_EVENTS_SER";
    public const string PubSubEventsSer = "ERR_PUBSUB_EVENTS_SER";
    public const string DirectInvoke = "ERR_DIRECT_INVOKE";
    public const string NotFound = "ERR_NOT_FOUND"; // an API path daprd does not serve
}

/// <summary>
/// A refusal in daprd's terms: the HTTP status and <c>errorCode</c> of the HTTP API, and the gRPC status the gRPC API
/// answers for the same case. Thrown by the shared operations, answered by each API in its own form.
/// </summary>
public sealed class DaprError(int httpStatus, global::Grpc.Core.StatusCode grpcStatus, string errorCode, string message) : Exception(message)
{
    public int HttpStatus { get; } = httpStatus;

    public global::Grpc.Core.StatusCode GrpcStatus { get; } = grpcStatus;

    public string ErrorCode { get; } = errorCode;

    public static DaprError Malformed(string message) => new(400, global::Grpc.Core.StatusCode.InvalidArgument, ErrorCodes.MalformedRequest, message);

    public static DaprError StoreNotFound(string store) =>
        new(400, global::Grpc.Core.StatusCode.InvalidArgument, ErrorCodes.StateStoreNotFound, $"state store {store} is not found");

    public static DaprError PubSubNotFound(string pubsub) =>
        new(404, global::Grpc.Core.StatusCode.InvalidArgument, ErrorCodes.PubSubNotFound, $"pubsub {pubsub} is not found");
}
