namespace Atomic.Services.Identity;

/// <summary>Names of the BRC-103/104 authentication: its scheme, its claim, its handshake route.</summary>
public static class BsvAuthDefaults
{
    /// <summary>"BsvAuth": the authentication scheme (and the authentication type of its identities).</summary>
    public const string Scheme = "BsvAuth";

    /// <summary>The claim holding the caller's identity key (compressed, hex); it is also the name identifier.</summary>
    public const string IdentityKeyClaim = "bsv:identityKey";

    /// <summary>The handshake route, as @bsv/sdk's SimplifiedFetchTransport posts to it.</summary>
    public const string HandshakePath = "/.well-known/auth";
}
