using System.Collections.Concurrent;
using Atomic.Identity.Certificates;

namespace Atomic.Services.Identity;

/// <summary>
/// The certificates this server knows revoked: by revocation outpoint ("{txid}.{vout}", seen spent) and by serial
/// number (revoked by our own certifier). A certificate found here is refused (<c>AUTH_CERTIFICATE_REVOKED</c>).
/// In memory.
/// </summary>
public sealed class CertificateRevocations
{
    /// <summary>
    /// The revocation outpoint our certifier names while it creates no revocation output on chain (all-zero txid): it
    /// is never revoked by outpoint, only by serial number.
    /// </summary>
    public const string NoOutput = "0000000000000000000000000000000000000000000000000000000000000000.0";

    private readonly ConcurrentDictionary<string, DateTimeOffset> _outpoints = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _serials = new(StringComparer.Ordinal);

    /// <summary>How many outpoints and serial numbers are known revoked.</summary>
    public int Count => _outpoints.Count + _serials.Count;

    /// <summary>True when the outpoint is known spent.</summary>
    public bool IsRevoked(string revocationOutpoint) =>
        !string.IsNullOrEmpty(revocationOutpoint) && _outpoints.ContainsKey(revocationOutpoint);

    /// <summary>True when the serial number is known revoked.</summary>
    public bool IsSerialRevoked(string serialNumber) => !string.IsNullOrEmpty(serialNumber) && _serials.ContainsKey(serialNumber);

    /// <summary>True when the certificate's serial number or revocation outpoint is known revoked.</summary>
    public bool IsRevoked(Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _serials.ContainsKey(certificate.SerialNumber) || IsRevoked(certificate.RevocationOutpoint);
    }

    /// <summary>Records the outpoint as spent; false when it already was.</summary>
    public bool Revoke(string revocationOutpoint, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrEmpty(revocationOutpoint);
        return revocationOutpoint != NoOutput && _outpoints.TryAdd(revocationOutpoint, at);
    }

    /// <summary>Records the serial number as revoked; false when it already was.</summary>
    public bool RevokeSerial(string serialNumber, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrEmpty(serialNumber);
        return _serials.TryAdd(serialNumber, at);
    }

    /// <summary>Adds what a store holds (at start); answers how many entries were new here.</summary>
    public int Load(RevokedCertificates stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        int added = 0;
        foreach ((string outpoint, DateTimeOffset at) in stored.Outpoints)
        {
            added += Revoke(outpoint, at) ? 1 : 0;
        }

        foreach ((string serial, DateTimeOffset at) in stored.Serials)
        {
            added += RevokeSerial(serial, at) ? 1 : 0;
        }

        return added;
    }
}
