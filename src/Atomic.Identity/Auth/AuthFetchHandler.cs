using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
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
/// When the server asks for certificates (BRC-52, in its initialResponse or as a certificateRequest answering a
/// request), the handler presents those of <see cref="Certificates"/> whose type and certifier were asked for, each
/// with a keyring revealing to the server only the asked-for fields the certificate has.
/// </summary>
public sealed class AuthFetchHandler : DelegatingHandler
{
    /// <summary>How long a certificateResponse's answer is awaited in the background before the post is dropped.</summary>
    private static readonly TimeSpan CertificateAnswerLimit = TimeSpan.FromSeconds(30);

    private readonly ProtoWallet _wallet;
    private readonly ConcurrentDictionary<string, Lazy<Task<ServerSession>>> _sessions = new(StringComparer.Ordinal);
    private IReadOnlyList<MasterCertificate> _certificates = [];

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

    /// <summary>
    /// The certificates this client may present, as their subject holds them (what <c>atomic identity issue</c> prints
    /// and <see cref="CertificateIssuance.Complete"/> returns); none by default. Each one's subject must be this
    /// handler's wallet, since only the subject can open the master keyring.
    /// </summary>
    /// <exception cref="ArgumentException">A certificate is about another key.</exception>
    public IReadOnlyList<MasterCertificate> Certificates
    {
        get => _certificates;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            foreach (MasterCertificate m in value)
            {
                ArgumentNullException.ThrowIfNull(m, nameof(value));
                if (!m.Certificate.Subject.Equals(_wallet.IdentityKey))
                {
                    throw new ArgumentException(
                        $"certificate {m.Certificate.SerialNumber} is about {m.Certificate.Subject.ToHex()}, not this client's "
                            + $"identity key {_wallet.IdentityKey.ToHex()}",
                        nameof(value));
                }
            }

            _certificates = [.. value];
        }
    }

    /// <summary>
    /// The certificates presented to the server at <paramref name="origin"/> in the current session, each with the
    /// keyring made for that server (its keys name the fields revealed); empty when none was asked for or held.
    /// </summary>
    public IReadOnlyList<VerifiableCertificate> PresentedCertificates(Uri origin)
    {
        ArgumentNullException.ThrowIfNull(origin);
        return _sessions.TryGetValue(Origin(origin), out var s) && s.Value.IsCompletedSuccessfully ? s.Value.Result.Presented : [];
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
        bool renewed = false;
        bool presented = false;
        for (; ; )
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
                if (!renewed && response.StatusCode == HttpStatusCode.Unauthorized && SaysSessionLost(responseBody))
                {
                    renewed = true;
                    _sessions.TryRemove(new KeyValuePair<string, Lazy<Task<ServerSession>>>(origin, lazy));
                    response.Dispose();
                    continue;
                }

                int status = (int)response.StatusCode;
                response.Dispose();
                throw new AuthFetchException(
                    AuthReasons.ResponseUnsigned, $"HTTP {status} from {uri} without BSV authentication: {Preview(responseBody)}", status);
            }

            AuthMessage answer = Verify(response, headers, responseBody, session, requestId, uri);
            if (answer.MessageType == AuthMessageType.CertificateRequest)
            {
                int status = (int)response.StatusCode;
                response.Dispose();
                if (presented)
                {
                    throw new AuthFetchException(
                        AuthReasons.MessageUnsupported, $"{uri} asks for certificates again after they were presented", status);
                }

                RequestedCertificateSet asked = ReadRequested(answer.RequestedCertificates, uri, status);
                List<VerifiableCertificate> matching = Prove(asked, session.ServerKey);
                if (matching.Count == 0)
                {
                    throw new AuthFetchException(
                        AuthReasons.CertificateRequired,
                        $"{uri} asks for certificates ({Describe(asked)}) and this client holds none of them",
                        status);
                }

                await PresentAsync(origin, session, matching, cancellationToken).ConfigureAwait(false);
                presented = true;
                continue;
            }

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

        var session = new ServerSession(nonce, answer.InitialNonce!, PublicKey.FromHex(answer.IdentityKey));
        if (answer.RequestedCertificates is { } requestedJson)
        {
            RequestedCertificateSet asked = ReadRequested(requestedJson, uri, 200);
            if (asked.Certifiers.Count > 0)
            {
                // Also when none matches: an empty answer tells our server not to wait for certificates on the first request.
                await PresentAsync(origin, session, Prove(asked, session.ServerKey), cancellationToken).ConfigureAwait(false);
            }
        }

        return session;
    }

    /// <summary>
    /// Those of <see cref="Certificates"/> that <paramref name="asked"/> names (type and certifier), each with a keyring
    /// revealing to <paramref name="verifier"/> the asked-for fields the certificate has, and no other.
    /// </summary>
    private List<VerifiableCertificate> Prove(RequestedCertificateSet asked, PublicKey verifier)
    {
        var result = new List<VerifiableCertificate>();
        foreach (MasterCertificate master in _certificates)
        {
            Certificate c = master.Certificate;
            IReadOnlyList<string>? fields = asked.Types.FirstOrDefault(t => t.Key == c.Type).Value;
            if (fields is null || !asked.Certifiers.Contains(c.Certifier.ToHex(), StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            try
            {
                Dictionary<string, string> keyring = master.CreateKeyringForVerifier(
                    _wallet, Counterparty.Of(verifier), fields.Where(c.Fields.ContainsKey).Distinct(StringComparer.Ordinal));
                result.Add(new VerifiableCertificate(c, keyring));
            }
            catch (CertificateException e)
            {
                throw new AuthFetchException(
                    AuthReasons.CertificateInvalid, $"certificate {c.SerialNumber} cannot reveal its fields: {e.Message}", null, e);
            }
        }

        return result;
    }

    /// <summary>
    /// Posts a certificateResponse carrying <paramref name="certificates"/> to the server's <c>/.well-known/auth</c>, and
    /// returns once its body is sent or it is answered, whichever is first: @bsv/auth-express-middleware never answers
    /// a certificateResponse with certificates, and both it and our server hold a session's first request until the
    /// certificates are in. The answer is awaited in the background (and dropped after 30 s); a refusal shows in the
    /// answers to the requests that needed the certificates.
    /// </summary>
    private async Task PresentAsync(
        string origin, ServerSession session, List<VerifiableCertificate> certificates, CancellationToken cancellationToken)
    {
        AuthMessage message = AuthMessage.CreateCertificateResponse(
            _wallet, session.ServerKey, session.ClientNonce, session.ServerNonce, AuthCertificates.ToJson(certificates));
        var content = new SentContent(Encoding.UTF8.GetBytes(message.ToJson()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var post = new HttpRequestMessage(HttpMethod.Post, new Uri(origin + "/.well-known/auth")) { Content = content };
        var limit = new CancellationTokenSource(CertificateAnswerLimit);
        Task<HttpResponseMessage> answer = base.SendAsync(post, limit.Token);
        _ = DrainAsync(answer, post, limit);
        session.Presented = certificates;
        await Task.WhenAny(content.Sent, answer).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task DrainAsync(Task<HttpResponseMessage> answer, HttpRequestMessage post, CancellationTokenSource limit)
    {
        try
        {
            (await answer.ConfigureAwait(false)).Dispose();
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // Nobody waits for this answer; the requests that need the certificates show the outcome.
        }
        finally
        {
            limit.Dispose();
            post.Dispose();
        }
    }

    private static RequestedCertificateSet ReadRequested(JsonElement? json, Uri uri, int status)
    {
        try
        {
            return json is { } j
                ? RequestedCertificateSet.FromJson(j)
                : throw new AuthPayloadException("a certificateRequest without requestedCertificates");
        }
        catch (AuthPayloadException e)
        {
            throw new AuthFetchException(AuthReasons.MessageMalformed, $"{uri} asks for certificates unreadably: {e.Message}", status, e);
        }
    }

    private static string Describe(RequestedCertificateSet asked) =>
        $"types {string.Join(", ", asked.Types.Select(t => t.Key))} from certifiers {string.Join(", ", asked.Certifiers)}";

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

    /// <summary>The checked message signing the response: a general message answering this request, or a certificateRequest.</summary>
    private AuthMessage Verify(
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

        AuthMessageStatus check = message.Check(_wallet, session.ClientNonce, session.ServerKey);
        if (check != AuthMessageStatus.Valid)
        {
            response.Dispose();
            throw new AuthFetchException(
                AuthReasons.Of(check), $"the response from {uri} is not signed by the server in this session ({check})", status);
        }

        if (message.MessageType == AuthMessageType.General && !message.Payload.AsSpan(0, 32).SequenceEqual(requestId))
        {
            response.Dispose();
            throw new AuthFetchException(AuthReasons.SignatureInvalid, $"the signed response from {uri} answers another request", status);
        }

        return message;
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

    private sealed record ServerSession(string ClientNonce, string ServerNonce, PublicKey ServerKey)
    {
        /// <summary>The certificates last presented in this session.</summary>
        public IReadOnlyList<VerifiableCertificate> Presented { get; set; } = [];
    }

    /// <summary>A request body that says when it has been written to the connection.</summary>
    private sealed class SentContent(byte[] bytes) : HttpContent
    {
        private readonly TaskCompletionSource _sent = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Sent => _sent.Task;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            _sent.TrySetResult();
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }
}
