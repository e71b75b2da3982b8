using Atomic.Bsv.Primitives;

namespace Atomic.Identity.Auth;

/// <summary>
/// BRC-104: an HTTP response as the payload of the server's general message, the bytes the server signs. In order:
/// the request id it answers (32 bytes); the status as a varint; the included headers (a count, then each key and
/// value, varint-length UTF-8); the body's length and bytes (0 when empty). This is the payload @bsv/sdk 2.1.0's
/// <c>SimplifiedFetchTransport</c> rebuilds from a response to check the server's signature.
/// </summary>
/// <param name="RequestId">The request's 32-byte id.</param>
/// <param name="Status">The HTTP status.</param>
/// <param name="Headers">The signed headers, in payload order.</param>
/// <param name="Body">The body (empty when there is none).</param>
public sealed record AuthHttpResponse(
    byte[] RequestId,
    int Status,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[] Body)
{
    /// <summary>
    /// The payload for a response with these headers: names lower-cased, only <c>x-bsv-*</c> (not
    /// <c>x-bsv-auth*</c>) and <c>authorization</c> kept, values trimmed, repeated names joined with ", " as fetch's
    /// Headers does, sorted by name as JavaScript's localeCompare does.
    /// </summary>
    public static AuthHttpResponse Create(
        byte[] requestId, int status, IEnumerable<KeyValuePair<string, string>> headers, byte[]? body)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var included = headers
            .Select(h => (Key: h.Key.ToLowerInvariant(), Value: h.Value.Trim(' ', '\t', '\r', '\n')))
            .Where(h => (h.Key.StartsWith("x-bsv-", StringComparison.Ordinal) || h.Key == "authorization")
                && !h.Key.StartsWith("x-bsv-auth", StringComparison.Ordinal))
            .GroupBy(h => h.Key, StringComparer.Ordinal)
            .Select(g => new KeyValuePair<string, string>(g.Key, string.Join(", ", g.Select(h => h.Value))));
        var response = new AuthHttpResponse(requestId, status, AuthHttpRequest.SortByName(included), body ?? []);
        response.Validate();
        return response;
    }

    /// <summary>The payload bytes.</summary>
    /// <exception cref="ArgumentException">The request id is not 32 bytes or the status is negative.</exception>
    public byte[] ToPayload()
    {
        Validate();
        var writer = new BsvWriter();
        writer.WriteBytes(RequestId);
        PayloadCodec.WriteLength(writer, Status);
        AuthHttpRequest.WriteHeaders(writer, Headers);
        PayloadCodec.WriteLength(writer, Body.Length);
        writer.WriteBytes(Body);
        return writer.ToArray();
    }

    /// <summary>Reads a response payload; a body length of -1 reads as empty, as in @bsv/sdk.</summary>
    /// <exception cref="AuthPayloadException">Truncated, a length that does not fit, or bytes left over.</exception>
    public static AuthHttpResponse Parse(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var reader = new PayloadCodec.Reader(payload, "response payload");
        byte[] requestId = reader.Read(32, "request id");
        long status = reader.ReadNumber("status");
        if (status is < 0 or > int.MaxValue)
        {
            throw new AuthPayloadException($"response payload: status {status} is out of range", 32);
        }

        List<KeyValuePair<string, string>> headers = AuthHttpRequest.ReadHeaders(reader);
        byte[] body = reader.ReadBytesOrAbsent("body") ?? [];
        reader.EnsureAtEnd();
        return new AuthHttpResponse(requestId, (int)status, headers, body);
    }

    private void Validate()
    {
        if (RequestId is not { Length: 32 })
        {
            throw new ArgumentException("the request id is 32 bytes", nameof(RequestId));
        }

        if (Status < 0)
        {
            throw new ArgumentException("the status cannot be negative", nameof(Status));
        }

        ArgumentNullException.ThrowIfNull(Headers);
        ArgumentNullException.ThrowIfNull(Body);
    }
}
