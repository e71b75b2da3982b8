using Dapr.Actors;
using Dapr.Actors.Client;

namespace Atomic.Services.Pipeline;

/// <summary>
/// Calling the overlay's actors through the Dapr SDK's typed proxies (JSON bodies, so that any language can call the
/// same methods): what a failed call means to a route or a handler.
/// </summary>
public static class Actors
{
    /// <summary>The proxy options every caller uses: JSON, as the actor runtime is registered with.</summary>
    public static ActorProxyOptions ProxyOptions(string? httpEndpoint, string? apiToken) => new()
    {
        UseJsonSerialization = true,
        HttpEndpoint = httpEndpoint,
        DaprApiToken = apiToken,
        RequestTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>
    /// The name of the exception the actor method itself threw (as the SDK carries it back), or null when the call
    /// failed on the way (no sidecar, no actor host, a timeout).
    /// </summary>
    public static string? ErrorType(Exception e) =>
        e is ActorMethodInvocationException { InnerException: ActorInvokeException inner } ? inner.ActualExceptionType : null;

    /// <summary>The actor method's own message, without the SDK's wrapping.</summary>
    public static string ErrorMessage(Exception e) =>
        e is ActorMethodInvocationException { InnerException: ActorInvokeException inner } ? inner.Message : e.Message;

    /// <summary>Whether <paramref name="e"/> is a failed actor call (the caller answers 503 or Retry), not a bug here.</summary>
    public static bool IsCallFailure(Exception e) =>
        e is ActorMethodInvocationException or Dapr.DaprException or Dapr.DaprApiException or HttpRequestException or TimeoutException
        || (e is TaskCanceledException && e.InnerException is TimeoutException);
}
