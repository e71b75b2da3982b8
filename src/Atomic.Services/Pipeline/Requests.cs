using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Atomic.Services.Pipeline;

/// <summary>Reading requests the same way in every feature: bounded bodies, lists of names in headers, txids and topic names.</summary>
public static class Requests
{
    /// <summary>A txid as routes take it: 64 hex characters.</summary>
    public static bool IsTxId(string? txid) => Outpoints.IsTxId(txid);

    internal static string NormalizeTopic(string topic)
    {
        string t = topic.Trim();
        return t.StartsWith("tm_", StringComparison.Ordinal) && t.Length <= 64 && !t.Contains("||", StringComparison.Ordinal)
            ? t
            : throw new ArgumentException($"'{topic}' is not a topic name (tm_ followed by the protocol's name)");
    }

    /// <summary>A header holding a JSON array of names, normalized and deduplicated.</summary>
    internal static (IReadOnlyList<string> Values, string? Error) ReadTargets(HttpRequest request, string header, int max, Func<string, string> normalize)
    {
        string? raw = request.Headers[header];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return ([], null);
        }

        try
        {
            string[]? names = JsonSerializer.Deserialize<string[]>(raw);
            if (names is null || names.Length > max)
            {
                return ([], $"{header} must be a JSON array of at most {max} names");
            }

            var result = new List<string>(names.Length);
            foreach (string name in names)
            {
                string normalized = normalize(name ?? throw new ArgumentException("a name cannot be null"));
                if (!result.Contains(normalized))
                {
                    result.Add(normalized);
                }
            }

            return (result, null);
        }
        catch (JsonException)
        {
            return ([], $"{header} must be a JSON array of strings, such as [\"tm_tokens\"]");
        }
        catch (ArgumentException e)
        {
            return ([], $"{header}: {e.Message}");
        }
    }

    /// <summary>
    /// The whole body, or null once it passes <paramref name="limit"/> bytes (read no further). The route's limit, not
    /// Kestrel's <c>MaxRequestBodySize</c>, decides: it replaces the server's for this request, and the server's refusal
    /// while reading is the same null.
    /// </summary>
    internal static async Task<byte[]?> ReadBoundedAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        try
        {
            return await ReadBoundedAsync(request.BodyReader, limit, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
    }

    /// <summary>The whole body, or null once it passes <paramref name="limit"/> bytes (read no further).</summary>
    internal static async Task<byte[]?> ReadBoundedAsync(PipeReader reader, int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                byte[] body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public static string? MediaType(HttpRequest request) => request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();

    /// <summary>A bounded JSON body read as <typeparamref name="T"/>, or the problem to answer.</summary>
    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadJsonAsync<T>(HttpRequest request, OverlayOptions options, CancellationToken cancellationToken)
        where T : class
    {
        string? mediaType = MediaType(request);
        if (mediaType is not (null or "application/json"))
        {
            return (null, Problems.Of(StatusCodes.Status415UnsupportedMediaType, Problems.RequestInvalid, $"send application/json, not {mediaType}"));
        }

        byte[]? body = await ReadBoundedAsync(request, options.MaxJsonBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return (null, Problems.Of(StatusCodes.Status413PayloadTooLarge, ReasonCodes.LimitExceeded, $"the body exceeds {options.MaxJsonBytes} bytes"));
        }

        try
        {
            T? value = JsonSerializer.Deserialize<T>(body, TxRecords.Json);
            return value is null
                ? (null, Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "the body must be a JSON object"))
                : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, $"the body is not the JSON expected: {e.Message}"));
        }
    }
}
