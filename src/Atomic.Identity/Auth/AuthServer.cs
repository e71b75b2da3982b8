using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Certificates;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Auth;

/// <summary>
/// The server side of BRC-103 mutual authentication, as @bsv/sdk 2.1.0's <c>Peer</c> behaves when a client speaks
/// first: it answers an initialRequest with a signed initialResponse and opens the session, checks each general
/// message against its session (our nonce, the peer's key, the signature, and that its nonce is new to the session),
/// and signs general messages back. Certificate exchange: the initialResponse asks for
/// <see cref="RequestedCertificates"/>, and a certificateResponse's certificates are judged by <see cref="Trust"/> and
/// recorded on the session. Transport-free: the BRC-104 HTTP binding
/// lives in <see cref="AuthHttpHeaders"/> and the hosts.
/// </summary>
public sealed class AuthServer
{
    /// <summary>A server with <paramref name="wallet"/>'s identity, holding sessions in <paramref name="sessions"/>.</summary>
    public AuthServer(ProtoWallet wallet, AuthSessionManager sessions)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        ArgumentNullException.ThrowIfNull(sessions);
        Wallet = wallet;
        Sessions = sessions;
    }

    /// <summary>Our identity.</summary>
    public ProtoWallet Wallet { get; }

    /// <summary>The sessions we hold.</summary>
    public AuthSessionManager Sessions { get; }

    /// <summary>What every initialResponse asks the peer for ({certifiers, types}); null asks for nothing.</summary>
    public RequestedCertificateSet? RequestedCertificates { get; set; }

    /// <summary>How presented certificates are judged; null refuses every certificate as untrusted.</summary>
    public CertificateTrust? Trust { get; set; }

    /// <summary>
    /// Answers any message posted to <c>/.well-known/auth</c>: an initialRequest (see <see cref="AcceptHandshake(AuthMessage)"/>)
    /// or a certificateResponse (see <see cref="AcceptCertificateResponse"/>); other kinds are refused.
    /// </summary>
    public AuthCertificateOutcome AcceptAuthMessage(string json)
    {
        AuthMessage message;
        try
        {
            message = AuthMessage.FromJson(json);
        }
        catch (AuthPayloadException e)
        {
            return new(AuthOutcome.Refused(AuthReasons.MessageMalformed, e.Message), []);
        }

        return message.MessageType == AuthMessageType.CertificateResponse
            ? AcceptCertificateResponse(message)
            : new(AcceptHandshake(message), []);
    }

    /// <summary>
    /// Checks a certificateResponse as @bsv/sdk's Peer does (version, our nonce, a live session, the session's peer, the
    /// signature over JSON.stringify of its certificates), then judges each certificate with <see cref="Trust"/> and
    /// records the verdicts on the session. The outcome is refused when the message fails; the verdicts say which
    /// certificates were accepted.
    /// </summary>
    public AuthCertificateOutcome AcceptCertificateResponse(AuthMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Version != AuthMessage.CurrentVersion)
        {
            return new(AuthOutcome.Refused(AuthReasons.VersionUnsupported, $"version {message.Version} is not {AuthMessage.CurrentVersion}"), []);
        }

        if (message.MessageType != AuthMessageType.CertificateResponse)
        {
            return new(AuthOutcome.Refused(
                AuthReasons.MessageUnsupported, $"{AuthMessage.TypeName(message.MessageType)} is not a certificateResponse"), []);
        }

        if (!AuthNonce.Verify(message.YourNonce, Wallet))
        {
            return new(AuthOutcome.Refused(AuthReasons.NonceInvalid, "yourNonce is not a nonce of this server's"), []);
        }

        switch (Sessions.Find(message.YourNonce, out AuthSession? session))
        {
            case AuthSessionLookup.Unknown:
                return new(AuthOutcome.Refused(AuthReasons.SessionUnknown, "no session has this nonce; shake hands at /.well-known/auth"), []);
            case AuthSessionLookup.Expired:
                return new(AuthOutcome.Refused(AuthReasons.SessionExpired, "the session expired; shake hands at /.well-known/auth"), []);
        }

        AuthMessageStatus status = message.Check(Wallet, session!.SessionNonce, session.PeerIdentityKey);
        if (status != AuthMessageStatus.Valid)
        {
            string reason = status == AuthMessageStatus.Malformed ? AuthReasons.MessageMalformed : AuthReasons.Of(status);
            return new(AuthOutcome.Refused(reason, $"the certificateResponse does not check: {status}"), []);
        }

        List<VerifiableCertificate> certificates;
        try
        {
            certificates = message.Certificates is { } json ? AuthCertificates.FromJson(json) : [];
        }
        catch (AuthPayloadException e)
        {
            return new(AuthOutcome.Refused(AuthReasons.MessageMalformed, e.Message), []);
        }

        List<CertificateVerdict> verdicts = [.. certificates.Select(c => Trust is { } trust
            ? trust.Evaluate(c, session.PeerIdentityKey)
            : new CertificateVerdict(c, null, AuthReasons.CertifierUntrusted, "this server trusts no certifiers", new Dictionary<string, string>()))];
        session.RecordCertificates(verdicts);
        session.Touch(Sessions.Now);
        return new(AuthOutcome.Accepted(session, message), verdicts);
    }

    /// <summary>
    /// Answers a message sent to <c>/.well-known/auth</c>: an initialRequest opens a session and gets its signed
    /// initialResponse (in <see cref="AuthOutcome.Message"/>); anything else is refused with its reason code.
    /// </summary>
    public AuthOutcome AcceptHandshake(string json)
    {
        AuthMessage request;
        try
        {
            request = AuthMessage.FromJson(json);
        }
        catch (AuthPayloadException e)
        {
            return AuthOutcome.Refused(AuthReasons.MessageMalformed, e.Message);
        }

        return AcceptHandshake(request);
    }

    /// <inheritdoc cref="AcceptHandshake(string)"/>
    public AuthOutcome AcceptHandshake(AuthMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Version != AuthMessage.CurrentVersion)
        {
            return AuthOutcome.Refused(AuthReasons.VersionUnsupported, $"version {request.Version} is not {AuthMessage.CurrentVersion}");
        }

        if (request.MessageType != AuthMessageType.InitialRequest)
        {
            return AuthOutcome.Refused(
                AuthReasons.MessageUnsupported,
                $"{AuthMessage.TypeName(request.MessageType)} is not taken at /.well-known/auth (only initialRequest and certificateResponse)");
        }

        if (request.Check(Wallet) != AuthMessageStatus.Valid || !AuthNonce.TryDecode(request.InitialNonce, out _))
        {
            return AuthOutcome.Refused(
                AuthReasons.MessageMalformed, "an initialRequest needs an identity key and a nonce of 48 bytes in base64");
        }

        string sessionNonce = AuthNonce.Create(Wallet);
        JsonElement? requested = RequestedCertificates is { Certifiers.Count: > 0 } r ? r.ToJson() : null;
        AuthMessage response = AuthMessage.CreateInitialResponse(Wallet, request, sessionNonce, requestedCertificates: requested);
        var session = new AuthSession(
            sessionNonce, request.InitialNonce!, PublicKey.FromHex(request.IdentityKey), Sessions.Now);
        session.AwaitingCertificates = requested is not null;
        Sessions.Add(session);
        return AuthOutcome.Accepted(session, response);
    }

    /// <summary>
    /// Checks a general message, in order: the version; that yourNonce is a nonce of ours; that it names a live
    /// session; the fields; that the sender is the session's peer; the signature over the payload; and that the
    /// message nonce has not been accepted in the session before (it is accepted now).
    /// </summary>
    public AuthOutcome VerifyGeneral(AuthMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Version != AuthMessage.CurrentVersion)
        {
            return AuthOutcome.Refused(AuthReasons.VersionUnsupported, $"version {message.Version} is not {AuthMessage.CurrentVersion}");
        }

        if (message.MessageType != AuthMessageType.General)
        {
            return AuthOutcome.Refused(
                AuthReasons.MessageUnsupported, $"{AuthMessage.TypeName(message.MessageType)} is not a general message");
        }

        if (!AuthNonce.Verify(message.YourNonce, Wallet))
        {
            return AuthOutcome.Refused(AuthReasons.NonceInvalid, "yourNonce is not a nonce of this server's");
        }

        switch (Sessions.Find(message.YourNonce, out AuthSession? session))
        {
            case AuthSessionLookup.Unknown:
                return AuthOutcome.Refused(AuthReasons.SessionUnknown, "no session has this nonce; shake hands at /.well-known/auth");
            case AuthSessionLookup.Expired:
                return AuthOutcome.Refused(AuthReasons.SessionExpired, "the session expired; shake hands at /.well-known/auth");
        }

        AuthMessageStatus status = message.Check(Wallet, session!.SessionNonce, session.PeerIdentityKey);
        if (status != AuthMessageStatus.Valid)
        {
            return AuthOutcome.Refused(AuthReasons.Of(status), status switch
            {
                AuthMessageStatus.WrongPeer => "the identity key is not the session's peer",
                AuthMessageStatus.BadSignature => "the signature does not verify",
                _ => "the message lacks a field or holds one that cannot be read",
            });
        }

        if (!session.TryAcceptNonce(message.Nonce!, Sessions.Now))
        {
            return AuthOutcome.Refused(AuthReasons.NonceReplayed, "this request nonce was accepted before");
        }

        return AuthOutcome.Accepted(session, message);
    }

    /// <summary>Our signed general message carrying <paramref name="payload"/> to the session's peer.</summary>
    public AuthMessage SignGeneral(AuthSession session, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(payload);
        session.Touch(Sessions.Now);
        return AuthMessage.CreateGeneral(Wallet, session.PeerIdentityKey, session.PeerNonce, payload);
    }

    /// <summary>
    /// The BRC-104 headers that sign an HTTP response to the request with id <paramref name="requestId"/> (its
    /// status, its <c>x-bsv-*</c> and <c>authorization</c> headers, its body).
    /// </summary>
    public List<KeyValuePair<string, string>> SignHttpResponse(
        AuthSession session, byte[] requestId, int status, IEnumerable<KeyValuePair<string, string>> headers, byte[] body)
    {
        byte[] payload = AuthHttpResponse.Create(requestId, status, headers, body).ToPayload();
        return AuthHttpHeaders.ForResponse(SignGeneral(session, payload));
    }
}

/// <summary>What <see cref="AuthServer"/> made of a message posted to <c>/.well-known/auth</c>, with the verdicts on any certificates.</summary>
/// <param name="Outcome">The message accepted or refused.</param>
/// <param name="Verdicts">The verdict on each certificate a certificateResponse carried.</param>
public sealed record AuthCertificateOutcome(AuthOutcome Outcome, IReadOnlyList<CertificateVerdict> Verdicts);

/// <summary>What <see cref="AuthServer"/> made of a message: accepted, with its session, or refused with a reason code.</summary>
/// <param name="Reason">The reason code (one of <see cref="AuthReasons"/>), or null when accepted.</param>
/// <param name="Detail">Why, in words, or null when accepted.</param>
/// <param name="Session">The session, when accepted.</param>
/// <param name="Message">The accepted general message, or the initialResponse to send back.</param>
public sealed record AuthOutcome(string? Reason, string? Detail, AuthSession? Session, AuthMessage? Message)
{
    /// <summary>True when accepted.</summary>
    public bool IsValid => Reason is null;

    /// <summary>An accepted message.</summary>
    public static AuthOutcome Accepted(AuthSession session, AuthMessage message) => new(null, null, session, message);

    /// <summary>A refusal.</summary>
    public static AuthOutcome Refused(string reason, string detail) => new(reason, detail, null, null);
}
