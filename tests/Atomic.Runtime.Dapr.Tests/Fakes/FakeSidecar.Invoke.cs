using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atomic.Runtime.Dapr.Tests.Fakes;

/// <summary>
/// Service invocation (service_invocation_api.md): <c>/v1.0/invoke/{app-id}/method/{method}</c> with any verb is
/// forwarded to the app registered under that id (<see cref="AddService"/>, or <see cref="AddApp(Uri, string?)"/>),
/// with its query, body and headers but the sidecar's token; the callee's status, headers and body come back as they
/// are. An id nobody registered, or an app that cannot be reached, is daprd's 500 <c>ERR_DIRECT_INVOKE</c>; a missing
/// method is 400.
/// </summary>
public sealed partial class FakeSidecar
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "TE", "Trailer", "Proxy-Connection", "dapr-api-token",
    };

    private readonly ConcurrentDictionary<string, HttpClient> _services = new(StringComparer.Ordinal);

    /// <summary>
    /// Makes <paramref name="appId"/> invocable through <c>/v1.0/invoke/{appId}/method/…</c>: a Dapr app's id, or the
    /// name of an <c>HTTPEndpoint</c> resource for a service outside Dapr.
    /// </summary>
    public void AddService(string appId, Uri address)
    {
        var client = new HttpClient { BaseAddress = address };
        if (!_services.TryAdd(appId, client))
        {
            client.Dispose();
            throw new InvalidOperationException($"app id '{appId}' is registered already");
        }
    }

    private void MapInvoke(WebApplication host)
    {
        host.Map("/v1.0/invoke/{appId}/method/{**method}", InvokeAsync);
        host.Map("/v1.0/invoke/{appId}/method", (HttpContext context) =>
            ErrorAsync(context, StatusCodes.Status400BadRequest, "ERR_DIRECT_INVOKE", "method name not given"));
    }

    private async Task InvokeAsync(HttpContext context, string appId, string? method)
    {
        if (string.IsNullOrEmpty(method))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "ERR_DIRECT_INVOKE", "method name not given");
            return;
        }

        if (!_services.TryGetValue(appId, out HttpClient? app))
        {
            await ErrorAsync(context, StatusCodes.Status500InternalServerError, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: couldn't find service: {appId}");
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), method + context.Request.QueryString.Value);
        if (context.Request.ContentLength > 0 || context.Request.Headers.ContainsKey("Transfer-Encoding"))
        {
            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            body.Position = 0;
            request.Content = new StreamContent(body);
        }

        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in context.Request.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        request.Headers.TryAddWithoutValidation("dapr-callee-app-id", appId);
        HttpResponseMessage response;
        try
        {
            response = await app.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            await ErrorAsync(context, StatusCodes.Status500InternalServerError, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: {e.Message}");
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (KeyValuePair<string, IEnumerable<string>> header in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(header.Key))
                {
                    context.Response.Headers[header.Key] = header.Value.ToArray();
                }
            }

            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}
