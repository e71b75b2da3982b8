using System.Text.Json;
using Atomic.Sidecar.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Bindings;

/// <summary>
/// The bindings API over HTTP (reference/api/bindings_api.md): <c>POST|PUT /v1.0/bindings/{name}</c> with
/// <c>{"data", "metadata", "operation"}</c>. The data goes to the binding as its JSON text; the answer is the binding's
/// data (200, or 204 when it has none) with each metadata entry as a <c>metadata.{key}</c> header; a failure is 500
/// <c>ERR_INVOKE_OUTPUT_BINDING</c>, still with the metadata the target answered.
/// </summary>
internal static class BindingsApi
{
    public static IEndpointRouteBuilder MapBindingsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapMethods("/v1.0/bindings/{name}", [HttpMethods.Post, HttpMethods.Put], InvokeAsync);
        return routes;
    }

    private static async Task InvokeAsync(HttpContext context, string name)
    {
        OutputBindings bindings = context.RequestServices.GetRequiredService<OutputBindings>();
        using JsonDocument body = await DaprHttp.ReadJsonAsync(context, JsonValueKind.Object, "the binding request");
        JsonElement root = body.RootElement;
        string operation = DaprHttp.OptionalString(root, "operation", "the binding request") ?? string.Empty;
        Dictionary<string, string> metadata = DaprHttp.StringMap(root, "metadata", "the binding request");
        byte[] data = root.TryGetProperty("data", out JsonElement value) ? JsonSerializer.SerializeToUtf8Bytes(value) : "null"u8.ToArray();
        TraceContext.AddTo(metadata);

        BindingResponse response;
        try
        {
            response = await bindings.InvokeAsync(name, operation, data, metadata, context.RequestAborted);
        }
        catch (BindingException e)
        {
            var error = new DaprError(500, global::Grpc.Core.StatusCode.Internal, OutputBindings.ErrorCode, e.Message);
            await DaprHttp.WriteErrorAsync(context, error, r =>
            {
                if (e.Response is { } answered)
                {
                    AddMetadata(r, answered);
                }
            });
            return;
        }

        AddMetadata(context.Response, response);
        if (response.Data.Length == 0)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(response.Data, context.RequestAborted);
    }

    private static void AddMetadata(HttpResponse response, BindingResponse answer)
    {
        foreach ((string key, string value) in answer.Metadata)
        {
            response.Headers.Append("metadata." + key, value);
        }
    }
}
