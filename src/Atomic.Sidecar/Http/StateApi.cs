using System.Globalization;
using System.Text;
using System.Text.Json;
using Atomic.Sidecar.Components.State;
using Atomic.Sidecar.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Http;

/// <summary>
/// The state API over HTTP (reference/api/state_api.md): get, bulk get, save, delete and transaction. A value saved
/// over HTTP is kept as its JSON text; a value saved over gRPC as its bytes; both are read back as kept.
/// </summary>
internal static class StateApi
{
    public static IEndpointRouteBuilder MapStateApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1.0/state/{store}/{**key}", GetStateAsync);
        routes.MapPost("/v1.0/state/{store}", SaveStateAsync);
        routes.MapPost("/v1.0/state/{store}/bulk", GetBulkStateAsync);
        routes.MapPost("/v1.0/state/{store}/transaction", TransactAsync);
        routes.MapDelete("/v1.0/state/{store}/{**key}", DeleteStateAsync);
        return routes;
    }

    private static async Task GetStateAsync(HttpContext context, string store, string key)
    {
        StateService state = context.RequestServices.GetRequiredService<StateService>();
        StateItem? item = await state.GetAsync(store, Unescape(key), context.RequestAborted);
        if (item is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.ETag = item.ETag; // unquoted, as daprd sends it
        context.Response.ContentType = IsJson(item.Value.Span) ? "application/json" : "application/octet-stream";
        await context.Response.Body.WriteAsync(item.Value, context.RequestAborted);
    }

    private static async Task GetBulkStateAsync(HttpContext context, string store)
    {
        StateService state = context.RequestServices.GetRequiredService<StateService>();
        using JsonDocument body = await DaprHttp.ReadJsonAsync(context, JsonValueKind.Object, "the bulk get body");
        if (!body.RootElement.TryGetProperty("keys", out JsonElement keysElement) || keysElement.ValueKind != JsonValueKind.Array)
        {
            throw DaprError.Malformed("the bulk get body needs 'keys', an array of strings");
        }

        var keys = new List<string>();
        foreach (JsonElement key in keysElement.EnumerateArray())
        {
            keys.Add(key.ValueKind == JsonValueKind.String ? key.GetString()! : throw DaprError.Malformed("'keys' must hold strings"));
        }

        IReadOnlyList<(string Key, StateItem? Item)> found = await state.GetBulkAsync(store, keys, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartArray();
        foreach ((string key, StateItem? item) in found)
        {
            writer.WriteStartObject();
            writer.WriteString("key", key);
            if (item is not null)
            {
                writer.WritePropertyName("data");
                WriteValue(writer, item.Value.Span);
                writer.WriteString("etag", item.ETag);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static async Task SaveStateAsync(HttpContext context, string store)
    {
        StateService state = context.RequestServices.GetRequiredService<StateService>();
        Dictionary<string, string> query = DaprHttp.QueryMetadata(context.Request);
        using JsonDocument body = await DaprHttp.ReadJsonAsync(context, JsonValueKind.Array, "the save body");
        var writes = new List<StateWrite>();
        foreach (JsonElement item in body.RootElement.EnumerateArray())
        {
            writes.Add(ReadWrite(item, $"item {writes.Count}", query));
        }

        await state.SaveAsync(store, writes, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task DeleteStateAsync(HttpContext context, string store, string key)
    {
        StateService state = context.RequestServices.GetRequiredService<StateService>();
        string? etag = context.Request.Headers.IfMatch.FirstOrDefault();
        StateConcurrency concurrency = Concurrency(context.Request.Query["concurrency"].FirstOrDefault(), "query");
        await state.DeleteAsync(store, Unescape(key), string.IsNullOrEmpty(etag) ? null : etag.Trim('"'), concurrency, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task TransactAsync(HttpContext context, string store)
    {
        StateService state = context.RequestServices.GetRequiredService<StateService>();
        using JsonDocument body = await DaprHttp.ReadJsonAsync(context, JsonValueKind.Object, "the transaction body");
        if (!body.RootElement.TryGetProperty("operations", out JsonElement operationsElement) || operationsElement.ValueKind != JsonValueKind.Array)
        {
            throw DaprError.Malformed("the transaction body needs 'operations', an array");
        }

        Dictionary<string, string> shared = DaprHttp.StringMap(body.RootElement, "metadata", "the transaction");
        var operations = new List<StateOperation>();
        foreach (JsonElement operation in operationsElement.EnumerateArray())
        {
            string what = $"operation {operations.Count}";
            if (operation.ValueKind != JsonValueKind.Object || !operation.TryGetProperty("request", out JsonElement request) || request.ValueKind != JsonValueKind.Object)
            {
                throw DaprError.Malformed($"{what}: needs 'operation' and a 'request' object");
            }

            operations.Add(DaprHttp.OptionalString(operation, "operation", what) switch
            {
                "upsert" => new StateOperation.Upsert(ReadWrite(request, what, shared)),
                "delete" => ReadDelete(request, what),
                string other => throw DaprError.Malformed($"{what}: operation type {other} not supported"),
                null => throw DaprError.Malformed($"{what}: 'operation' is required (upsert or delete)"),
            });
        }

        await state.TransactAsync(store, operations, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static StateWrite ReadWrite(JsonElement item, string what, IReadOnlyDictionary<string, string> defaults)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw DaprError.Malformed($"{what}: must be an object with 'key' and 'value'");
        }

        string key = DaprHttp.OptionalString(item, "key", what) is { Length: > 0 } k ? k : throw DaprError.Malformed($"{what}: 'key' is required");
        byte[] value = item.TryGetProperty("value", out JsonElement v) ? Encoding.UTF8.GetBytes(v.GetRawText()) : [];
        Dictionary<string, string> metadata = DaprHttp.StringMap(item, "metadata", what);
        foreach ((string name, string text) in defaults)
        {
            metadata.TryAdd(name, text);
        }

        (StateConcurrency concurrency, _) = Options(item, what);
        return new StateWrite(key, value, DaprHttp.OptionalString(item, "etag", what) is { Length: > 0 } etag ? etag : null, concurrency, Ttl(metadata, what), metadata);
    }

    private static StateOperation.Delete ReadDelete(JsonElement item, string what)
    {
        string key = DaprHttp.OptionalString(item, "key", what) is { Length: > 0 } k ? k : throw DaprError.Malformed($"{what}: 'key' is required");
        (StateConcurrency concurrency, _) = Options(item, what);
        return new StateOperation.Delete(key, DaprHttp.OptionalString(item, "etag", what) is { Length: > 0 } etag ? etag : null, concurrency);
    }

    private static (StateConcurrency Concurrency, string? Consistency) Options(JsonElement item, string what)
    {
        if (!item.TryGetProperty("options", out JsonElement options) || options.ValueKind == JsonValueKind.Null)
        {
            return (StateConcurrency.LastWrite, null);
        }

        if (options.ValueKind != JsonValueKind.Object)
        {
            throw DaprError.Malformed($"{what}: 'options' must be an object");
        }

        string? consistency = DaprHttp.OptionalString(options, "consistency", what);
        if (consistency is not (null or "" or "eventual" or "strong"))
        {
            throw DaprError.Malformed($"{what}: consistency '{consistency}' is not eventual or strong");
        }

        return (Concurrency(DaprHttp.OptionalString(options, "concurrency", what), what), consistency);
    }

    private static StateConcurrency Concurrency(string? value, string what) => value switch
    {
        null or "" or "last-write" => StateConcurrency.LastWrite,
        "first-write" => StateConcurrency.FirstWrite,
        _ => throw DaprError.Malformed($"{what}: concurrency '{value}' is not first-write or last-write"),
    };

    /// <summary>daprd's <c>ttlInSeconds</c>: a positive number of seconds, or -1 for none.</summary>
    internal static TimeSpan? Ttl(IReadOnlyDictionary<string, string> metadata, string what)
    {
        if (!metadata.TryGetValue("ttlInSeconds", out string? text))
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds) switch
        {
            true when seconds == -1 => null,
            true when seconds > 0 && seconds <= int.MaxValue => TimeSpan.FromSeconds(seconds),
            _ => throw DaprError.Malformed($"{what}: ttlInSeconds '{text}' is not a positive number of seconds or -1"),
        };
    }

    /// <summary>A kept value in a bulk answer: JSON inline, UTF-8 text as a string, other bytes as base64.</summary>
    private static void WriteValue(Utf8JsonWriter writer, ReadOnlySpan<byte> value)
    {
        if (IsJson(value))
        {
            writer.WriteRawValue(value, skipInputValidation: true);
        }
        else if (System.Text.Unicode.Utf8.IsValid(value))
        {
            writer.WriteStringValue(value);
        }
        else
        {
            writer.WriteBase64StringValue(value);
        }
    }

    private static bool IsJson(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        var reader = new Utf8JsonReader(value);
        try
        {
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Route values keep <c>%2F</c> encoded; a key may contain <c>/</c>.</summary>
    private static string Unescape(string value) => Uri.UnescapeDataString(value);
}
