using System.Text;
using System.Text.Json;
using Atomic.Sidecar.PubSub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Http;

/// <summary>The pub/sub API over HTTP (reference/api/pubsub_api.md): publish one event, and bulk publish.</summary>
internal static class PublishApi
{
    public static IEndpointRouteBuilder MapPublishApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1.0/publish/{pubsub}/{**topic}", PublishAsync);
        routes.MapPost("/v1.0-alpha1/publish/bulk/{pubsub}/{**topic}", PublishBulkAsync);
        routes.MapPost("/v1.0/publish/bulk/{pubsub}/{**topic}", PublishBulkAsync);
        return routes;
    }

    private static async Task PublishAsync(HttpContext context, string pubsub, string topic)
    {
        Publisher publisher = context.RequestServices.GetRequiredService<Publisher>();
        byte[] body = await DaprHttp.ReadBodyAsync(context);
        await publisher.PublishAsync(pubsub, Uri.UnescapeDataString(topic), body, context.Request.ContentType, DaprHttp.QueryMetadata(context.Request), context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>
    /// <c>[{"entryId", "event", "contentType", "metadata"}]</c>: all are kept or none; a refusal names every entry
    /// (<c>failedEntries</c>), as daprd's answer does.
    /// </summary>
    private static async Task PublishBulkAsync(HttpContext context, string pubsub, string topic)
    {
        Publisher publisher = context.RequestServices.GetRequiredService<Publisher>();
        Dictionary<string, string> shared = DaprHttp.QueryMetadata(context.Request);
        using JsonDocument body = await DaprHttp.ReadJsonAsync(context, JsonValueKind.Array, "the bulk publish body");
        var ids = new List<string>();
        var entries = new List<(ReadOnlyMemory<byte>, string?, IReadOnlyDictionary<string, string>)>();
        foreach (JsonElement entry in body.RootElement.EnumerateArray())
        {
            string what = $"entry {entries.Count}";
            if (entry.ValueKind != JsonValueKind.Object)
            {
                throw DaprError.Malformed($"{what}: must be an object");
            }

            string entryId = DaprHttp.OptionalString(entry, "entryId", what) is { Length: > 0 } id ? id : throw DaprError.Malformed($"{what}: 'entryId' is required");
            if (ids.Contains(entryId))
            {
                throw DaprError.Malformed($"{what}: entryId '{entryId}' is not unique");
            }

            string contentType = DaprHttp.OptionalString(entry, "contentType", what) is { Length: > 0 } type ? type : throw DaprError.Malformed($"{what}: 'contentType' is required");
            if (!entry.TryGetProperty("event", out JsonElement payload))
            {
                throw DaprError.Malformed($"{what}: 'event' is required");
            }

            // A JSON payload is the event's JSON; a string under another content type is that text.
            byte[] data = payload.ValueKind == JsonValueKind.String && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase)
                ? Encoding.UTF8.GetBytes(payload.GetString()!)
                : Encoding.UTF8.GetBytes(payload.GetRawText());
            Dictionary<string, string> metadata = DaprHttp.StringMap(entry, "metadata", what);
            foreach ((string name, string value) in shared)
            {
                metadata.TryAdd(name, value);
            }

            ids.Add(entryId);
            entries.Add((data, contentType, metadata));
        }

        try
        {
            await publisher.PublishBulkAsync(pubsub, Uri.UnescapeDataString(topic), entries, context.RequestAborted);
        }
        catch (DaprError e) when (e.ErrorCode == ErrorCodes.PubSubPublishMessage)
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                failedEntries = ids.Select(id => new { entryId = id, error = e.Message }),
                errorCode = e.ErrorCode,
            }), context.RequestAborted);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}
