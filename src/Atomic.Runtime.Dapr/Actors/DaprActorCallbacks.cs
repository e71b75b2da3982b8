using System.Text.Json;
using Atomic.Runtime.Actors;
using Atomic.Runtime.Dapr.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Atomic.Runtime.Dapr.Actors;

/// <summary>
/// Every route daprd calls on the app for actors (Dapr's actors API reference, "Dapr calling to user service code"):
/// <c>GET /dapr/config</c>, <c>PUT /actors/{type}/{id}/method/{method}</c>, the reminder and timer callbacks,
/// <c>DELETE /actors/{type}/{id}</c> and <c>GET /healthz</c>. Each checks <c>dapr-api-token</c> against
/// <c>APP_API_TOKEN</c> when that is set. A failed call answers <c>application/problem+json</c> with a <c>code</c> from
/// <see cref="DaprActorErrors"/>: 404 for an unknown type or method, 400 for an unreadable body, 500 for a method that threw.
/// </summary>
public static class DaprActorCallbacks
{
    /// <summary>The largest request body a callback reads.</summary>
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    /// <param name="app">The app's routes.</param>
    /// <param name="mapHealth">Whether to map <c>GET /healthz</c>; false when the app serves its own.</param>
    public static IEndpointRouteBuilder MapDaprActors(this IEndpointRouteBuilder app, bool mapHealth = true)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/dapr/config", GetConfig).ExcludeFromDescription();
        if (mapHealth)
        {
            app.MapGet("/healthz", GetHealth).ExcludeFromDescription();
        }

        RouteGroupBuilder actors = app.MapGroup("/actors/{actorType}/{actorId}").ExcludeFromDescription();
        actors.MapPut("/method/{method}", PutMethodAsync);
        actors.MapPut("/method/remind/{reminderName}", PutReminderAsync);
        actors.MapPut("/method/timer/{timerName}", PutTimerAsync);
        actors.MapDelete("/", DeleteActorAsync);
        return app;
    }

    public static Results<Ok<DaprActorConfig>, UnauthorizedHttpResult> GetConfig([AsParameters] DaprActorCallbackServices services) =>
        services.IsFromSidecar() ? TypedResults.Ok(services.Runtime.Host.Config()) : TypedResults.Unauthorized();

    public static Results<Ok, UnauthorizedHttpResult> GetHealth([AsParameters] DaprActorCallbackServices services) =>
        services.IsFromSidecar() ? TypedResults.Ok() : TypedResults.Unauthorized();

    /// <summary>One method call: the body is the request's JSON, the answer the response's (empty for a method returning <see cref="Task"/>).</summary>
    public static async Task<Results<FileContentHttpResult, ProblemHttpResult, UnauthorizedHttpResult>> PutMethodAsync(
        string actorType, string actorId, string method, [AsParameters] DaprActorCallbackServices services)
    {
        if (!services.IsFromSidecar())
        {
            return TypedResults.Unauthorized();
        }

        HttpContext http = services.Http;
        byte[]? body = await DaprAppCallbacks.ReadBoundedAsync(http.Request, MaxBodyBytes, http.RequestAborted);
        if (body is null)
        {
            return TooLarge(actorType, actorId);
        }

        try
        {
            ReadOnlyMemory<byte> response = await services.Runtime.Host.InvokeMethodAsync(Unescape(actorType), Unescape(actorId), Unescape(method), body, services.CallChain(), http.RequestAborted);
            return TypedResults.Bytes(response.ToArray(), "application/json");
        }
        catch (Exception e) when (IsCallError(e))
        {
            return services.Problem(e);
        }
    }

    /// <summary>A reminder came due: <c>{"data", "dueTime", "period"}</c> as registered.</summary>
    public static async Task<Results<Ok, ProblemHttpResult, UnauthorizedHttpResult>> PutReminderAsync(
        string actorType, string actorId, string reminderName, [AsParameters] DaprActorCallbackServices services)
    {
        if (!services.IsFromSidecar())
        {
            return TypedResults.Unauthorized();
        }

        try
        {
            DaprReminderCallback callback = await services.ReadAsync<DaprReminderCallback>(actorType, actorId, $"remind/{reminderName}");
            await services.Runtime.Host.ReceiveReminderAsync(
                Unescape(actorType), Unescape(actorId), Unescape(reminderName), Data(callback.Data), Duration(callback.DueTime) ?? TimeSpan.Zero, Duration(callback.Period), services.CallChain(), services.Http.RequestAborted);
            return TypedResults.Ok();
        }
        catch (Exception e) when (IsCallError(e))
        {
            return services.Problem(e);
        }
    }

    /// <summary>A timer fired: <c>{"callback", "data", "dueTime", "period"}</c>; the callback method runs as a turn.</summary>
    public static async Task<Results<Ok, ProblemHttpResult, UnauthorizedHttpResult>> PutTimerAsync(
        string actorType, string actorId, string timerName, [AsParameters] DaprActorCallbackServices services)
    {
        if (!services.IsFromSidecar())
        {
            return TypedResults.Unauthorized();
        }

        try
        {
            string method = $"timer/{timerName}";
            DaprTimerCallback callback = await services.ReadAsync<DaprTimerCallback>(actorType, actorId, method);
            if (string.IsNullOrEmpty(callback.Callback))
            {
                throw new ActorRequestException(Unescape(actorType), Unescape(actorId), method, "the timer callback body names no 'callback'");
            }

            await services.Runtime.Host.InvokeTimerAsync(Unescape(actorType), Unescape(actorId), Unescape(timerName), callback.Callback, Data(callback.Data), services.CallChain(), services.Http.RequestAborted);
            return TypedResults.Ok();
        }
        catch (Exception e) when (IsCallError(e))
        {
            return services.Problem(e);
        }
    }

    /// <summary>daprd deactivates an actor (idle, or rebalanced away): its last turn runs. Deactivating one that is not active is not an error.</summary>
    public static async Task<Results<Ok, ProblemHttpResult, UnauthorizedHttpResult>> DeleteActorAsync(
        string actorType, string actorId, [AsParameters] DaprActorCallbackServices services)
    {
        if (!services.IsFromSidecar())
        {
            return TypedResults.Unauthorized();
        }

        try
        {
            await services.Runtime.Host.DeactivateAsync(Unescape(actorType), Unescape(actorId), services.Http.RequestAborted);
            return TypedResults.Ok();
        }
        catch (Exception e) when (IsCallError(e))
        {
            return services.Problem(e);
        }
    }

    /// <summary>What a callback answers as a problem; anything else (a bug here) is left to the server's 500.</summary>
    private static bool IsCallError(Exception e) => e is ActorException or ActorTypeNotRegisteredException or ArgumentException or ObjectDisposedException;

    private static ProblemHttpResult TooLarge(string actorType, string actorId) =>
        TypedResults.Problem($"the request body is longer than {MaxBodyBytes} bytes", statusCode: StatusCodes.Status413PayloadTooLarge, title: "actor request too large",
            extensions: new Dictionary<string, object?> { ["code"] = "LIMIT_EXCEEDED", ["actorType"] = actorType, ["actorId"] = actorId });

    /// <summary>Route values are decoded except <c>%2F</c>; an actor id or name may contain <c>/</c>.</summary>
    private static string Unescape(string segment) => segment.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    private static ReadOnlyMemory<byte> Data(JsonElement? data) =>
        data is JsonElement json && json.ValueKind != JsonValueKind.Null ? DaprStateValue.FromWire(JsonSerializer.SerializeToUtf8Bytes(json, DaprSidecar.Json)) : ReadOnlyMemory<byte>.Empty;

    private static TimeSpan? Duration(string? text) => string.IsNullOrEmpty(text) ? null : GoDuration.Parse(text);
}

/// <summary>What the actor callback routes need, bundled.</summary>
public sealed class DaprActorCallbackServices
{
    public required HttpContext Http { get; init; }

    public required DaprActorRuntime Runtime { get; init; }

    public required DaprOptions Options { get; init; }

    public required ILogger<DaprActorRuntime> Logger { get; init; }

    /// <summary>True when no <c>APP_API_TOKEN</c> is set, or the request carries it as <c>dapr-api-token</c>.</summary>
    public bool IsFromSidecar() => DaprCallbackServices.Carries(Options, Http.Request);

    /// <summary>The chain the callback came in (<c>Dapr-Reentrancy-Id</c>, <c>atomic-actor-chain</c>); a malformed one is an <see cref="ArgumentException"/>.</summary>
    public DaprCallChain CallChain() =>
        DaprCallChain.FromHeaders(Http.Request.Headers[DaprCallChain.ReentrancyHeader].FirstOrDefault(), Http.Request.Headers[DaprCallChain.ChainHeader].FirstOrDefault());

    /// <summary>Reads a callback body; an unreadable one is an <see cref="ActorRequestException"/>.</summary>
    public async Task<T> ReadAsync<T>(string actorType, string actorId, string method)
        where T : class
    {
        byte[] body = await DaprAppCallbacks.ReadBoundedAsync(Http.Request, DaprActorCallbacks.MaxBodyBytes, Http.RequestAborted)
            ?? throw new ActorRequestException(actorType, actorId, method, $"the callback body is longer than {DaprActorCallbacks.MaxBodyBytes} bytes");
        try
        {
            return body.Length == 0 ? throw new JsonException("the body is empty") : JsonSerializer.Deserialize<T>(body, DaprSidecar.Json) ?? throw new JsonException("the body is null");
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new ActorRequestException(actorType, actorId, method, $"the callback body is not a {typeof(T).Name}: {e.Message}", e);
        }
    }

    public ProblemHttpResult Problem(Exception error)
    {
        (int status, string code, string title, Dictionary<string, object?> fields) = DaprActorErrors.Describe(error, Runtime.Host.ActorTypes);
        if (status >= 500)
        {
            Logger.LogWarning(error, "actor callback {Path} failed: {Code}", Http.Request.Path.Value, code);
        }

        fields["code"] = code;
        return TypedResults.Problem(error.Message, statusCode: status, title: title, extensions: fields);
    }
}
