using System.Buffers;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Atomic.DevChain.Apis;

/// <summary>A request body read whole, or the problem that stopped it (too large, unreadable).</summary>
internal readonly record struct BodyRead(byte[] Bytes, ProblemHttpResult? Problem);

/// <summary>A request body read whole and parsed as JSON, or the problem that stopped it (too large, unreadable, not JSON).</summary>
internal readonly record struct JsonRead(JsonDocument? Document, ProblemHttpResult? Problem);

/// <summary>Reads request bodies within the configured size limit, and the JSON and hex inside them.</summary>
internal static class RequestBody
{
    public const string Json = "application/json";
    public const string Text = "text/plain";
    public const string Binary = "application/octet-stream";

    /// <summary>The body's bytes; past <paramref name="maxBytes"/> a 413 problem with <c>LIMIT_EXCEEDED</c>.</summary>
    public static async Task<BodyRead> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return TooLarge(maxBytes);
        }

        // Let this route's limit, not the server's default, decide (the server may be configured lower or higher).
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        try
        {
            return request.ContentLength is long length
                ? await ReadExactlyAsync(request.Body, (int)length, cancellationToken).ConfigureAwait(false)
                : await ReadToEndAsync(request.Body, maxBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(maxBytes);
        }
        catch (BadHttpRequestException e)
        {
            return new BodyRead([], Problems.BadRequest($"the request body could not be read: {e.Message}"));
        }
    }

    /// <summary>A body of a declared length, read into an array of that size (no chunk and no copy).</summary>
    private static async Task<BodyRead> ReadExactlyAsync(Stream body, int length, CancellationToken cancellationToken)
    {
        byte[] bytes = length == 0 ? [] : new byte[length];
        int filled = 0;
        while (filled < length)
        {
            int read = await body.ReadAsync(bytes.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return new BodyRead([], Problems.BadRequest($"the request body ended after {filled} of its {length} bytes"));
            }

            filled += read;
        }

        return new BodyRead(bytes, null);
    }

    /// <summary>A body of no declared length (chunked), read through a pooled chunk until it ends or passes <paramref name="maxBytes"/>.</summary>
    private static async Task<BodyRead> ReadToEndAsync(Stream body, int maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return TooLarge(maxBytes);
                }

                buffer.Write(chunk, 0, read);
            }

            return new BodyRead(buffer.ToArray(), null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>The body (within <paramref name="maxBytes"/>) as one JSON value; the caller disposes the document.</summary>
    public static async Task<JsonRead> ReadJsonAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        BodyRead body = await ReadAsync(request, maxBytes, cancellationToken).ConfigureAwait(false);
        if (body.Problem is not null)
        {
            return new JsonRead(null, body.Problem);
        }

        return TryParseJson(body.Bytes, out JsonDocument? document, out string error)
            ? new JsonRead(document, null)
            : new JsonRead(null, Problems.BadRequest(error));
    }

    /// <summary>The media type of the request without parameters, lower case; empty when none is given.</summary>
    public static string MediaType(HttpRequest request) =>
        (request.ContentType ?? string.Empty).Split(';')[0].Trim().ToLowerInvariant();

    /// <summary>Parses JSON; false with a reason when the bytes are not one JSON value.</summary>
    public static bool TryParseJson(byte[] body, out JsonDocument? document, out string error)
    {
        try
        {
            document = JsonDocument.Parse(body);
            error = string.Empty;
            return true;
        }
        catch (JsonException e)
        {
            document = null;
            error = $"the body is not JSON: {e.Message}";
            return false;
        }
    }

    /// <summary>Decodes hex text (surrounding whitespace ignored); false when it is empty or not hex.</summary>
    public static bool TryDecodeHex(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null)
        {
            return false;
        }

        ReadOnlySpan<char> trimmed = text.AsSpan().Trim();
        return trimmed.Length > 0 && Hex.TryDecode(trimmed, out bytes);
    }

    private static BodyRead TooLarge(int maxBytes) => new([], Problems.Problem(
        StatusCodes.Status413PayloadTooLarge, Bsv.Primitives.ReasonCodes.LimitExceeded, $"the request body exceeds {maxBytes} bytes"));
}
