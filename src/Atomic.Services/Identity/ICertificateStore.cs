namespace Atomic.Services.Identity;

/// <summary>
/// The identity feature's durable state: the certificates known revoked (by revocation outpoint and by serial number)
/// and the certificates our certifier issued. <see cref="CertificateLedger"/> keeps it in <c>statestore</c>; a host
/// without Dapr gets <see cref="MemoryCertificateStore"/>.
/// </summary>
public interface ICertificateStore
{
    /// <summary>Every revocation recorded, by revocation outpoint (lower case) and by serial number.</summary>
    Task<RevokedCertificates> LoadRevocationsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Records the serial number and/or outpoint as revoked at <paramref name="at"/>; false when both were already
    /// recorded (then nothing is written). Safe across processes: two writers never lose each other's entries.
    /// </summary>
    Task<bool> RecordRevocationAsync(string? serialNumber, string? revocationOutpoint, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Records a certificate the certifier issued.</summary>
    Task RecordIssuedAsync(IssuedCertificate issued, CancellationToken cancellationToken);

    /// <summary>The certificate issued with that serial number; null when none was (or the serial number is not base64 of 32 bytes).</summary>
    Task<IssuedCertificate?> FindIssuedAsync(string serialNumber, CancellationToken cancellationToken);
}

/// <summary>The revocations a store holds: when each outpoint and each serial number was revoked.</summary>
public sealed record RevokedCertificates(IReadOnlyDictionary<string, DateTimeOffset> Outpoints, IReadOnlyDictionary<string, DateTimeOffset> Serials);
