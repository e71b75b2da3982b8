using System.Net;
using Atomic.Sidecar.AppChannel;
using Atomic.Sidecar.Http;
using Atomic.Sidecar.Resiliency;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace Atomic.Sidecar.Invoke;

/// <summary>
/// Service invocation (reference/api/service_invocation_api.md): a call for an app id goes to that app (this sidecar's
/// own, or another sidecar's on the same <see cref="SidecarNetwork"/>), to an <c>HTTPEndpoint</c> resource by name, or
/// to an absolute URL; verb, path, query, headers and body pass through, and the app's answer comes back as it is.
/// The Resiliency policy of <c>spec.targets.apps.{target}</c> applies (timeout, retry, circuit breaker), and a call to
/// an app whose health checks failed is refused.
/// </summary>
public sealed class Invoker : IDisposable
{
    /// <summary>Go's message for a context that ran out of time, which daprd passes on for a timeout.</summary>
    internal const string DeadlineExceeded = "context deadline exceeded";

    /// <summary>daprd's message (ErrAppUnhealthy) for a call to an app its health checks found unhealthy.</summary>
    internal const string AppUnhealthy = "app is not in a healthy state";

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
    private readonly SidecarResiliency _resiliency;
    private readonly AppHealth _health;

    public Invoker(SidecarOptions options, SidecarResiliency resiliency, AppHealth health, ILogger<Invoker> logger)
    {
        _options = options;
        _resiliency = resiliency;
        _health = health;
        _logger = logger;
        _endpoints = HttpEndpoints.LoadDirectory(options.ResourcesDirectory).ToDictionary(e => e.Name, StringComparer.Ordinal);
        _http = options.CreateAppClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        }); // no timeout of its own: per call, through a token
    }

    /// <summary>The HTTPEndpoint resources read at start.</summary>
    public IReadOnlyCollection<HttpEndpoint> Endpoints => _endpoints.Values;

    /// <summary>
    /// Where a call for <paramref name="target"/> goes, the token to present there, the headers to add, the key of its
    /// circuit breaker (daprd's: <c>{app}:{method}</c>, an HTTPEndpoint's <c>{name}:{baseUrl}</c>, a URL's
    /// <c>{url}/{method}</c>), and whether the app there is healthy.
    /// </summary>
    internal Destination Resolve(string target, string method)
    {
        if (target == _options.AppId)
        {
            return _options.AppAddress is Uri own
                ? new(own, _options.AppApiToken, [], $"{target}:{method}", () => _health.IsHealthy)
                : throw NotFound(target, "this sidecar's app has no --app-port");
        }

        if (_options.Network is { } network && network.TryFind(target, out Uri app, out string? token, out Func<bool> healthy))
        {
            return new(app, token, [], $"{target}:{method}", healthy);
        }

        if (_endpoints.TryGetValue(target, out HttpEndpoint? endpoint))
        {
            return new(endpoint.BaseUrl, null, endpoint.Headers, $"{target}:{endpoint.BaseUrl}", null);
        }

        if (Uri.TryCreate(target, UriKind.Absolute, out Uri? url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return new(url, null, [], $"{target}/{method}", null);
        }

        throw NotFound(target, $"couldn't find service: {target}");
    }

    /// <summary>
    /// Forwards the incoming request to <paramref name="target"/>'s <paramref name="method"/> under the target's
    /// Resiliency policy and copies the answer back. The body is kept for a retry when its length is known; a streamed
    /// body (no <c>Content-Length</c>) is sent once, as daprd does.
    /// </summary>
    public async Task ForwardAsync(HttpContext context, string target, string method)
    {
        Destination destination = Resolve(target, method);
        TargetPolicy policy = _resiliency.App(target, destination.BreakerKey);
        bool hasBody = context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0;
        bool replayable = context.Request.ContentLength is not null || !hasBody;
        byte[]? body = hasBody && replayable && policy.Retry is not null ? await DaprHttp.ReadBodyAsync(context).ConfigureAwait(false) : null;
        using HttpResponseMessage response = await CallAsync(
            destination,
            target,
            policy,
            () =>
            {
                var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), Combine(destination.BaseUrl, method, context.Request.QueryString.Value));
                if (body is not null)
                {
                    request.Content = new ByteArrayContent(body);
                }
                else if (hasBody)
                {
                    request.Content = new StreamContent(context.Request.Body);
                }

                CopyHeaders(context, request);
                return request;
            },
            replayable,
            context.RequestAborted).ConfigureAwait(false);
        await CopyAnswerAsync(context, response).ConfigureAwait(false);
    }

    /// <summary>Forwards the incoming request, as it is, to another sidecar of the network (an actor its app hosts).</summary>
    public async Task ForwardToSidecarAsync(HttpContext context, Uri sidecar)
    {
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), Combine(sidecar, context.Request.Path.Value ?? "/", context.Request.QueryString.Value));
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        CopyHeaders(context, request);
        AddSidecarHeaders(request, sidecar.Authority, _options.ApiToken, []);
        using HttpResponseMessage response = await SendOnceAsync(request, sidecar.Authority, context.RequestAborted).ConfigureAwait(false);
        await CopyAnswerAsync(context, response).ConfigureAwait(false);
    }

    /// <summary>One call for the gRPC API's <c>InvokeService</c>: a body, its content type, verb and query; answers status, body and content type.</summary>
    public async Task<(HttpStatusCode Status, byte[] Body, string? ContentType)> InvokeAsync(
        string target, string method, HttpMethod verb, string? query, ReadOnlyMemory<byte> body, string? contentType, CancellationToken cancellationToken)
    {
        Destination destination = Resolve(target, method);
        TargetPolicy policy = _resiliency.App(target, destination.BreakerKey);
        using HttpResponseMessage response = await CallAsync(
            destination,
            target,
            policy,
            () =>
            {
                var request = new HttpRequestMessage(verb, Combine(destination.BaseUrl, method, string.IsNullOrEmpty(query) ? null : "?" + query.TrimStart('?')));
                if (!body.IsEmpty || verb != HttpMethod.Get)
                {
                    request.Content = new ReadOnlyMemoryContent(body);
                    if (!string.IsNullOrEmpty(contentType))
                    {
                        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                    }
                }

                return request;
            },
            replayable: true,
            cancellationToken).ConfigureAwait(false);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), response.Content.Headers.ContentType?.ToString());
    }

    /// <summary>
    /// The call under <paramref name="policy"/>: a transport failure, a timeout or an answer outside 200–399 is a failed
    /// attempt (retried as the policy says, counted by its circuit breaker); once the retries are spent the last
    /// answer is returned as it is, and the failures become daprd's 500 <c>ERR_DIRECT_INVOKE</c>.
    /// </summary>
    private async Task<HttpResponseMessage> CallAsync(
        Destination destination, string target, TargetPolicy policy, Func<HttpRequestMessage> build, bool replayable, CancellationToken cancellationToken)
    {
        if (destination.Healthy is { } healthy && !healthy())
        {
            throw Failed(target, global::Grpc.Core.StatusCode.Internal, AppUnhealthy);
        }

        var requests = new List<HttpRequestMessage>(1);
        try
        {
            return await policy.ExecuteAsync(
                async attempt =>
                {
                    HttpRequestMessage request = build();
                    requests.Add(request);
                    AddSidecarHeaders(request, target, destination.Token, destination.Headers);
                    HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt).ConfigureAwait(false);
                    return policy.IsEmpty || (int)response.StatusCode is >= 200 and <= 399
                        ? response
                        : throw new AttemptFailedException((int)response.StatusCode, response);
                },
                cancellationToken,
                retry: replayable).ConfigureAwait(false);
        }
        catch (AttemptFailedException failed)
        {
            return (HttpResponseMessage)failed.Answer!; // daprd answers the app's own error once the retries are spent
        }
        catch (HttpRequestException e)
        {
            _logger.LogWarning("invoking {Target} failed: {Message}", target, e.Message);
            throw Failed(target, global::Grpc.Core.StatusCode.Unavailable, e.Message);
        }
        catch (TimeoutRejectedException)
        {
            throw Failed(target, global::Grpc.Core.StatusCode.DeadlineExceeded, DeadlineExceeded);
        }
        catch (CircuitBrokenException e)
        {
            throw Failed(target, global::Grpc.Core.StatusCode.Unavailable, e.Message);
        }
        finally
        {
            foreach (HttpRequestMessage request in requests)
            {
                request.Dispose();
            }
        }
    }

    private static void CopyHeaders(HttpContext context, HttpRequestMessage request)
    {
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
    }

    private static async Task CopyAnswerAsync(HttpContext context, HttpResponseMessage response)
    {
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

    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, string target, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            _logger.LogWarning("invoking {Target} failed: {Message}", target, e.Message);
            throw Failed(target, global::Grpc.Core.StatusCode.Unavailable, e.Message);
        }
    }

    private static Uri Combine(Uri baseUrl, string method, string? query)
    {
        string path = baseUrl.AbsoluteUri.TrimEnd('/') + "/" + method.TrimStart('/');
        return new Uri(string.IsNullOrEmpty(query) ? path : path + query);
    }

    private static DaprError NotFound(string target, string why) => Failed(target, global::Grpc.Core.StatusCode.NotFound, why);

    /// <summary>daprd's ERR_DIRECT_INVOKE: 500, <c>failed to invoke, id: {target}, err: {why}</c>.</summary>
    private static DaprError Failed(string target, global::Grpc.Core.StatusCode grpc, string why) =>
        new(500, grpc, ErrorCodes.DirectInvoke, $"failed to invoke, id: {target}, err: {why}");

    public void Dispose() => _http.Dispose();
}

/// <summary>Where an invocation goes, what it presents there, its circuit breaker's key, and the app's health (null: not checked).</summary>
internal sealed record Destination(Uri BaseUrl, string? Token, IReadOnlyList<KeyValuePair<string, string>> Headers, string BreakerKey, Func<bool>? Healthy);
