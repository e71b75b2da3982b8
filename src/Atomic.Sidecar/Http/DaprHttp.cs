using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Atomic.Sidecar.Http;

/// <summary>What every HTTP API route shares: daprd's error body, the API token, bounded JSON bodies and query metadata.</summary>
internal static class DaprHttp
{
    /// <summary>Health needs no token (as on daprd); the gRPC services check theirs and answer in gRPC's own form.</summary>
    private static readonly string[] NoTokenHere = ["/v1.0/healthz", "/dapr.proto.runtime.v1.Dapr", "/TaskHubSidecarService"];

    /// <summary>Answers <see cref="DaprError"/>s and malformed JSON in daprd's form (<c>{"errorCode", "message"}</c>), and enforces <c>dapr-api-token</c>.</summary>
    /// <summary><c>//v1.0/state</c> → <c>/v1.0/state</c>: a client that joins a base address ending in '/' to an absolute path.</summary>
    public static void CollapseLeadingSlashes(HttpRequest request)
    {
        string? path = request.Path.Value;
        if (path is { Length: > 1 } && path[1] == '/')
        {
            request.Path = new PathString("/" + path.TrimStart('/'));
        }
    }

    public static async Task HandleAsync(HttpContext context, RequestDelegate next, string? apiToken, Tracing.SidecarTracing? tracing = null)
    {
        // The call's span (when the Configuration asks for spans) is what an event it publishes carries on.
        using System.Diagnostics.Activity? span = tracing?.Start(
            $"{context.Request.Method} {context.Request.Path}", System.Diagnostics.ActivityKind.Server,
            context.Request.Headers["traceparent"].ToString(), context.Request.Headers["tracestate"].FirstOrDefault());
        TraceContext.Capture(context.Request, span);
        PathString path = context.Request.Path;
        if (apiToken is not null && !Array.Exists(NoTokenHere, p => path.StartsWithSegments(p))
            && !string.Equals(context.Request.Headers["dapr-api-token"], apiToken, StringComparison.Ordinal))
        {
            await WriteErrorAsync(context, new DaprError(401, global::Grpc.Core.StatusCode.Unauthenticated, ErrorCodes.ApiToken, "invalid api token"));
            return;
        }

        try
        {
            await next(context);
        }
        catch (DaprError e)
        {
            await WriteErrorAsync(context, e);
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(context, DaprError.Malformed($"the body is not the JSON expected: {e.Message}"));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteErrorAsync(context, new DaprError(413, global::Grpc.Core.StatusCode.ResourceExhausted, ErrorCodes.BodyTooLarge, e.Message));
        }
    }

    public static async Task WriteErrorAsync(HttpContext context, DaprError error, Action<HttpResponse>? headers = null)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.Clear();
        headers?.Invoke(context.Response);
        context.Response.StatusCode = error.HttpStatus;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new ErrorBody(error.ErrorCode, error.Message)), context.RequestAborted);
    }

    private const int PreallocatedBodyBytes = 1 << 20;

    /// <summary>The whole body (Kestrel bounds its size).</summary>
    public static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        // A small body with a Content-Length (the SDKs send one) is read straight into its own array; a body that ends
        // short is the server's BadHttpRequestException, as for any read. A larger one grows as it arrives, so that a
        // length claimed but not sent allocates nothing, and Kestrel's size limit stops it.
        if (context.Request.ContentLength is long length && length <= PreallocatedBodyBytes)
        {
            if (length == 0)
            {
                return [];
            }

            byte[] body = new byte[length];
            await context.Request.Body.ReadExactlyAsync(body, context.RequestAborted);
            return body;
        }

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        return buffer.ToArray();
    }

    /// <summary>The body as one JSON document of the given kind, or daprd's ERR_MALFORMED_REQUEST.</summary>
    public static async Task<JsonDocument> ReadJsonAsync(HttpContext context, JsonValueKind kind, string what)
    {
        byte[] body = await ReadBodyAsync(context);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw DaprError.Malformed($"{what} is not valid JSON: {e.Message}");
        }

        if (document.RootElement.ValueKind != kind)
        {
            document.Dispose();
            throw DaprError.Malformed($"{what} must be a JSON {kind.ToString().ToLowerInvariant()}");
        }

        return document;
    }

    /// <summary>The <c>metadata.*</c> query parameters, without their prefix.</summary>
    public static Dictionary<string, string> QueryMetadata(HttpRequest request)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string name, Microsoft.Extensions.Primitives.StringValues value) in request.Query)
        {
            if (name.StartsWith("metadata.", StringComparison.Ordinal))
            {
                metadata[name["metadata.".Length..]] = value.ToString();
            }
        }

        return metadata;
    }

    /// <summary>A string-to-string object (<c>metadata</c>), or an empty map when absent.</summary>
    public static Dictionary<string, string> StringMap(JsonElement parent, string property, string what)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!parent.TryGetProperty(property, out JsonElement element) || element.ValueKind == JsonValueKind.Null)
        {
            return map;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw DaprError.Malformed($"{what}: '{property}' must be an object of strings");
        }

        foreach (JsonProperty entry in element.EnumerateObject())
        {
            map[entry.Name] = entry.Value.ValueKind == JsonValueKind.String
                ? entry.Value.GetString()!
                : throw DaprError.Malformed($"{what}: {property}.{entry.Name} must be a string");
        }

        return map;
    }

    /// <summary>An optional string property; another kind is malformed.</summary>
    public static string? OptionalString(JsonElement parent, string property, string what) =>
        !parent.TryGetProperty(property, out JsonElement element) || element.ValueKind == JsonValueKind.Null
            ? null
            : element.ValueKind == JsonValueKind.String ? element.GetString() : throw DaprError.Malformed($"{what}: '{property}' must be a string");

    private sealed record ErrorBody(
        [property: System.Text.Json.Serialization.JsonPropertyName("errorCode")] string ErrorCode,
        [property: System.Text.Json.Serialization.JsonPropertyName("message")] string Message);
}
