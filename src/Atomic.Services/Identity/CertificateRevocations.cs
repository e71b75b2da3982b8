using System.Collections.Concurrent;

namespace Atomic.Services.Identity;

/// <summary>
/// The revocation outpoints ("{txid}.{vout}") this server has seen spent: a certificate whose revocation outpoint is here
/// is refused (<c>AUTH_CERTIFICATE_REVOKED</c>). In memory; the revocation monitor fills it from the overlay.
/// </summary>
public sealed class CertificateRevocations
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _revoked = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How many outpoints are known spent.</summary>
    public int Count => _revoked.Count;

    /// <summary>True when the outpoint is known spent.</summary>
    public bool IsRevoked(string revocationOutpoint) =>
        !string.IsNullOrEmpty(revocationOutpoint) && _revoked.ContainsKey(revocationOutpoint);

    /// <summary>Records the outpoint as spent; false when it already was.</summary>
    public bool Revoke(string revocationOutpoint, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrEmpty(revocationOutpoint);
        return _revoked.TryAdd(revocationOutpoint, at);
    }
}
