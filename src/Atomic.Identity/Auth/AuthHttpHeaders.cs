using System.Text.Json;
using Atomic.Bsv.Primitives;

namespace Atomic.Identity.Auth;

/// <summary>
/// BRC-104's HTTP headers, as @bsv/sdk 2.1.0's <c>SimplifiedFetchTransport</c> writes a general message onto a request
/// and reads the server's general message back from a response.
/// </summary>
public static class AuthHttpHeaders
{
    /// <summary>"x-bsv-auth-version".</summary>
    public const string Version = "x-bsv-auth-version";

    /// <summary>"x-bsv-auth-identity-key": the sender's identity key in hex.</summary>
    public const string IdentityKey = "x-bsv-auth-identity-key";

    /// <summary>"x-bsv-auth-nonce": the message nonce.</summary>
    public const string Nonce = "x-bsv-auth-nonce";

    /// <summary>"x-bsv-auth-your-nonce": the recipient's session nonce.</summary>
    public const string YourNonce = "x-bsv-auth-your-nonce";

    /// <summary>"x-bsv-auth-signature": the DER signature in hex.</summary>
    public const string Signature = "x-bsv-auth-signature";

    /// <summary>"x-bsv-auth-request-id": the request id in base64.</summary>
    public const string RequestId = "x-bsv-auth-request-id";

    /// <summary>"x-bsv-auth-message-type": "certificateRequest" when a response asks for certificates.</summary>
    public const string MessageType = "x-bsv-auth-message-type";

    /// <summary>"x-bsv-auth-requested-certificates": the requested set as JSON.</summary>
    public const string RequestedCertificates = "x-bsv-auth-requested-certificates";

    /// <summary>The headers the transport adds to the HTTP request carrying a general message, in its order.</summary>
    /// <exception cref="AuthPayloadException">Not a signed general message whose payload is a request payload.</exception>
    public static List<KeyValuePair<string, string>> ForRequest(AuthMessage general)
    {
        ArgumentNullException.ThrowIfNull(general);
        if (general.MessageType != AuthMessageType.General || general.Payload is null || general.Signature is null)
        {
            throw new AuthPayloadException("only a signed general message with a payload travels as an HTTP request");
        }

        return SignedHeaders(general, AuthHttpRequest.Parse(general.Payload).RequestId);
    }

    /// <summary>A signed general message's headers, in the transport's order, with the request id it answers or carries.</summary>
    private static List<KeyValuePair<string, string>> SignedHeaders(AuthMessage general, byte[] requestId) =>
    [
        new(Version, general.Version),
        new(IdentityKey, general.IdentityKey),
        new(Nonce, general.Nonce ?? throw new AuthPayloadException("the message has no nonce")),
        new(YourNonce, general.YourNonce ?? throw new AuthPayloadException("the message has no yourNonce")),
        new(Signature, Hex.Encode(general.Signature!)),
        new(RequestId, Convert.ToBase64String(requestId)),
    ];

    /// <summary>
    /// The general (or certificateRequest) message the transport reads from an HTTP response: the auth headers, and
    /// the response payload rebuilt from the request id header, the status, the signed headers and the body.
    /// </summary>
    /// <exception cref="AuthPayloadException">
    /// A header the transport requires is missing or blank (version, identity key, signature), or a header is garbled.
    /// </exception>
    public static AuthMessage FromResponse(int status, IEnumerable<KeyValuePair<string, string>> headers, byte[]? body)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var all = headers
            .GroupBy(h => h.Key.ToLowerInvariant(), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => string.Join(", ", g.Select(h => h.Value.Trim(' ', '\t', '\r', '\n'))), StringComparer.Ordinal);
        string[] missing = [.. new[] { Version, IdentityKey, Signature }.Where(h => !all.TryGetValue(h, out string? v) || v.Trim().Length == 0)];
        if (missing.Length > 0)
        {
            throw new AuthPayloadException($"the response lacks BSV auth headers: {string.Join(", ", missing)}");
        }

        JsonElement? requested = null;
        if (all.TryGetValue(RequestedCertificates, out string? requestedJson))
        {
            try
            {
                using JsonDocument doc = JsonDocument.Parse(requestedJson);
                requested = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new AuthPayloadException($"{RequestedCertificates} is not JSON", innerException: e);
            }
        }

        byte[] requestId = [];
        if (all.TryGetValue(RequestId, out string? id))
        {
            try
            {
                requestId = Convert.FromBase64String(id);
            }
            catch (FormatException e)
            {
                throw new AuthPayloadException($"{RequestId} is not base64", innerException: e);
            }
        }

        byte[] signature;
        try
        {
            signature = Hex.Decode(all[Signature]);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new AuthPayloadException($"{Signature} is not hex", innerException: e);
        }

        // The payload as AuthHttpResponse writes it, except that a response without a request id header has none.
        byte[] withId = AuthHttpResponse.Create(new byte[32], status, all, body).ToPayload();
        byte[] payload = [.. requestId, .. withId.AsSpan(32)];
        return new AuthMessage
        {
            Version = all[Version],
            MessageType = all.TryGetValue(MessageType, out string? type) && type == "certificateRequest"
                ? AuthMessageType.CertificateRequest
                : AuthMessageType.General,
            IdentityKey = all[IdentityKey],
            Nonce = all.GetValueOrDefault(Nonce),
            YourNonce = all.GetValueOrDefault(YourNonce),
            RequestedCertificates = requested,
            Payload = payload,
            Signature = signature,
        };
    }

    /// <summary>
    /// The general message a server reads from an HTTP request carrying one, as @bsv/auth-express-middleware does: the
    /// auth headers, and the request payload rebuilt from the request id header, the method, the path and query as
    /// sent, the signed headers (<c>x-bsv-*</c> but not <c>x-bsv-auth*</c>, <c>authorization</c>, and
    /// <c>content-type</c> cut at its ";"), and the body (absent when empty).
    /// </summary>
    /// <param name="method">The request method.</param>
    /// <param name="path">The path as sent (still percent-encoded), or "" when there is none.</param>
    /// <param name="query">The query as sent, with or without its "?"; "" or null when there is none.</param>
    /// <param name="headers">Every request header (repeated names joined with ", ").</param>
    /// <param name="body">The body bytes.</param>
    /// <exception cref="AuthPayloadException">
    /// An auth header is missing or blank (version, identity key, nonce, your nonce, signature, request id), the
    /// signature is not hex, or the request id is not 32 bytes of base64.
    /// </exception>
    public static AuthMessage FromRequest(
        string method, string path, string? query, IEnumerable<KeyValuePair<string, string>> headers, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(headers);
        var all = headers
            .GroupBy(h => h.Key.ToLowerInvariant(), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => string.Join(", ", g.Select(h => h.Value)), StringComparer.Ordinal);
        string[] missing = [.. new[] { Version, IdentityKey, Nonce, YourNonce, Signature, RequestId }
            .Where(h => !all.TryGetValue(h, out string? v) || v.Trim().Length == 0)];
        if (missing.Length > 0)
        {
            throw new AuthPayloadException($"the request lacks BSV auth headers: {string.Join(", ", missing)}");
        }

        byte[] requestId = new byte[32];
        if (!Convert.TryFromBase64String(all[RequestId].Trim(), requestId, out int idLength) || idLength != 32)
        {
            throw new AuthPayloadException($"{RequestId} is not 32 bytes in base64");
        }

        byte[] signature;
        try
        {
            signature = Hex.Decode(all[Signature].Trim());
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new AuthPayloadException($"{Signature} is not hex", innerException: e);
        }

        var included = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in all)
        {
            if (key == "content-type")
            {
                included.Add(new(key, value.Split(';')[0].Trim()));
            }
            else if ((key.StartsWith("x-bsv-", StringComparison.Ordinal) || key == "authorization")
                && !key.StartsWith("x-bsv-auth", StringComparison.Ordinal))
            {
                included.Add(new(key, value));
            }
        }

        string search = query is null or "" or "?" ? "" : query[0] == '?' ? query : "?" + query;
        var request = new AuthHttpRequest(
            requestId,
            method,
            path.Length > 0 ? path : null,
            search.Length > 0 ? search : null,
            AuthHttpRequest.SortByName(included),
            body.IsEmpty ? null : body.ToArray());
        return new AuthMessage
        {
            Version = all[Version].Trim(),
            MessageType = AuthMessageType.General,
            IdentityKey = all[IdentityKey].Trim(),
            Nonce = all[Nonce].Trim(),
            YourNonce = all[YourNonce].Trim(),
            Payload = request.ToPayload(),
            Signature = signature,
        };
    }

    /// <summary>
    /// The headers a server adds to the HTTP response carrying its signed general message (as
    /// @bsv/auth-express-middleware writes them): version, identity key, nonce, your nonce, signature in hex, and the
    /// request id in base64.
    /// </summary>
    /// <exception cref="AuthPayloadException">Not a signed general message whose payload is a response payload.</exception>
    public static List<KeyValuePair<string, string>> ForResponse(AuthMessage general)
    {
        ArgumentNullException.ThrowIfNull(general);
        if (general.MessageType != AuthMessageType.General || general.Payload is null || general.Signature is null)
        {
            throw new AuthPayloadException("only a signed general message with a payload travels as an HTTP response");
        }

        return SignedHeaders(general, AuthHttpResponse.Parse(general.Payload).RequestId);
    }

    /// <summary>
    /// The headers of an HTTP response carrying a signed certificateRequest, as SimplifiedFetchTransport reads one (and
    /// <see cref="FromResponse"/> does): version, the message type, identity key, nonce, your nonce, signature in hex and
    /// the requested certificates as JSON.
    /// </summary>
    /// <exception cref="AuthPayloadException">Not a signed certificateRequest with its requested certificates.</exception>
    public static List<KeyValuePair<string, string>> ForCertificateRequest(AuthMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.MessageType != AuthMessageType.CertificateRequest || request.Signature is null || request.RequestedCertificates is not { } requested)
        {
            throw new AuthPayloadException("only a signed certificateRequest with its requested certificates travels in an HTTP response's headers");
        }

        return
        [
            new(Version, request.Version),
            new(MessageType, "certificateRequest"),
            new(IdentityKey, request.IdentityKey),
            new(Nonce, request.Nonce ?? throw new AuthPayloadException("the message has no nonce")),
            new(YourNonce, request.YourNonce ?? throw new AuthPayloadException("the message has no yourNonce")),
            new(Signature, Hex.Encode(request.Signature)),
            new(RequestedCertificates, requested.GetRawText()),
        ];
    }
}
