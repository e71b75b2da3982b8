namespace Atomic.Identity.Auth;

/// <summary>The reason codes of a refused BRC-103/104 message, one per way a message can fail (listed in docs/architecture.md).</summary>
public static class AuthReasons
{
    /// <summary>A request to a protected route carries no <c>x-bsv-auth-*</c> headers at all.</summary>
    public const string Required = "AUTH_REQUIRED";

    /// <summary>An <c>x-bsv-auth-*</c> header is missing, blank or garbled, or the signed payload cannot be rebuilt.</summary>
    public const string HeadersMalformed = "AUTH_HEADERS_MALFORMED";

    /// <summary>A message to <c>/.well-known/auth</c> that is not a readable BRC-103 message.</summary>
    public const string MessageMalformed = "AUTH_MESSAGE_MALFORMED";

    /// <summary>
    /// A BRC-103 message kind this side does not take (certificate exchange, or a general message at
    /// <c>/.well-known/auth</c>).
    /// </summary>
    public const string MessageUnsupported = "AUTH_MESSAGE_UNSUPPORTED";

    /// <summary>Not version "0.1".</summary>
    public const string VersionUnsupported = "AUTH_VERSION_UNSUPPORTED";

    /// <summary>yourNonce is not a nonce this side made (forged, garbled or another server's).</summary>
    public const string NonceInvalid = "AUTH_NONCE_INVALID";

    /// <summary>The request nonce was already accepted in this session.</summary>
    public const string NonceReplayed = "AUTH_NONCE_REPLAYED";

    /// <summary>yourNonce is ours but names no session we hold.</summary>
    public const string SessionUnknown = "AUTH_SESSION_UNKNOWN";

    /// <summary>The session was idle past its lifetime; the client must shake hands again.</summary>
    public const string SessionExpired = "AUTH_SESSION_EXPIRED";

    /// <summary>The sender's identity key is not the session's peer.</summary>
    public const string IdentityMismatch = "AUTH_IDENTITY_MISMATCH";

    /// <summary>The signature does not verify over the payload under the sender's key.</summary>
    public const string SignatureInvalid = "AUTH_SIGNATURE_INVALID";

    /// <summary>Client side: a response to a signed request that does not carry the server's signature.</summary>
    public const string ResponseUnsigned = "AUTH_RESPONSE_UNSIGNED";

    /// <summary>Client side: the server's answer to the handshake is not a valid initialResponse.</summary>
    public const string HandshakeFailed = "AUTH_HANDSHAKE_FAILED";

    /// <summary>A route's policy needs a certificate (of a trusted certifier) the caller has not presented.</summary>
    public const string CertificateRequired = "AUTH_CERTIFICATE_REQUIRED";

    /// <summary>A presented certificate's certifier is not trusted for its type (or the type is not trusted at all).</summary>
    public const string CertifierUntrusted = "AUTH_CERTIFIER_UNTRUSTED";

    /// <summary>
    /// A presented certificate does not verify: its certifier's signature fails (tampered), its subject is not the
    /// sender, or its keyring does not decrypt the fields it reveals.
    /// </summary>
    public const string CertificateInvalid = "AUTH_CERTIFICATE_INVALID";

    /// <summary>A presented certificate's revocation output has been spent: the certifier revoked it.</summary>
    public const string CertificateRevoked = "AUTH_CERTIFICATE_REVOKED";

    /// <summary>The caller is authenticated and its certificates verify, but they do not satisfy the route's policy.</summary>
    public const string Forbidden = "AUTH_FORBIDDEN";

    /// <summary>The reason code of an <see cref="AuthMessageStatus"/> other than Valid.</summary>
    public static string Of(AuthMessageStatus status) => status switch
    {
        AuthMessageStatus.UnsupportedVersion => VersionUnsupported,
        AuthMessageStatus.Malformed => HeadersMalformed,
        AuthMessageStatus.ForeignNonce => NonceInvalid,
        AuthMessageStatus.UnknownSession => SessionUnknown,
        AuthMessageStatus.WrongPeer => IdentityMismatch,
        AuthMessageStatus.BadSignature => SignatureInvalid,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "a valid message has no reason code"),
    };
}
