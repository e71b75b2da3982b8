using Atomic.Bsv.Primitives;
using Atomic.Identity.Certificates;

namespace Atomic.Identity.Auth;

/// <summary>
/// BRC-104: an HTTP request as the payload of a BRC-103 general message, the bytes the client signs. In order: the
/// 32-byte request id; the method; the path; the query string with its "?"; the included headers (a count, then
/// each key and value); the body. Strings and the body are varint lengths then bytes, with the length -1 for
/// absent, as @bsv/sdk 2.1.0's <c>AuthFetch</c> writes them and <c>SimplifiedFetchTransport</c> reads them.
/// </summary>
/// <param name="RequestId">32 random bytes; the response carries them back.</param>
/// <param name="Method">The HTTP method (ASCII).</param>
/// <param name="Path">The URL's path, or null when absent.</param>
/// <param name="Search">The URL's query with its leading "?", or null when there is none.</param>
/// <param name="Headers">The signed headers, in payload order.</param>
/// <param name="Body">The body, or null when absent.</param>
public sealed record AuthHttpRequest(
    byte[] RequestId,
    string Method,
    string? Path,
    string? Search,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[]? Body)
{
    private static readonly string[] MethodsWithBody = ["POST", "PUT", "PATCH", "DELETE"];

    /// <summary>
    /// The payload <c>AuthFetch</c> would sign for a fetch of <paramref name="path"/> and <paramref name="search"/>:
    /// header names lower-cased; <c>x-bsv-*</c> and <c>authorization</c> kept as they are, <c>content-type</c> cut at
    /// its first ";" and trimmed, anything else refused (as are <c>x-bsv-auth*</c>), sorted by name as JavaScript's
    /// localeCompare does. A POST, PUT, PATCH or DELETE without a body gets "{}" when the content type names
    /// application/json, and no body otherwise. An empty path is written as absent, and so is a search of "" or "?"
    /// (the WHATWG URL's <c>search</c> is empty for both).
    /// </summary>
    /// <exception cref="ArgumentException">A header AuthFetch refuses, a request id not 32 bytes, or a non-ASCII method.</exception>
    public static AuthHttpRequest Create(
        byte[] requestId,
        string method,
        string path,
        string search,
        IEnumerable<KeyValuePair<string, string>> headers,
        byte[]? body)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(method);
        var included = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in headers)
        {
            string key = name.ToLowerInvariant();
            if (key.StartsWith("x-bsv-", StringComparison.Ordinal) || key == "authorization")
            {
                if (key.StartsWith("x-bsv-auth", StringComparison.Ordinal))
                {
                    throw new ArgumentException("No BSV auth headers allowed here!", nameof(headers));
                }

                included.Add(new(key, value));
            }
            else if (key.StartsWith("content-type", StringComparison.Ordinal))
            {
                included.Add(new(key, value.Split(';')[0].Trim()));
            }
            else
            {
                throw new ArgumentException(
                    "Unsupported header in the simplified fetch implementation. Only content-type, authorization, and x-bsv-* headers are supported.",
                    nameof(headers));
            }
        }

        List<KeyValuePair<string, string>> sorted = SortByName(included);
        if (body is null && MethodsWithBody.Contains(method.ToUpperInvariant()))
        {
            bool json = sorted.Any(h => h.Key == "content-type" && h.Value.Contains("application/json", StringComparison.Ordinal));
            body = json ? "{}"u8.ToArray() : null;
        }

        var request = new AuthHttpRequest(
            requestId, method, path.Length > 0 ? path : null, search.Length > 1 ? search : null, sorted, body);
        request.Validate();
        return request;
    }

    /// <summary>The payload bytes.</summary>
    /// <exception cref="ArgumentException">The request id is not 32 bytes or the method is not ASCII.</exception>
    public byte[] ToPayload()
    {
        Validate();
        var writer = new BsvWriter();
        writer.WriteBytes(RequestId);
        // The SDK writes the method's length in UTF-16 units: equal to its UTF-8 length for ASCII, the only kind allowed.
        PayloadCodec.WriteBytesOrAbsent(writer, JsText.EncodeUtf8(Method));
        PayloadCodec.WriteBytesOrAbsent(writer, Path is null ? null : JsText.EncodeUtf8(Path));
        PayloadCodec.WriteBytesOrAbsent(writer, Search is null ? null : JsText.EncodeUtf8(Search));
        WriteHeaders(writer, Headers);
        PayloadCodec.WriteBytesOrAbsent(writer, Body);
        return writer.ToArray();
    }

    /// <summary>
    /// Reads a request payload. As in @bsv/sdk, a missing or empty method reads as GET; strings are decoded as
    /// JavaScript's TextDecoder does. Unlike it, bytes after the body are refused.
    /// </summary>
    /// <exception cref="AuthPayloadException">Truncated, a length that does not fit, or bytes left over.</exception>
    public static AuthHttpRequest Parse(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var reader = new PayloadCodec.Reader(payload, "request payload");
        byte[] requestId = reader.Read(32, "request id");
        byte[]? method = reader.ReadBytesOrAbsent("method");
        byte[]? path = reader.ReadBytesOrAbsent("path");
        byte[]? search = reader.ReadBytesOrAbsent("search");
        List<KeyValuePair<string, string>> headers = ReadHeaders(reader);
        byte[]? body = reader.ReadBytesOrAbsent("body");
        reader.EnsureAtEnd();
        return new AuthHttpRequest(
            requestId,
            method is { Length: > 0 } ? JsText.DecodeUtf8(method) : "GET",
            path is null ? null : JsText.DecodeUtf8(path),
            search is null ? null : JsText.DecodeUtf8(search),
            headers,
            body);
    }

    internal static List<KeyValuePair<string, string>> SortByName(IEnumerable<KeyValuePair<string, string>> headers) =>
        [.. headers.OrderBy(h => h.Key, FieldNameOrder.Instance)];

    internal static void WriteHeaders(BsvWriter writer, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        PayloadCodec.WriteLength(writer, headers.Count);
        foreach (var (key, value) in headers)
        {
            PayloadCodec.WriteBytesOrAbsent(writer, JsText.EncodeUtf8(key));
            PayloadCodec.WriteBytesOrAbsent(writer, JsText.EncodeUtf8(value));
        }
    }

    internal static List<KeyValuePair<string, string>> ReadHeaders(PayloadCodec.Reader reader)
    {
        long count = reader.ReadNumber("header count");
        var headers = new List<KeyValuePair<string, string>>();
        for (long i = 0; i < count; i++)
        {
            string key = JsText.DecodeUtf8(reader.Read(reader.ReadLength("header name"), "header name"));
            string value = JsText.DecodeUtf8(reader.Read(reader.ReadLength("header value"), "header value"));
            headers.Add(new(key, value));
        }

        return headers;
    }

    private void Validate()
    {
        if (RequestId is not { Length: 32 })
        {
            throw new ArgumentException("the request id is 32 bytes", nameof(RequestId));
        }

        if (Method is null || !Method.All(char.IsAscii))
        {
            throw new ArgumentException("the method must be ASCII", nameof(Method));
        }

        ArgumentNullException.ThrowIfNull(Headers);
    }
}
