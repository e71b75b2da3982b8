using System.Globalization;
using System.Net.Http.Headers;
using Atomic.Sidecar.Components;

namespace Atomic.Sidecar.Bindings;

/// <summary>What an output binding answered: its data (the response body) and metadata (status and headers).</summary>
public sealed record BindingResponse(byte[] Data, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Dapr's <c>bindings.http</c> output binding: each invocation is one HTTP request to <c>url</c> (plus the invocation's
/// <c>path</c> metadata), the operation naming the verb (<c>create</c> posts); metadata whose name begins with a capital
/// letter goes as a request header, and <c>securityToken</c> under <c>securityTokenHeader</c>. The answer's body is the
/// response data, its <c>statusCode</c>, <c>status</c> and headers the response metadata; a status outside 2xx is an
/// error unless <c>errorIfNot2XX</c> is false.
/// </summary>
internal sealed class HttpOutputBinding : IDisposable
{
    /// <summary>The operations the binding serves, and the verb of each.</summary>
    public static readonly IReadOnlyDictionary<string, HttpMethod> Operations = new Dictionary<string, HttpMethod>(StringComparer.Ordinal)
    {
        ["create"] = HttpMethod.Post,
        ["post"] = HttpMethod.Post,
        ["get"] = HttpMethod.Get,
        ["head"] = HttpMethod.Head,
        ["put"] = HttpMethod.Put,
        ["patch"] = HttpMethod.Patch,
        ["delete"] = HttpMethod.Delete,
        ["options"] = HttpMethod.Options,
        ["trace"] = HttpMethod.Trace,
    };

    private readonly HttpClient _http;
    private readonly string _url;
    private readonly string? _tokenHeader;
    private readonly string? _token;
    private readonly bool _errorIfNot2xx;
    private readonly long _maxResponseBytes;

    public HttpOutputBinding(ComponentDefinition component, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(component);
        Name = component.Name;
        string url = component.Require("url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? parsed) || parsed.Scheme is not ("http" or "https"))
        {
            throw new ComponentException(component.File, "spec.metadata.url", $"'{url}' is not an absolute http(s) URL");
        }

        _url = url.TrimEnd('/');
        _token = component.Get("securityToken");
        _tokenHeader = component.Get("securityTokenHeader");
        if (_token is not null && string.IsNullOrWhiteSpace(_tokenHeader))
        {
            throw new ComponentException(component.File, "spec.metadata.securityTokenHeader", "securityToken needs the header to send it in");
        }

        _errorIfNot2xx = component.Get("errorIfNot2XX") is not string strict || (bool.TryParse(strict, out bool value)
            ? value
            : throw new ComponentException(component.File, "spec.metadata.errorIfNot2XX", $"'{strict}' is not true or false"));
        _maxResponseBytes = component.Get("maxResponseBodySize") is string size
            ? ParseSize(size) ?? throw new ComponentException(component.File, "spec.metadata.maxResponseBodySize", $"'{size}' is not a size (bytes, or with Ki, Mi, Gi, k, M, G)")
            : 100L * 1024 * 1024;
        if (component.Get("direction") is string direction && direction != "output")
        {
            throw new ComponentException(component.File, "spec.metadata.direction", $"'{direction}': bindings.http is an output binding only");
        }

        _http = new HttpClient(handler ?? new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
        {
            Timeout = Timeout.InfiniteTimeSpan, // per call, through a token and the Resiliency policy
            MaxResponseContentBufferSize = Math.Min(_maxResponseBytes, int.MaxValue),
        };
    }

    public string Name { get; }

    public async Task<BindingResponse> InvokeAsync(string operation, ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        if (!Operations.TryGetValue(operation, out HttpMethod? method))
        {
            throw new BindingException($"invalid operation type: {operation}. Expected {string.Join(", ", Operations.Keys)}");
        }

        string url = _url;
        if (metadata.TryGetValue("path", out string? path) && path.TrimStart('/') is { Length: > 0 } relative)
        {
            url += "/" + relative;
        }

        using var request = new HttpRequestMessage(method, url);
        if (method != HttpMethod.Get && method != HttpMethod.Head && (data.Length > 0 || method == HttpMethod.Post))
        {
            request.Content = new ReadOnlyMemoryContent(data);
        }

        foreach ((string name, string value) in metadata)
        {
            if (name.Length == 0 || !char.IsUpper(name[0]))
            {
                continue; // lower-case metadata (path, traceparent's own handling) is the binding's, not a header
            }

            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content ??= new ReadOnlyMemoryContent(ReadOnlyMemory<byte>.Empty);
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        foreach (string trace in (string[])["traceparent", "tracestate"])
        {
            if (metadata.TryGetValue(trace, out string? value))
            {
                request.Headers.TryAddWithoutValidation(trace, value);
            }
        }

        if (_token is not null)
        {
            request.Headers.TryAddWithoutValidation(_tokenHeader!, _token);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new BindingException($"error invoking {url}: {e.Message}", e);
        }

        using (response)
        {
            byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            var answer = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["statusCode"] = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture),
                ["status"] = $"{(int)response.StatusCode} {response.ReasonPhrase}",
            };
            foreach (KeyValuePair<string, IEnumerable<string>> header in response.Headers.Concat(response.Content.Headers))
            {
                answer[header.Key] = string.Join(", ", header.Value);
            }

            var result = new BindingResponse(body, answer);
            if (_errorIfNot2xx && !response.IsSuccessStatusCode)
            {
                throw new BindingException($"received status code {(int)response.StatusCode}", result);
            }

            return result;
        }
    }

    /// <summary>A size as Dapr's quantities write it: bytes, or a number with Ki, Mi, Gi (×1024) or k, M, G (×1000).</summary>
    internal static long? ParseSize(string text)
    {
        (string digits, long unit) = text switch
        {
            _ when text.EndsWith("Ki", StringComparison.Ordinal) => (text[..^2], 1024L),
            _ when text.EndsWith("Mi", StringComparison.Ordinal) => (text[..^2], 1024L * 1024),
            _ when text.EndsWith("Gi", StringComparison.Ordinal) => (text[..^2], 1024L * 1024 * 1024),
            _ when text.EndsWith('k') => (text[..^1], 1000L),
            _ when text.EndsWith('M') => (text[..^1], 1000L * 1000),
            _ when text.EndsWith('G') => (text[..^1], 1000L * 1000 * 1000),
            _ => (text, 1L),
        };
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 && n <= long.MaxValue / unit ? n * unit : null;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>An output binding's refusal or failure; daprd answers it 500 <c>ERR_INVOKE_OUTPUT_BINDING</c>, keeping any response metadata.</summary>
public sealed class BindingException : Exception
{
    public BindingException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public BindingException(string message, BindingResponse response)
        : base(message) => Response = response;

    /// <summary>What the target answered, when it answered (the HTTP binding gives its status and headers even on an error).</summary>
    public BindingResponse? Response { get; }
}
