using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Auth;

/// <summary>
/// The server side of BRC-103 mutual authentication, as @bsv/sdk 2.1.0's <c>Peer</c> behaves when a client speaks
/// first: it answers an initialRequest with a signed initialResponse and opens the session, checks each general
/// message against its session (our nonce, the peer's key, the signature, and that its nonce is new to the session),
/// and signs general messages back. Certificate exchange is not supported. Transport-free: the BRC-104 HTTP binding
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
                AuthReasons.MessageUnsupported, $"{AuthMessage.TypeName(request.MessageType)} is not taken at /.well-known/auth");
        }

        if (request.Check(Wallet) != AuthMessageStatus.Valid || !AuthNonce.TryDecode(request.InitialNonce, out _))
        {
            return AuthOutcome.Refused(
                AuthReasons.MessageMalformed, "an initialRequest needs an identity key and a nonce of 48 bytes in base64");
        }

        string sessionNonce = AuthNonce.Create(Wallet);
        AuthMessage response = AuthMessage.CreateInitialResponse(Wallet, request, sessionNonce);
        var session = new AuthSession(
            sessionNonce, request.InitialNonce!, PublicKey.FromHex(request.IdentityKey), Sessions.Now);
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
