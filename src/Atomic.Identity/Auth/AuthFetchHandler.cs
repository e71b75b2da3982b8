using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Auth;

/// <summary>
/// BRC-103/104 mutual authentication for <see cref="HttpClient"/>, as @bsv/sdk 2.1.0's <c>AuthFetch</c>: the first
/// request to an origin shakes hands at <c>{origin}/.well-known/auth</c> (an initialRequest POSTed as JSON, as its
/// <c>SimplifiedFetchTransport</c> does); each request is then signed into <c>x-bsv-auth-*</c> headers, and its
/// response is returned only when the server's signature over it verifies in the session, otherwise
/// <see cref="AuthFetchException"/> with the reason code. Signed are the method, path, query, the
/// <c>content-type</c>, <c>authorization</c> and <c>x-bsv-*</c> headers, and the body; other headers travel unsigned.
/// A 401 saying the server lost the session (a restart, an idle expiry) leads to one fresh handshake and one retry.
/// Certificate exchange is not supported.
/// </summary>
public sealed class AuthFetchHandler : DelegatingHandler
{
    private readonly ProtoWallet _wallet;
    private readonly ConcurrentDictionary<string, Lazy<Task<ServerSession>>> _sessions = new(StringComparer.Ordinal);

    /// <summary>A handler speaking as <paramref name="wallet"/>; give it an inner handler, or let a factory chain it.</summary>
    public AuthFetchHandler(ProtoWallet wallet)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        _wallet = wallet;
    }

    /// <summary>A handler speaking as <paramref name="wallet"/> over <paramref name="innerHandler"/>.</summary>
    public AuthFetchHandler(ProtoWallet wallet, HttpMessageHandler innerHandler)
        : base(innerHandler)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        _wallet = wallet;
    }

    /// <summary>The identity key of the server at <paramref name="origin"/> (scheme://host:port), once hands are shaken.</summary>
    public PublicKey? ServerIdentityKey(Uri origin)
    {
        ArgumentNullException.ThrowIfNull(origin);
        return _sessions.TryGetValue(Origin(origin), out var s) && s.Value.IsCompletedSuccessfully ? s.Value.Result.ServerKey : null;
    }

    /// <inheritdoc/>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        Uri uri = request.RequestUri is { IsAbsoluteUri: true } u
            ? u
            : throw new InvalidOperationException("AuthFetch needs an absolute request URI");
        byte[]? body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        string origin = Origin(uri);
        for (int attempt = 0; ; attempt++)
        {
            Lazy<Task<ServerSession>> lazy = _sessions.GetOrAdd(origin, o => new(() => HandshakeAsync(o, cancellationToken)));
            ServerSession session;
            try
            {
                session = await lazy.Value.ConfigureAwait(false);
            }
            catch
            {
                _sessions.TryRemove(new KeyValuePair<string, Lazy<Task<ServerSession>>>(origin, lazy));
                throw;
            }

            byte[] requestId = RandomNumberGenerator.GetBytes(32);
            using HttpRequestMessage signed = Sign(request, uri, body, session, requestId);
            HttpResponseMessage response = await base.SendAsync(signed, cancellationToken).ConfigureAwait(false);
            byte[] responseBody = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            List<KeyValuePair<string, string>> headers = Headers(response);
            if (!headers.Any(h => h.Key.StartsWith("x-bsv-auth", StringComparison.OrdinalIgnoreCase)))
            {
                if (attempt == 0 && response.StatusCode == HttpStatusCode.Unauthorized && SaysSessionLost(responseBody))
                {
                    _sessions.TryRemove(new KeyValuePair<string, Lazy<Task<ServerSession>>>(origin, lazy));
                    response.Dispose();
                    continue;
                }

                int status = (int)response.StatusCode;
                response.Dispose();
                throw new AuthFetchException(
                    AuthReasons.ResponseUnsigned, $"HTTP {status} from {uri} without BSV authentication: {Preview(responseBody)}", status);
            }

            Verify(response, headers, responseBody, session, requestId, uri);
            var content = new ByteArrayContent(responseBody);
            foreach (var header in response.Content.Headers)
            {
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = content;
            response.RequestMessage = request;
            return response;
        }
    }

    private async Task<ServerSession> HandshakeAsync(string origin, CancellationToken cancellationToken)
    {
        string nonce = AuthNonce.Create(_wallet);
        var uri = new Uri(origin + "/.well-known/auth");
        using var handshake = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new StringContent(AuthMessage.CreateInitialRequest(_wallet, nonce).ToJson(), Encoding.UTF8, "application/json"),
        };
        using HttpResponseMessage response = await base.SendAsync(handshake, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            int code = (int)response.StatusCode;
            throw new AuthFetchException(
                AuthReasons.HandshakeFailed, $"{uri} answered HTTP {code}: {Preview(Encoding.UTF8.GetBytes(text))}", code);
        }

        AuthMessage answer;
        try
        {
            answer = AuthMessage.FromJson(text);
        }
        catch (AuthPayloadException e)
        {
            throw new AuthFetchException(AuthReasons.HandshakeFailed, $"{uri} did not answer with a BRC-103 message: {e.Message}", 200, e);
        }

        if (answer.MessageType != AuthMessageType.InitialResponse)
        {
            throw new AuthFetchException(AuthReasons.HandshakeFailed, $"{uri} answered a {AuthMessage.TypeName(answer.MessageType)}", 200);
        }

        AuthMessageStatus status = answer.Check(_wallet, nonce);
        if (status != AuthMessageStatus.Valid)
        {
            throw new AuthFetchException(AuthReasons.Of(status), $"the initialResponse from {uri} does not check out ({status})", 200);
        }

        return new ServerSession(nonce, answer.InitialNonce!, PublicKey.FromHex(answer.IdentityKey));
    }

    private HttpRequestMessage Sign(HttpRequestMessage request, Uri uri, byte[]? body, ServerSession session, byte[] requestId)
    {
        var signedHeaders = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Headers)
        {
            string key = name.ToLowerInvariant();
            if (key.StartsWith("x-bsv-", StringComparison.Ordinal) || key == "authorization")
            {
                signedHeaders.Add(new(key, string.Join(", ", values)));
            }
        }

        if (request.Content?.Headers.ContentType is { } contentType)
        {
            signedHeaders.Add(new("content-type", contentType.ToString()));
        }

        AuthHttpRequest payload = AuthHttpRequest.Create(
            requestId, request.Method.Method, uri.AbsolutePath, uri.Query, signedHeaders, body is { Length: > 0 } ? body : null);
        AuthMessage general = AuthMessage.CreateGeneral(_wallet, session.ServerKey, session.ServerNonce, payload.ToPayload());

        var signed = new HttpRequestMessage(request.Method, uri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var (name, values) in request.Headers)
        {
            signed.Headers.TryAddWithoutValidation(name, values);
        }

        foreach (var (name, value) in AuthHttpHeaders.ForRequest(general))
        {
            signed.Headers.TryAddWithoutValidation(name, value);
        }

        if (payload.Body is { } bytes)
        {
            signed.Content = new ByteArrayContent(bytes);
            foreach (var (name, values) in request.Content?.Headers ?? (IEnumerable<KeyValuePair<string, IEnumerable<string>>>)[])
            {
                if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    signed.Content.Headers.TryAddWithoutValidation(name, values);
                }
            }

            // JSON is UTF-8 whatever the charset says (RFC 8259), and @bsv/auth-express-middleware signs a JSON body
            // only under exactly "application/json": StringContent's "; charset=utf-8" would cost the body's signature.
            if (signed.Content.Headers.ContentType is { MediaType: "application/json", CharSet: "utf-8" } json
                && json.Parameters.Count == 1)
            {
                signed.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
        }

        foreach (var option in request.Options)
        {
            ((IDictionary<string, object?>)signed.Options)[option.Key] = option.Value;
        }

        return signed;
    }

    private void Verify(
        HttpResponseMessage response,
        List<KeyValuePair<string, string>> headers,
        byte[] body,
        ServerSession session,
        byte[] requestId,
        Uri uri)
    {
        int status = (int)response.StatusCode;
        AuthMessage message;
        try
        {
            message = AuthHttpHeaders.FromResponse(status, headers, body);
        }
        catch (AuthPayloadException e)
        {
            response.Dispose();
            throw new AuthFetchException(AuthReasons.HeadersMalformed, $"the response from {uri}: {e.Message}", status, e);
        }

        if (message.MessageType != AuthMessageType.General)
        {
            response.Dispose();
            throw new AuthFetchException(
                AuthReasons.MessageUnsupported, $"{uri} asks for certificates, which this client does not send", status);
        }

        AuthMessageStatus check = message.Check(_wallet, session.ClientNonce, session.ServerKey);
        if (check != AuthMessageStatus.Valid)
        {
            response.Dispose();
            throw new AuthFetchException(
                AuthReasons.Of(check), $"the response from {uri} is not signed by the server in this session ({check})", status);
        }

        if (!message.Payload.AsSpan(0, 32).SequenceEqual(requestId))
        {
            response.Dispose();
            throw new AuthFetchException(AuthReasons.SignatureInvalid, $"the signed response from {uri} answers another request", status);
        }
    }

    private static List<KeyValuePair<string, string>> Headers(HttpResponseMessage response) =>
    [
        .. response.Headers.Select(h => new KeyValuePair<string, string>(h.Key, string.Join(", ", h.Value))),
        .. response.Content.Headers.Select(h => new KeyValuePair<string, string>(h.Key, string.Join(", ", h.Value))),
    ];

    private static bool SaysSessionLost(byte[] body)
    {
        string text = Encoding.UTF8.GetString(body);
        return text.Contains(AuthReasons.SessionUnknown, StringComparison.Ordinal)
            || text.Contains(AuthReasons.SessionExpired, StringComparison.Ordinal)
            || text.Contains("Session not found", StringComparison.Ordinal);
    }

    private static string Preview(byte[] body)
    {
        string text = Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300)));
        return text.Length == 0 ? "(no body)" : text;
    }

    private static string Origin(Uri uri) => uri.GetLeftPart(UriPartial.Authority);

    private sealed record ServerSession(string ClientNonce, string ServerNonce, PublicKey ServerKey);
}
