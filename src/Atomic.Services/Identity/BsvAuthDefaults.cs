namespace Atomic.Services.Identity;

/// <summary>Names of the BRC-103/104 authentication: its scheme, its claim, its handshake route.</summary>
public static class BsvAuthDefaults
{
    /// <summary>"BsvAuth": the authentication scheme (and the authentication type of its identities).</summary>
    public const string Scheme = "BsvAuth";

    /// <summary>The claim holding the caller's identity key (compressed, hex); it is also the name identifier.</summary>
    public const string IdentityKeyClaim = "bsv:identityKey";

    /// <summary>
    /// A claim per accepted certificate: its value the type's friendly name, its issuer the certifier's key (hex); each
    /// revealed field is a claim of the type's claim type, with the same issuer.
    /// </summary>
    public const string CertificateClaim = "bsv:certificate";

    /// <summary>The claim property holding the serial number of the certificate a claim came from.</summary>
    public const string SerialNumberProperty = "bsv:serialNumber";

    /// <summary>The response header naming the certificates a refused route needs (JSON {certifiers, types}), as BRC-104's.</summary>
    public const string RequestedCertificatesHeader = "x-bsv-auth-requested-certificates";

    /// <summary>The handshake route, as @bsv/sdk's SimplifiedFetchTransport posts to it.</summary>
    public const string HandshakePath = "/.well-known/auth";
}
