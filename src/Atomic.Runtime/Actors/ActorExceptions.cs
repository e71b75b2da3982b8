namespace Atomic.Runtime.Actors;

/// <summary>The base of every error the actor runtime itself reports about a call (as opposed to the actor's own exceptions, which arrive wrapped in <see cref="ActorInvocationException"/>).</summary>
public abstract class ActorException(string actorType, string actorId, string message, Exception? innerException = null) : Exception(message, innerException)
{
    public string ActorType { get; } = actorType;

    public string ActorId { get; } = actorId;
}

/// <summary>The actor type has no method of that name that can be called (Dapr answers 500 with the SDK's "method not found").</summary>
public sealed class ActorMethodNotFoundException(string actorType, string actorId, string method, string? reason = null)
    : ActorException(actorType, actorId, $"actor type {actorType} has no callable method '{method}'{(reason is null ? "" : $": {reason}")}")
{
    public string Method { get; } = method;
}

/// <summary>The request body could not be read as the method's parameter type; the method did not run.</summary>
public sealed class ActorRequestException(string actorType, string actorId, string method, string message, Exception? innerException = null)
    : ActorException(actorType, actorId, $"{actorType}/{actorId}.{method}: {message}", innerException)
{
    public string Method { get; } = method;
}

/// <summary>
/// A call chain came back to an actor whose turn it is still waiting on. With reentrancy off that call could only
/// deadlock, so it fails at once; with reentrancy on, it fails once the chain is deeper than the allowed stack depth.
/// </summary>
public sealed class ActorReentrancyException(string actorType, string actorId, string callChain, string reason)
    : ActorException(actorType, actorId, $"call chain {callChain} -> {actorType}/{actorId} re-enters {actorType}/{actorId}: {reason}")
{
    /// <summary>The chain of actors the call came through, outermost first (<c>Type/id -> Type/id</c>).</summary>
    public string CallChain { get; } = callChain;
}

/// <summary>
/// The actor's method (or the commit of its turn) threw: its state changes were discarded. In process the original
/// exception is the <see cref="Exception.InnerException"/>; across a sidecar only its type name and message survive.
/// </summary>
public sealed class ActorInvocationException(string actorType, string actorId, string method, string errorType, string errorMessage, Exception? innerException = null)
    : ActorException(actorType, actorId, $"{actorType}/{actorId}.{method} failed: {errorType}: {errorMessage}", innerException)
{
    public string Method { get; } = method;

    /// <summary>The full name of the exception type the actor threw.</summary>
    public string ErrorType { get; } = errorType;

    /// <summary>The message of the exception the actor threw.</summary>
    public string ErrorMessage { get; } = errorMessage;

    /// <summary>Wraps an exception thrown in process by the actor's turn.</summary>
    public static ActorInvocationException Wrap(string actorType, string actorId, string method, Exception error) =>
        new(actorType, actorId, method, error.GetType().FullName ?? error.GetType().Name, error.Message, error);
}

/// <summary>No actor type of that name is registered with the runtime.</summary>
public sealed class ActorTypeNotRegisteredException(string actorType, IEnumerable<string> registered)
    : ArgumentException($"actor type '{actorType}' is not registered (registered: {(registered.Any() ? string.Join(", ", registered) : "none")})", nameof(actorType))
{
    public string ActorType { get; } = actorType;
}
