using Grpc.Core;

namespace Atomic.Sidecar.Actors;

/// <summary>daprd's actor error codes (pkg/messages/errorcodes) and the refusals the actor API answers with them.</summary>
public static class ActorErrorCodes
{
    public const string InstanceMissing = "ERR_ACTOR_INSTANCE_MISSING";
    public const string InvokeMethod = "ERR_ACTOR_INVOKE_METHOD";
    public const string RuntimeNotFound = "ERR_ACTOR_RUNTIME_NOT_FOUND";
    public const string StateGet = "ERR_ACTOR_STATE_GET";
    public const string StateTransactionSave = "ERR_ACTOR_STATE_TRANSACTION_SAVE";
    public const string ReminderCreate = "ERR_ACTOR_REMINDER_CREATE";
    public const string ReminderDelete = "ERR_ACTOR_REMINDER_DELETE";
    public const string ReminderGet = "ERR_ACTOR_REMINDER_GET";
    public const string ReminderNotFound = "ERR_ACTOR_REMINDER_NOT_FOUND";
    public const string ReminderNonHosted = "ERR_ACTOR_REMINDER_NON_HOSTED";
    public const string TimerCreate = "ERR_ACTOR_TIMER_CREATE";
}

/// <summary>The actor API's refusals, with daprd's HTTP status, gRPC status, code and message.</summary>
internal static class ActorErrors
{
    /// <summary>No actor state store: daprd's actor runtime is not running for state and reminders.</summary>
    public static DaprError RuntimeNotFound() => new(
        500, StatusCode.Internal, ActorErrorCodes.RuntimeNotFound,
        "the state store is not configured to use the actor runtime. Have you set the - name: actorStateStore value: \"true\" in your state store component file?");

    /// <summary>A call to a type no app hosts: placement finds no address for it.</summary>
    public static DaprError NoAddress(string actorType, string actorId) =>
        Invoke($"did not find address for actor {actorType}/{actorId}");

    public static DaprError Invoke(string detail) => new(500, StatusCode.Internal, ActorErrorCodes.InvokeMethod, $"error invoke actor method: {detail}");

    /// <summary>State of a type this app does not host.</summary>
    public static DaprError InstanceMissing() => new(400, StatusCode.Internal, ActorErrorCodes.InstanceMissing, "actor instance is missing");

    public static DaprError StateGet(string detail) => new(500, StatusCode.Internal, ActorErrorCodes.StateGet, $"error getting actor state: {detail}");

    public static DaprError StateTransaction(string detail) =>
        new(500, StatusCode.Internal, ActorErrorCodes.StateTransactionSave, $"error saving actor transaction state: {detail}");

    public static DaprError ReminderCreate(string detail) => new(500, StatusCode.Internal, ActorErrorCodes.ReminderCreate, $"error creating actor reminder: {detail}");

    public static DaprError ReminderDelete(string detail) => new(500, StatusCode.Internal, ActorErrorCodes.ReminderDelete, $"error deleting actor reminder: {detail}");

    public static DaprError ReminderNotFound(string name) => new(404, StatusCode.NotFound, ActorErrorCodes.ReminderNotFound, $"actor reminder not found: {name}");

    public static DaprError ReminderNonHosted() =>
        new(403, StatusCode.PermissionDenied, ActorErrorCodes.ReminderNonHosted, "operations on actor reminders are only possible on hosted actor types");

    public static DaprError TimerCreate(string detail) => new(500, StatusCode.Internal, ActorErrorCodes.TimerCreate, $"error creating actor timer: {detail}");

    /// <summary>A body daprd cannot decode (not JSON, or a field of the wrong type).</summary>
    public static DaprError Malformed(string detail) => DaprError.Malformed($"failed deserializing HTTP body: {detail}");
}
