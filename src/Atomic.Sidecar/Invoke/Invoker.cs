using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Invoke;

/// <summary>
/// Service invocation (reference/api/service_invocation_api.md): a call for an app id goes to that app (this sidecar's
/// own, or another sidecar's on the same <see cref="SidecarNetwork"/>), to an <c>HTTPEndpoint</c> resource by name, or
/// to an absolute URL; verb, path, query, headers and body pass through, and the app's answer comes back as it is.
/// </summary>
public sealed class Invoker : IDisposable
{
    /// <summary>Headers that belong to one hop, or to the sidecar, and are not passed on.</summary>
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection", "Content-Length",
        "dapr-api-token", "dapr-app-id",
    };

    private readonly SidecarOptions _options;
    private readonly Dictionary<string, HttpEndpoint> _endpoints;
    private readonly HttpClient _http;
    private readonly ILogger<Invoker> _logger;

    public Invoker(SidecarOptions options, ILogger<Invoker> logger)
    {
        _options = options;
        _logger = logger;
        _endpoints = HttpEndpoints.LoadDirectory(options.ResourcesDirectory).ToDictionary(e => e.Name, StringComparer.Ordinal);
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The HTTPEndpoint resources read at start.</summary>
    public IReadOnlyCollection<HttpEndpoint> Endpoints => _endpoints.Values;

    /// <summary>Where a call for <paramref name="target"/> goes, the token to present there, and the headers to add.</summary>
    internal (Uri BaseUrl, string? Token, IReadOnlyList<KeyValuePair<string, string>> Headers) Resolve(string target)
    {
        if (target == _options.AppId)
        {
            return _options.AppAddress is Uri own
                ? (own, _options.AppApiToken, [])
                : throw NotFound(target, "this sidecar's app has no --app-port");
        }

        if (_options.Network is { } network && network.TryFind(target, out Uri app, out string? token))
        {
            return (app, token, []);
        }

        if (_endpoints.TryGetValue(target, out HttpEndpoint? endpoint))
        {
            return (endpoint.BaseUrl, null, endpoint.Headers);
        }

        if (Uri.TryCreate(target, UriKind.Absolute, out Uri? url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return (url, null, []);
        }

        throw NotFound(target, $"couldn't find service: {target}");
    }

    /// <summary>Forwards the incoming request to <paramref name="target"/>'s <paramref name="method"/> and copies the answer back.</summary>
    public Task ForwardAsync(HttpContext context, string target, string method)
    {
        (Uri baseUrl, string? token, IReadOnlyList<KeyValuePair<string, string>> extra) = Resolve(target);
        return ForwardToAsync(context, baseUrl, method, token, extra, target);
    }

    /// <summary>Forwards the incoming request, as it is, to another sidecar of the network (an actor its app hosts).</summary>
    public Task ForwardToSidecarAsync(HttpContext context, Uri sidecar) =>
        ForwardToAsync(context, sidecar, context.Request.Path.Value ?? "/", _options.ApiToken, [], sidecar.Authority);

    private async Task ForwardToAsync(HttpContext context, Uri baseUrl, string method, string? token, IReadOnlyList<KeyValuePair<string, string>> extra, string target)
    {
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), Combine(baseUrl, method, context.Request.QueryString.Value));
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in context.Request.Headers)
        {
            if (NotForwarded.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values) && request.Content is not null)
            {
                request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        AddSidecarHeaders(request, target, token, extra);
        using HttpResponseMessage response = await SendAsync(request, target, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach ((string name, IEnumerable<string> values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!NotForwarded.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>One call for the gRPC API's <c>InvokeService</c>: a body, its content type, verb and query; answers status, body and content type.</summary>
    public async Task<(HttpStatusCode Status, byte[] Body, string? ContentType)> InvokeAsync(
        string target, string method, HttpMethod verb, string? query, ReadOnlyMemory<byte> body, string? contentType, CancellationToken cancellationToken)
    {
        (Uri baseUrl, string? token, IReadOnlyList<KeyValuePair<string, string>> extra) = Resolve(target);
        using var request = new HttpRequestMessage(verb, Combine(baseUrl, method, string.IsNullOrEmpty(query) ? null : "?" + query.TrimStart('?')));
        if (!body.IsEmpty || verb != HttpMethod.Get)
        {
            request.Content = new ReadOnlyMemoryContent(body);
            if (!string.IsNullOrEmpty(contentType))
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        AddSidecarHeaders(request, target, token, extra);
        using HttpResponseMessage response = await SendAsync(request, target, cancellationToken).ConfigureAwait(false);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), response.Content.Headers.ContentType?.ToString());
    }

    private void AddSidecarHeaders(HttpRequestMessage request, string target, string? token, IReadOnlyList<KeyValuePair<string, string>> extra)
    {
        request.Headers.TryAddWithoutValidation("dapr-caller-app-id", _options.AppId);
        request.Headers.TryAddWithoutValidation("dapr-callee-app-id", target);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("dapr-api-token", token);
        }

        foreach ((string name, string value) in extra)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string target, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            _logger.LogWarning("invoking {Target} failed: {Message}", target, e.Message);
            throw new DaprError(500, global::Grpc.Core.StatusCode.Unavailable, ErrorCodes.DirectInvoke, $"failed to invoke, id: {target}, err: {e.Message}");
        }
    }

    private static Uri Combine(Uri baseUrl, string method, string? query)
    {
        string path = baseUrl.AbsoluteUri.TrimEnd('/') + "/" + method.TrimStart('/');
        return new Uri(string.IsNullOrEmpty(query) ? path : path + query);
    }

    private static DaprError NotFound(string target, string why) =>
        new(500, global::Grpc.Core.StatusCode.NotFound, ErrorCodes.DirectInvoke, $"failed to invoke, id: {target}, err: {why}");

    public void Dispose() => _http.Dispose();
}
