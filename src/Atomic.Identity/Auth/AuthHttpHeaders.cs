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

        AuthHttpRequest request = AuthHttpRequest.Parse(general.Payload);
        return
        [
            new(Version, general.Version),
            new(IdentityKey, general.IdentityKey),
            new(Nonce, general.Nonce ?? throw new AuthPayloadException("the message has no nonce")),
            new(YourNonce, general.YourNonce ?? throw new AuthPayloadException("the message has no yourNonce")),
            new(Signature, Hex.Encode(general.Signature)),
            new(RequestId, Convert.ToBase64String(request.RequestId)),
        ];
    }

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
}
