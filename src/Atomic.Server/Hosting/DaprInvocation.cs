namespace Atomic.Server.Hosting;

/// <summary>
/// Service invocation through the sidecar (<c>/v1.0/invoke/{app-id}/method/{method}</c>, Dapr's service invocation
/// API): a URL written <c>dapr://{app-id}/{path}</c> in configuration names a Dapr app, or an <c>HTTPEndpoint</c>
/// resource for a service outside Dapr, and resolves to the sidecar's invoke URL for it. Calls made that way go through
/// the sidecar, so its resiliency policy for that target, its tracing and its access control apply.
/// </summary>
internal static class DaprInvocation
{
    /// <summary>The scheme of a configured URL that names an app id instead of a host.</summary>
    public const string Scheme = "dapr";

    private const string Prefix = Scheme + "://";

    /// <summary>Whether <paramref name="url"/> is written <c>dapr://…</c>.</summary>
    public static bool IsInvocationUrl(string? url) => url is not null && url.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// <c>dapr://{app-id}/{path}?{query}</c> → <c>{sidecar}/v1.0/invoke/{app-id}/method/{path}?{query}</c>, with no
    /// trailing slash, so a client appends its own paths (<c>/v1/tx</c>) to it. Throws <see cref="FormatException"/>
    /// naming what is wrong when the app id is missing or not a Dapr app id, or the URL carries a port, user or fragment.
    /// </summary>
    public static Uri Resolve(string url, DaprOptions options)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(options);
        if (!IsInvocationUrl(url))
        {
            throw new FormatException($"'{url}' is not a {Prefix}{{app-id}}/{{path}} URL");
        }

        (string appId, string tail) = Split(url);
        if (!IsAppId(appId))
        {
            throw new FormatException($"'{url}': '{appId}' is not a Dapr app id (letters, digits, '-', '_' and '.' for a namespace, at most 253)");
        }

        if (tail.Contains('#', StringComparison.Ordinal))
        {
            throw new FormatException($"'{url}': a service invocation URL has no fragment");
        }

        string path = tail, query = string.Empty;
        int q = tail.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            path = tail[..q];
            query = tail[q..];
        }

        path = path.Trim('/');
        string baseAddress = DaprOptions.WithTrailingSlash(options.HttpEndpoint).AbsoluteUri;
        string resolved = $"{baseAddress}v1.0/invoke/{appId}/method{(path.Length == 0 ? string.Empty : "/" + path)}{query}";
        return Uri.TryCreate(resolved, UriKind.Absolute, out Uri? uri)
            ? uri
            : throw new FormatException($"'{url}' does not make a valid invoke URL ('{resolved}')");
    }

    /// <summary>The app id or <c>HTTPEndpoint</c> name a <c>dapr://</c> URL names.</summary>
    public static string AppIdOf(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return IsInvocationUrl(url) ? Split(url).AppId : throw new FormatException($"'{url}' is not a {Prefix}{{app-id}}/{{path}} URL");
    }

    /// <summary>Read by hand: <see cref="Uri"/> lowercases the host, and an app id is matched as written.</summary>
    private static (string AppId, string Tail) Split(string url)
    {
        string rest = url[Prefix.Length..];
        int end = rest.IndexOfAny(['/', '?', '#']);
        return end < 0 ? (rest, string.Empty) : (rest[..end], rest[end..]);
    }

    private static bool IsAppId(string appId)
    {
        if (appId.Length is 0 or > 253 || appId[0] is '.' or '-' || appId[^1] is '.' or '-')
        {
            return false;
        }

        foreach (char c in appId)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// Sends <c>dapr-api-token</c> (<see cref="DaprOptions.ApiToken"/>) on requests to the sidecar only: a client that
/// calls some endpoints through service invocation and others directly never hands the sidecar's token to a third party.
/// </summary>
internal sealed class DaprApiTokenHandler(DaprOptions options) : DelegatingHandler
{
    private readonly Uri _sidecar = DaprOptions.WithTrailingSlash(options.HttpEndpoint);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (options.ApiToken is not null && IsSidecar(request.RequestUri))
        {
            request.Headers.Remove(DaprOptions.TokenHeader);
            request.Headers.TryAddWithoutValidation(DaprOptions.TokenHeader, options.ApiToken);
        }

        return base.SendAsync(request, cancellationToken);
    }

    private bool IsSidecar(Uri? uri) =>
        uri is not null && uri.IsAbsoluteUri
        && string.Equals(uri.Scheme, _sidecar.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.IdnHost, _sidecar.IdnHost, StringComparison.OrdinalIgnoreCase)
        && uri.Port == _sidecar.Port
        && uri.AbsolutePath.StartsWith(_sidecar.AbsolutePath, StringComparison.Ordinal);
}
