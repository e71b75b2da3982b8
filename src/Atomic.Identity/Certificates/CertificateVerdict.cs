namespace Atomic.Identity.Certificates;

/// <summary>What <see cref="CertificateTrust"/> made of one presented certificate: accepted with its revealed fields, or refused.</summary>
/// <param name="Certificate">The certificate as presented.</param>
/// <param name="Type">The trusted type it is of, when known.</param>
/// <param name="Reason">The reason code (AUTH_CERTIFIER_UNTRUSTED, AUTH_CERTIFICATE_INVALID, AUTH_CERTIFICATE_REVOKED), or null.</param>
/// <param name="Detail">Why, in words, or null.</param>
/// <param name="RevealedFields">The decrypted fields the keyring revealed (empty when refused).</param>
public sealed record CertificateVerdict(
    VerifiableCertificate Certificate,
    TrustedCertificateType? Type,
    string? Reason,
    string? Detail,
    IReadOnlyDictionary<string, string> RevealedFields)
{
    /// <summary>True when the certificate was accepted.</summary>
    public bool IsAccepted => Reason is null;

    /// <summary>The certificate's serial number.</summary>
    public string SerialNumber => Certificate.Certificate.SerialNumber;

    /// <summary>The outpoint whose spending revokes the certificate ("{txid}.{vout}").</summary>
    public string RevocationOutpoint => Certificate.Certificate.RevocationOutpoint;
}
