using System.Net;
using System.Text;
using System.Text.Json;
using Atomic.Runtime.Actors;

namespace Atomic.Runtime.Dapr.Actors;

/// <summary>
/// How an actor call's failure crosses the sidecar. The app answers a failed callback with
/// <c>application/problem+json</c> carrying a <c>code</c> and the exception's parts; daprd folds any non-200 answer
/// into <c>500 ERR_ACTOR_INVOKE_METHOD</c> whose message ends with <c>error from actor service: {the app's body}</c>,
/// so the caller's side finds the problem there (or as the body itself) and throws the same exception the embedded
/// runtime throws.
/// </summary>
public static class DaprActorErrors
{
    public const string TypeNotFound = "ACTOR_TYPE_NOT_FOUND";
    public const string MethodNotFound = "ACTOR_METHOD_NOT_FOUND";
    public const string RequestInvalid = "ACTOR_REQUEST_INVALID";
    public const string IdInvalid = "ACTOR_ID_INVALID";
    public const string Reentrancy = "ACTOR_REENTRANCY";
    public const string MethodFailed = "ACTOR_METHOD_FAILED";
    public const string Unavailable = "ACTOR_HOST_UNAVAILABLE";

    /// <summary>What daprd's message says before the app's answer (daprd, <c>pkg/actors</c>).</summary>
    internal const string FromActorService = "error from actor service: ";

    /// <summary>What daprd's placement says when no app hosts the type.</summary>
    internal const string NoAddress = "did not find address for actor";

    private const int MaxErrorBytes = 64 * 1024;

    /// <summary>The problem an app answers for <paramref name="error"/>: status, code and the fields the caller rebuilds the exception from.</summary>
    /// <param name="error">What the callback threw.</param>
    /// <param name="registered">The types the app hosts, told to the caller of an unknown type.</param>
    public static (int Status, string Code, string Title, Dictionary<string, object?> Fields) Describe(Exception error, IEnumerable<string>? registered = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (error is ActorException actor)
        {
            fields["actorType"] = actor.ActorType;
            fields["actorId"] = actor.ActorId;
        }

        switch (error)
        {
            case ActorTypeNotRegisteredException notRegistered:
                fields["actorType"] = notRegistered.ActorType;
                fields["registered"] = registered?.ToArray() ?? [];
                return (404, TypeNotFound, "actor type not registered", fields);
            case ActorMethodNotFoundException notFound:
                fields["method"] = notFound.Method;
                fields["reason"] = After(notFound.Message, $"actor type {notFound.ActorType} has no callable method '{notFound.Method}'");
                return (404, MethodNotFound, "actor method not found", fields);
            case ActorRequestException request:
                fields["method"] = request.Method;
                fields["reason"] = After(request.Message, $"{request.ActorType}/{request.ActorId}.{request.Method}") ?? request.Message;
                return (400, RequestInvalid, "actor request unreadable", fields);
            case ActorReentrancyException reentrancy:
                fields["callChain"] = reentrancy.CallChain;
                fields["reason"] = After(reentrancy.Message, $"call chain {reentrancy.CallChain} -> {reentrancy.ActorType}/{reentrancy.ActorId} re-enters {reentrancy.ActorType}/{reentrancy.ActorId}") ?? reentrancy.Message;
                return (409, Reentrancy, "actor call chain re-enters", fields);
            case ActorInvocationException failed:
                fields["method"] = failed.Method;
                fields["errorType"] = failed.ErrorType;
                fields["errorMessage"] = failed.ErrorMessage;
                return (500, MethodFailed, "actor method failed", fields);
            case ObjectDisposedException:
                return (503, Unavailable, "actor host shutting down", fields);
            default:
                return (400, IdInvalid, "actor call invalid", fields);
        }
    }

    /// <summary>The exception an unsuccessful invocation answer stands for: the app's problem when the body carries one, else a <see cref="DaprSidecarException"/>.</summary>
    internal static async Task<Exception> FromResponseAsync(HttpResponseMessage response, string actorType, string actorId, string method, CancellationToken cancellationToken)
    {
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        ReadOnlySpan<byte> bounded = body.AsSpan(0, Math.Min(body.Length, MaxErrorBytes));
        string operation = $"invoke actor {actorType}/{actorId}.{method}";
        if (TryProblem(bounded, actorType, actorId, method) is Exception direct)
        {
            return direct;
        }

        string? errorCode = null, message = null;
        try
        {
            using JsonDocument document = JsonDocument.Parse(bounded.ToArray());
            errorCode = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("errorCode", out JsonElement c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            message = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("message", out JsonElement m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        }
        catch (JsonException)
        {
            message = Encoding.UTF8.GetString(bounded);
        }

        if (message is not null)
        {
            int at = message.IndexOf(FromActorService, StringComparison.Ordinal);
            if (at >= 0 && TryProblem(Encoding.UTF8.GetBytes(message[(at + FromActorService.Length)..]), actorType, actorId, method) is Exception folded)
            {
                return folded;
            }

            if (message.Contains(NoAddress, StringComparison.Ordinal))
            {
                return new ActorTypeNotRegisteredException(actorType, []);
            }
        }

        return new DaprSidecarException(operation, response.StatusCode, errorCode, message);
    }

    private static string? After(string message, string prefix) =>
        message.StartsWith(prefix + ": ", StringComparison.Ordinal) ? message[(prefix.Length + 2)..] : null;

    private static Exception? TryProblem(ReadOnlySpan<byte> json, string actorType, string actorId, string method)
    {
        JsonElement root;
        try
        {
            using JsonDocument document = JsonDocument.Parse(json.ToArray());
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object || Text(root, "code") is not string code)
        {
            return null;
        }

        string type = Text(root, "actorType") ?? actorType;
        string id = Text(root, "actorId") ?? actorId;
        string name = Text(root, "method") ?? method;
        string detail = Text(root, "detail") ?? Text(root, "title") ?? code;
        return code switch
        {
            TypeNotFound => new ActorTypeNotRegisteredException(type, Registered(root)),
            MethodNotFound => new ActorMethodNotFoundException(type, id, name, Text(root, "reason")),
            RequestInvalid => new ActorRequestException(type, id, name, Text(root, "reason") ?? detail),
            Reentrancy => new ActorReentrancyException(type, id, Text(root, "callChain") ?? "", Text(root, "reason") ?? detail),
            MethodFailed => new ActorInvocationException(type, id, name, Text(root, "errorType") ?? "Exception", Text(root, "errorMessage") ?? detail),
            Unavailable => new DaprSidecarException($"invoke actor {type}/{id}.{name}", HttpStatusCode.ServiceUnavailable, code, detail),
            IdInvalid => new ArgumentException(detail),
            _ => null,
        };
    }

    private static string[] Registered(JsonElement root) =>
        root.TryGetProperty("registered", out JsonElement list) && list.ValueKind == JsonValueKind.Array
            ? [.. list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)]
            : [];

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
