using System.Security.Cryptography;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Certificates;

/// <summary>
/// Federation as a verifier applies it: a presented BRC-52 certificate is accepted when its subject is the sender, its
/// type is trusted, its certifier is one of that type's trusted certifiers, the certifier's signature verifies, it is
/// not revoked, and the keyring decrypts every field it reveals (for <paramref name="verifier"/>).
/// </summary>
public sealed class CertificateTrust(IEnumerable<TrustedCertificateType> types, ProtoWallet verifier, Func<Certificate, bool>? isRevoked = null)
{
    private readonly Dictionary<string, TrustedCertificateType> _byTypeId =
        types.ToDictionary(t => t.TypeId, StringComparer.Ordinal);

    /// <summary>The trusted types by type id.</summary>
    public IReadOnlyDictionary<string, TrustedCertificateType> Types => _byTypeId;

    /// <summary>The trusted type named <paramref name="nameOrTypeId"/> (friendly name or base64 type id), or null.</summary>
    public TrustedCertificateType? Find(string nameOrTypeId) =>
        _byTypeId.TryGetValue(nameOrTypeId, out TrustedCertificateType? t)
            ? t
            : _byTypeId.Values.FirstOrDefault(v => string.Equals(v.Name, nameOrTypeId, StringComparison.Ordinal));

    /// <summary>True when the certificate has been revoked (asked again at each use, so a revocation takes effect at once).</summary>
    public bool IsRevoked(Certificate certificate) => isRevoked?.Invoke(certificate) ?? false;

    /// <summary>The verdict on a certificate <paramref name="sender"/> presented.</summary>
    public CertificateVerdict Evaluate(VerifiableCertificate presented, PublicKey sender)
    {
        ArgumentNullException.ThrowIfNull(presented);
        ArgumentNullException.ThrowIfNull(sender);
        Certificate c = presented.Certificate;
        if (!c.Subject.Equals(sender))
        {
            return Refused(null, AuthReasons.CertificateInvalid, $"certificate {c.SerialNumber}'s subject is not the sender");
        }

        if (!_byTypeId.TryGetValue(c.Type, out TrustedCertificateType? type))
        {
            return Refused(null, AuthReasons.CertifierUntrusted, $"certificate type {c.Type} is not trusted here");
        }

        string certifier = c.Certifier.ToHex();
        if (!type.Certifiers.Contains(certifier))
        {
            return Refused(type, AuthReasons.CertifierUntrusted, $"certifier {certifier} is not trusted for {type.Name} certificates");
        }

        bool signed;
        try
        {
            signed = c.Signature is { Length: > 0 } && c.Verify();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or CryptographicException or CertificateException)
        {
            signed = false;
        }

        if (!signed)
        {
            return Refused(type, AuthReasons.CertificateInvalid, $"certificate {c.SerialNumber}'s signature does not verify under its certifier");
        }

        if (IsRevoked(c))
        {
            return Refused(type, AuthReasons.CertificateRevoked, $"certificate {c.SerialNumber} was revoked ({c.RevocationOutpoint} is spent)");
        }

        Dictionary<string, string> revealed;
        try
        {
            revealed = presented.Keyring.Count == 0 ? [] : presented.DecryptFields(verifier);
        }
        catch (Exception e) when (e is CertificateException or ArgumentException or FormatException or CryptographicException)
        {
            return Refused(type, AuthReasons.CertificateInvalid, $"certificate {c.SerialNumber}'s keyring does not decrypt: {e.Message}");
        }

        return new CertificateVerdict(presented, type, null, null, revealed);

        CertificateVerdict Refused(TrustedCertificateType? t, string reason, string detail) =>
            new(presented, t, reason, detail, new Dictionary<string, string>());
    }
}
