using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Certificates;

/// <summary>
/// A BRC-52 certificate as a verifier receives it: the signed certificate and a keyring revealing some field keys,
/// each encrypted from the subject to the verifier under key id "{serialNumber} {fieldName}" (@bsv/sdk 2.1.0's
/// <c>VerifiableCertificate</c>).
/// </summary>
/// <param name="Certificate">The signed certificate.</param>
/// <param name="Keyring">Field name to base64 of its key encrypted for the verifier.</param>
public sealed record VerifiableCertificate(Certificate Certificate, IReadOnlyDictionary<string, string> Keyring)
{
    /// <summary>The revealed fields' plaintexts, decrypted by the verifier's wallet.</summary>
    /// <exception cref="CertificateException">The keyring is empty, names a field the certificate lacks, or does not decrypt.</exception>
    public Dictionary<string, string> DecryptFields(ProtoWallet verifierWallet)
    {
        ArgumentNullException.ThrowIfNull(verifierWallet);
        if (Keyring is null || Keyring.Count == 0)
        {
            throw new CertificateException("A keyring is required to decrypt certificate fields for the verifier.");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, encryptedKey) in Keyring)
        {
            if (!Certificate.Fields.TryGetValue(name, out string? value))
            {
                throw new CertificateException($"The keyring reveals the field \"{name}\", which the certificate does not have.", name);
            }

            var (protocol, keyId) = Certificate.FieldEncryptionDetails(name, Certificate.SerialNumber);
            result[name] = MasterCertificate.OpenField(
                verifierWallet, encryptedKey, name, value, protocol, keyId, Counterparty.Of(Certificate.Subject)).Value;
        }

        return result;
    }
}
