using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atomic.Runtime.Dapr;

/// <summary>The one HTTP client to the sidecar, and how its error answers become exceptions.</summary>
public static class DaprSidecar
{
    /// <summary>The largest error body read into an exception message.</summary>
    private const int MaxErrorBytes = 16 * 1024;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    /// <summary>An <see cref="HttpClient"/> whose <c>BaseAddress</c> is the sidecar and which sends <c>dapr-api-token</c> when one is set.</summary>
    public static HttpClient CreateHttpClient(DaprOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        client.BaseAddress = DaprOptions.WithTrailingSlash(options.HttpEndpoint);
        client.MaxResponseContentBufferSize = options.MaxResponseBytes;
        if (options.ApiToken is not null)
        {
            client.DefaultRequestHeaders.Add(DaprOptions.TokenHeader, options.ApiToken);
        }

        return client;
    }

    /// <summary>Throws <see cref="DaprSidecarException"/> for any status but <paramref name="expected"/>.</summary>
    internal static async Task EnsureAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken, params HttpStatusCode[] expected)
    {
        if (Array.IndexOf(expected, response.StatusCode) < 0)
        {
            throw await FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The sidecar's error answer (<c>{"errorCode", "message"}</c>) as an exception.</summary>
    internal static async Task<DaprSidecarException> FailureAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        ReadOnlySpan<byte> bounded = body.AsSpan(0, Math.Min(body.Length, MaxErrorBytes));
        string? errorCode = null, message = null;
        try
        {
            DaprError? error = JsonSerializer.Deserialize<DaprError>(bounded, Json);
            errorCode = error?.ErrorCode;
            message = error?.Message;
        }
        catch (JsonException)
        {
            message = System.Text.Encoding.UTF8.GetString(bounded);
        }

        return new DaprSidecarException(operation, response.StatusCode, errorCode, message);
    }

    private sealed record DaprError(
        [property: JsonPropertyName("errorCode")] string? ErrorCode,
        [property: JsonPropertyName("message")] string? Message);
}

/// <summary>The sidecar refused or failed a call: the status, Dapr's <c>errorCode</c> and its message.</summary>
public sealed class DaprSidecarException(string operation, HttpStatusCode statusCode, string? errorCode, string? detail)
    : Exception($"Dapr sidecar: {operation} answered {(int)statusCode} {errorCode}: {detail}")
{
    public string Operation { get; } = operation;

    public HttpStatusCode StatusCode { get; } = statusCode;

    public string? ErrorCode { get; } = errorCode;
}
