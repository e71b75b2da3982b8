using System.Globalization;
using System.Text;
using System.Text.Json;
using Atomic.Sidecar.Components.State;
using Atomic.Sidecar.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Actors;

/// <summary>
/// The actor API over HTTP (reference/api/actors_api.md): invocation, actor state (get, and the transaction whose body
/// is a bare array of operations), reminders and timers; same paths, verbs, status codes and error codes as daprd.
/// </summary>
internal static class ActorApi
{
    private const string Prefix = "/v1.0/actors/{actorType}/{actorId}";

    public static IEndpointRouteBuilder MapActorApi(this IEndpointRouteBuilder routes)
    {
        routes.MapMethods(Prefix + "/method/{method}", ["GET", "POST", "PUT", "DELETE"], InvokeAsync);
        routes.MapMethods(Prefix + "/state", ["POST", "PUT"], TransactAsync);
        routes.MapGet(Prefix + "/state/{key}", GetStateAsync);
        routes.MapMethods(Prefix + "/reminders/{name}", ["POST", "PUT"], CreateReminderAsync);
        routes.MapGet(Prefix + "/reminders/{name}", GetReminderAsync);
        routes.MapDelete(Prefix + "/reminders/{name}", DeleteReminderAsync);
        routes.MapMethods(Prefix + "/timers/{name}", ["POST", "PUT"], CreateTimerAsync);
        routes.MapDelete(Prefix + "/timers/{name}", DeleteTimer);
        return routes;
    }

    /// <summary>
    /// Calls the actor's method in the app (always <c>PUT</c>, as daprd does) with the body, content type, query and
    /// headers; the app's 200 answer is passed back with its headers (<c>X-DaprErrorResponseHeader</c> included: the
    /// SDKs' way of reporting an actor's exception), any other status becomes daprd's <c>500 ERR_ACTOR_INVOKE_METHOD</c>.
    /// </summary>
    private static async Task InvokeAsync(HttpContext context, string actorType, string actorId, string method)
    {
        ActorRuntime runtime = context.RequestServices.GetRequiredService<ActorRuntime>();
        byte[] body = await DaprHttp.ReadBodyAsync(context);
        var headers = new List<KeyValuePair<string, string[]>>(context.Request.Headers.Count);
        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in context.Request.Headers)
        {
            headers.Add(new(name, values.ToArray()!)); // a header's values are never null
        }

        var call = new ActorCall(
            Unescape(actorType), Unescape(actorId), "method/" + Uri.EscapeDataString(Unescape(method)), body, context.Request.ContentType, headers,
            context.Request.Headers[ActorRuntime.ReentrancyHeader] is { Count: > 0 } chain ? chain[0] : null, context.Request.QueryString.Value);
        ActorAnswer answer;
        try
        {
            answer = await runtime.CallAsync(call, context.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            throw ActorErrors.Invoke(e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // the caller went away
        }
        catch (OperationCanceledException)
        {
            throw ActorErrors.Invoke("the actor runtime is shutting down");
        }

        if (answer.Status != StatusCodes.Status200OK)
        {
            throw ActorErrors.Invoke($"error from actor service: {Encoding.UTF8.GetString(answer.Body)}");
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        foreach ((string name, string[] values) in answer.Headers)
        {
            context.Response.Headers[name] = values;
        }

        if (answer.ContentType is not null)
        {
            context.Response.ContentType = answer.ContentType;
        }

        await context.Response.Body.WriteAsync(answer.Body, context.RequestAborted);
    }

    /// <summary>200 with the value as saved (JSON text), or 204 when there is none.</summary>
    private static async Task GetStateAsync(HttpContext context, string actorType, string actorId, string key)
    {
        ActorRuntime runtime = context.RequestServices.GetRequiredService<ActorRuntime>();
        IStateStore store = runtime.StateStore();
        string type = Unescape(actorType);
        if (!runtime.Hosts(type))
        {
            throw ActorErrors.InstanceMissing();
        }

        StateItem? item;
        try
        {
            item = await store.GetAsync(runtime.StateKey(type, Unescape(actorId), Unescape(key)), context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException and not DaprError)
        {
            throw ActorErrors.StateGet(e.Message);
        }

        if (item is null || item.Value.IsEmpty)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(item.Value, context.RequestAborted);
    }

    /// <summary>
    /// <c>[{"operation": "upsert"|"delete", "request": {"key", "value", "metadata": {"ttlInSeconds"}}}]</c>, applied
    /// all or nothing to the actor state store; 204.
    /// </summary>
    private static async Task TransactAsync(HttpContext context, string actorType, string actorId)
    {
        ActorRuntime runtime = context.RequestServices.GetRequiredService<ActorRuntime>();
        IStateStore store = runtime.StateStore();
        string type = Unescape(actorType);
        string id = Unescape(actorId);
        using JsonDocument body = await ReadJsonAsync(context);
        if (body.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw ActorErrors.Malformed("the body must be a JSON array of operations");
        }

        var parsed = new List<(string Operation, JsonElement Request)>();
        foreach (JsonElement operation in body.RootElement.EnumerateArray())
        {
            string what = $"operation {parsed.Count}";
            if (operation.ValueKind != JsonValueKind.Object)
            {
                throw ActorErrors.Malformed($"{what} must be an object");
            }

            string kind = StringField(operation, "operation", what) ?? string.Empty;
            JsonElement request = operation.TryGetProperty("request", out JsonElement r) ? r : default;
            parsed.Add((kind, request));
        }

        if (!runtime.Hosts(type))
        {
            throw ActorErrors.InstanceMissing();
        }

        var operations = new List<StateOperation>();
        foreach ((string kind, JsonElement request) in parsed)
        {
            if (request.ValueKind != JsonValueKind.Object)
            {
                throw ActorErrors.StateTransaction($"the {kind} operation needs a 'request' object");
            }

            string key = request.TryGetProperty("key", out JsonElement k) && k.ValueKind == JsonValueKind.String && k.GetString() is { Length: > 0 } text
                ? text
                : throw ActorErrors.StateTransaction($"the {kind} operation needs a 'key'");
            operations.Add(kind switch
            {
                "upsert" => new StateOperation.Upsert(new StateWrite(
                    runtime.StateKey(type, id, key),
                    Encoding.UTF8.GetBytes(request.TryGetProperty("value", out JsonElement value) ? value.GetRawText() : "null"),
                    Ttl: Ttl(request))),
                "delete" => new StateOperation.Delete(runtime.StateKey(type, id, key)),
                _ => throw ActorErrors.StateTransaction($"operation type {kind} not supported"),
            });
        }

        try
        {
            await store.ExecuteTransactionAsync(operations, context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException and not DaprError)
        {
            throw ActorErrors.StateTransaction(e.Message);
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary><c>{"dueTime", "period", "data", "ttl"}</c>; 204, or daprd's ERR_ACTOR_REMINDER_CREATE for times it cannot read.</summary>
    private static async Task CreateReminderAsync(HttpContext context, string actorType, string actorId, string name)
    {
        ActorRuntime runtime = context.RequestServices.GetRequiredService<ActorRuntime>();
        using JsonDocument body = await ReadJsonAsync(context);
        JsonElement root = Object(body, "reminder");
        await runtime.CreateReminderAsync(
            Unescape(actorType), Unescape(actorId), Unescape(name),
            StringField(root, "dueTime", "reminder"), StringField(root, "period", "reminder"), StringField(root, "ttl", "reminder"), Data(root),
            context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>200 <c>{"actorID", "actorType", "data", "dueTime", "period", "ttl"}</c>, or 404.</summary>
    private static async Task GetReminderAsync(HttpContext context, string actorType, string actorId, string name)
    {
        ActorRuntime runtime = context.RequestServices.GetRequiredService<ActorRuntime>();
        ReminderView reminder = runtime.GetReminder(Unescape(actorType), Unescape(actorId), Unescape(name));
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("actorID", reminder.ActorId);
        writer.WriteString("actorType", reminder.ActorType);
        if (reminder.DataJson is string data)
        {
            writer.WritePropertyName("data");
            writer.WriteRawValue(data, skipInputValidation: true);
        }

        writer.WriteString("dueTime", reminder.DueTime);
        writer.WriteString("period", reminder.Period);
        if (reminder.Ttl.Length > 0)
        {
            writer.WriteString("ttl", reminder.Ttl);
        }

        writer.WriteEndObject();
    }

    private static async Task DeleteReminderAsync(HttpContext context, string actorType, string actorId, string name)
    {
        ActorRuntime runtime = context.RequestServices.GetRequiredService<ActorRuntime>();
        await runtime.DeleteReminderAsync(Unescape(actorType), Unescape(actorId), Unescape(name), context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary><c>{"dueTime", "period", "callback", "data", "ttl"}</c>; 204, or daprd's ERR_ACTOR_TIMER_CREATE.</summary>
    private static async Task CreateTimerAsync(HttpContext context, string actorType, string actorId, string name)
    {
        ActorRuntime runtime = context.RequestServices.GetRequiredService<ActorRuntime>();
        using JsonDocument body = await ReadJsonAsync(context);
        JsonElement root = Object(body, "timer");
        runtime.CreateTimer(
            Unescape(actorType), Unescape(actorId), Unescape(name),
            StringField(root, "dueTime", "timer"), StringField(root, "period", "timer"), StringField(root, "ttl", "timer"),
            StringField(root, "callback", "timer"), Data(root));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static void DeleteTimer(HttpContext context, string actorType, string actorId, string name)
    {
        ActorRuntime runtime = context.RequestServices.GetRequiredService<ActorRuntime>();
        runtime.DeleteTimer(Unescape(actorType), Unescape(actorId), Unescape(name));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>The body as JSON (daprd decodes it with Go's <c>encoding/json</c>: an empty or broken body is malformed).</summary>
    private static async Task<JsonDocument> ReadJsonAsync(HttpContext context)
    {
        byte[] body = await DaprHttp.ReadBodyAsync(context);
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw ActorErrors.Malformed(body.Length == 0 ? "EOF" : e.Message);
        }
    }

    private static JsonElement Object(JsonDocument body, string what) =>
        body.RootElement.ValueKind == JsonValueKind.Object
            ? body.RootElement
            : throw ActorErrors.Malformed($"the {what} body must be a JSON object");

    /// <summary>A string field; null, or absent, is none; another kind cannot be decoded (daprd: malformed).</summary>
    private static string? StringField(JsonElement parent, string name, string what) =>
        !parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null
            ? null
            : value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : throw ActorErrors.Malformed($"{what}: '{name}' must be a string");

    /// <summary>The <c>data</c> field as raw JSON (compacted, as daprd keeps it), or null when absent or null.</summary>
    private static string? Data(JsonElement parent)
    {
        if (!parent.TryGetProperty("data", out JsonElement data) || data.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            data.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>daprd's <c>ttlInSeconds</c> request metadata: a positive number of seconds, or -1 for none.</summary>
    private static TimeSpan? Ttl(JsonElement request)
    {
        if (!request.TryGetProperty("metadata", out JsonElement metadata) || metadata.ValueKind != JsonValueKind.Object
            || !metadata.TryGetProperty("ttlInSeconds", out JsonElement ttl))
        {
            return null;
        }

        string? text = ttl.ValueKind == JsonValueKind.String ? ttl.GetString() : ttl.GetRawText();
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds) switch
        {
            true when seconds == -1 => null,
            true when seconds > 0 && seconds <= int.MaxValue => TimeSpan.FromSeconds(seconds),
            _ => throw ActorErrors.StateTransaction($"ttlInSeconds '{text}' is not a positive number of seconds or -1"),
        };
    }

    /// <summary>Route values keep <c>%2F</c> encoded.</summary>
    private static string Unescape(string value) => Uri.UnescapeDataString(value);
}
