using System.Globalization;

namespace Atomic.Server.Hosting;

/// <summary>
/// Where the Dapr sidecar is and the two shared tokens, read from the variables daprd and the Dapr CLI set
/// (<c>DAPR_HTTP_ENDPOINT</c>, <c>DAPR_HTTP_PORT</c>, <c>DAPR_GRPC_PORT</c>, <c>DAPR_API_TOKEN</c>, <c>APP_API_TOKEN</c>).
/// </summary>
internal sealed record DaprOptions
{
    /// <summary>The sidecar's HTTP port when no endpoint is given (Dapr's default).</summary>
    public const int DefaultHttpPort = 3500;

    /// <summary>The sidecar's gRPC port when none is given (Dapr's default).</summary>
    public const int DefaultGrpcPort = 50001;

    /// <summary>The header carrying a token, both ways: app → sidecar (<c>DAPR_API_TOKEN</c>) and sidecar → app (<c>APP_API_TOKEN</c>).</summary>
    public const string TokenHeader = "dapr-api-token";

    /// <summary>The sidecar's HTTP API base address, ending in <c>/</c>.</summary>
    public Uri HttpEndpoint { get; init; } = new($"http://127.0.0.1:{DefaultHttpPort}/");

    /// <summary>The sidecar's gRPC port, where the workflow worker opens GetWorkItems.</summary>
    public int GrpcPort { get; init; } = DefaultGrpcPort;

    /// <summary>Sent as <c>dapr-api-token</c> on every call to the sidecar, when set.</summary>
    public string? ApiToken { get; init; }

    /// <summary>Required as <c>dapr-api-token</c> on every callback from the sidecar, when set.</summary>
    public string? AppApiToken { get; init; }

    /// <summary>The largest response body read from the sidecar.</summary>
    public long MaxResponseBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Reads the variables; <c>DAPR_HTTP_ENDPOINT</c> wins over <c>DAPR_HTTP_PORT</c>. A malformed value is an
    /// <see cref="ArgumentException"/> naming the variable, never a silent default.
    /// </summary>
    public static DaprOptions FromEnvironment(Func<string, string?>? variable = null)
    {
        variable ??= Environment.GetEnvironmentVariable;
        Uri endpoint;
        if (NonEmpty(variable("DAPR_HTTP_ENDPOINT")) is string given)
        {
            if (!Uri.TryCreate(given, UriKind.Absolute, out Uri? parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"DAPR_HTTP_ENDPOINT '{given}' is not an absolute http(s) URL");
            }

            endpoint = WithTrailingSlash(parsed);
        }
        else
        {
            endpoint = new Uri($"http://127.0.0.1:{Port(variable, "DAPR_HTTP_PORT", DefaultHttpPort)}/");
        }

        return new DaprOptions
        {
            HttpEndpoint = endpoint,
            GrpcPort = Port(variable, "DAPR_GRPC_PORT", DefaultGrpcPort),
            ApiToken = NonEmpty(variable("DAPR_API_TOKEN")),
            AppApiToken = NonEmpty(variable("APP_API_TOKEN")),
        };
    }

    /// <summary>The base address with a trailing slash, so relative URL templates append to its path.</summary>
    public static Uri WithTrailingSlash(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }

    private static int Port(Func<string, string?> variable, string name, int fallback)
    {
        if (NonEmpty(variable(name)) is not string text)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535
            ? port
            : throw new ArgumentException($"{name} '{text}' is not a TCP port");
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
