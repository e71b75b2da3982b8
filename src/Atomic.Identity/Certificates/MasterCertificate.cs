using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Crypto;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Certificates;

/// <summary>
/// A BRC-52 certificate as its subject (or certifier) holds it: every field encrypted under its own random key, and
/// the master keyring holding each field key encrypted between subject and certifier, as @bsv/sdk 2.1.0's
/// <c>MasterCertificate</c> does (protocol [2, "certificate field encryption"], key id = the field name).
/// </summary>
/// <param name="Certificate">The signed certificate; its field values are base64 of the encrypted values.</param>
/// <param name="MasterKeyring">Field name to base64 of the field key encrypted between subject and certifier.</param>
public sealed record MasterCertificate(Certificate Certificate, IReadOnlyDictionary<string, string> MasterKeyring)
{
    /// <summary>Field name to base64 of the field key; there is one for every field, as @bsv/sdk requires.</summary>
    /// <exception cref="ArgumentException">A field has no key, or an empty one.</exception>
    public IReadOnlyDictionary<string, string> MasterKeyring { get; init; } = CheckKeyring(Certificate, MasterKeyring);

    /// <summary>
    /// The certificate's JSON (as <see cref="CertificateIssuance.WriteCertificate"/> writes it) with its
    /// <c>masterKeyring</c>: what <c>atomic identity issue</c> prints and <see cref="FromJson"/> reads.
    /// </summary>
    public string ToJson(bool indented = false)
    {
        using var inner = new MemoryStream();
        using (var c = new Utf8JsonWriter(inner))
        {
            CertificateIssuance.WriteCertificate(c, Certificate);
        }

        using JsonDocument certificate = JsonDocument.Parse(inner.ToArray());
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            foreach (JsonProperty p in certificate.RootElement.EnumerateObject())
            {
                p.WriteTo(w);
            }

            w.WriteStartObject("masterKeyring");
            foreach (var (k, v) in MasterKeyring)
            {
                w.WriteString(k, v);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// Reads a master certificate as <c>atomic identity issue</c> prints it: the certificate's JSON (as
    /// <see cref="CertificateIssuance.WriteCertificate"/> writes it) with its <c>masterKeyring</c>.
    /// </summary>
    /// <exception cref="AuthPayloadException">Not JSON, not such an object, or a keyring lacking a field's key.</exception>
    public static MasterCertificate FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            Certificate certificate = CertificateIssuance.ReadCertificate(doc.RootElement);
            Dictionary<string, string> keyring = AuthCertificates.StringMap(doc.RootElement, "masterKeyring", "a master certificate's ");
            return new MasterCertificate(certificate, keyring);
        }
        catch (JsonException e)
        {
            throw new AuthPayloadException($"a master certificate is not JSON: {e.Message}", innerException: e);
        }
        catch (ArgumentException e)
        {
            throw new AuthPayloadException($"a master certificate does not hold together: {e.Message}", innerException: e);
        }
    }

    /// <summary>
    /// Encrypts each field under a fresh key and encrypts that key for <paramref name="certifierOrSubject"/>
    /// (the party on the other side of the master keyring).
    /// </summary>
    public static (Dictionary<string, string> Fields, Dictionary<string, string> MasterKeyring) CreateCertificateFields(
        ProtoWallet creatorWallet, Counterparty certifierOrSubject, IReadOnlyDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(creatorWallet);
        ArgumentNullException.ThrowIfNull(certifierOrSubject);
        ArgumentNullException.ThrowIfNull(fields);
        var encrypted = new Dictionary<string, string>(StringComparer.Ordinal);
        var keyring = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in fields)
        {
            if (string.IsNullOrEmpty(value))
            {
                // @bsv/sdk would encrypt it to IV || tag, which its own decrypt (and ours) refuses: nobody could read it.
                throw new ArgumentException(
                    $"The field \"{name}\" is empty; an empty value cannot be encrypted so that it decrypts.", nameof(fields));
            }

            SymmetricKey fieldKey = SymmetricKey.Random();
            encrypted[name] = Convert.ToBase64String(fieldKey.Encrypt(Encoding.UTF8.GetBytes(value)));
            var (protocol, keyId) = Certificate.FieldEncryptionDetails(name);
            // @bsv/sdk encrypts the key as its big number's bytes (leading zeros dropped); so do we, byte for byte.
            keyring[name] = Convert.ToBase64String(creatorWallet.Encrypt(fieldKey.ToSdkBytes(), protocol, keyId, certifierOrSubject));
        }

        return (encrypted, keyring);
    }

    /// <summary>
    /// The certifier's side of issuance: encrypts <paramref name="fields"/> for <paramref name="subject"/>, builds and
    /// signs the certificate (a random serial number unless one is given).
    /// </summary>
    public static MasterCertificate IssueCertificateForSubject(
        ProtoWallet certifierWallet,
        Counterparty subject,
        IReadOnlyDictionary<string, string> fields,
        string certificateType,
        string revocationOutpoint,
        string? serialNumber = null)
    {
        ArgumentNullException.ThrowIfNull(certifierWallet);
        ArgumentNullException.ThrowIfNull(subject);
        serialNumber ??= Convert.ToBase64String(RandomNumberGenerator.GetBytes(Certificate.IdSize));
        var (encrypted, keyring) = CreateCertificateFields(certifierWallet, subject, fields);
        PublicKey subjectKey = subject.Kind switch
        {
            CounterpartyKind.Self => certifierWallet.IdentityKey,
            CounterpartyKind.Other => subject.PublicKey!,
            _ => throw new ArgumentException("A certificate's subject is a public key or self, not anyone.", nameof(subject)),
        };
        var certificate = new Certificate(
            certificateType, serialNumber, subjectKey, certifierWallet.IdentityKey, revocationOutpoint, encrypted);
        return new MasterCertificate(certificate.Sign(certifierWallet), keyring);
    }

    /// <summary>
    /// Selective disclosure: the subject decrypts the keys of <paramref name="fieldsToReveal"/> from the master
    /// keyring (checking each decrypts its field) and encrypts them for <paramref name="verifier"/> under key id
    /// "{serialNumber} {fieldName}".
    /// </summary>
    /// <exception cref="CertificateException">A field is not in the certificate or its key does not decrypt it.</exception>
    public static Dictionary<string, string> CreateKeyringForVerifier(
        ProtoWallet subjectWallet,
        Counterparty certifier,
        Counterparty verifier,
        IReadOnlyDictionary<string, string> fields,
        IEnumerable<string> fieldsToReveal,
        IReadOnlyDictionary<string, string> masterKeyring,
        string serialNumber)
    {
        ArgumentNullException.ThrowIfNull(subjectWallet);
        ArgumentNullException.ThrowIfNull(verifier);
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(fieldsToReveal);
        var keyring = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in fieldsToReveal)
        {
            if (!fields.TryGetValue(name, out string? value) || string.IsNullOrEmpty(value))
            {
                throw new CertificateException(
                    $"Fields to reveal must be a subset of the certificate fields. Missing the \"{name}\" field.", name);
            }

            byte[] fieldKey = DecryptField(subjectWallet, masterKeyring, name, value, certifier).FieldKey;
            var (protocol, keyId) = Certificate.FieldEncryptionDetails(name, serialNumber);
            keyring[name] = Convert.ToBase64String(subjectWallet.Encrypt(fieldKey, protocol, keyId, verifier));
        }

        return keyring;
    }

    /// <summary>Every field's plaintext, decrypted with the master keyring by the subject or the certifier.</summary>
    /// <exception cref="CertificateException">The keyring is empty, or a field cannot be decrypted.</exception>
    public static Dictionary<string, string> DecryptFields(
        ProtoWallet subjectOrCertifierWallet,
        IReadOnlyDictionary<string, string> masterKeyring,
        IReadOnlyDictionary<string, string> fields,
        Counterparty counterparty)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in fields)
        {
            result[name] = DecryptField(subjectOrCertifierWallet, masterKeyring, name, value, counterparty).Value;
        }

        return result;
    }

    /// <summary>One field's key (as @bsv/sdk's bytes) and plaintext, via the master keyring.</summary>
    /// <exception cref="CertificateException">The keyring lacks the field, is not base64, or does not decrypt it.</exception>
    public static (byte[] FieldKey, string Value) DecryptField(
        ProtoWallet subjectOrCertifierWallet,
        IReadOnlyDictionary<string, string> masterKeyring,
        string fieldName,
        string fieldValue,
        Counterparty counterparty)
    {
        ArgumentNullException.ThrowIfNull(subjectOrCertifierWallet);
        ArgumentNullException.ThrowIfNull(counterparty);
        if (masterKeyring is null || masterKeyring.Count == 0)
        {
            throw new CertificateException("A MasterCertificate must have a valid masterKeyring!");
        }

        if (!masterKeyring.TryGetValue(fieldName, out string? encryptedKey))
        {
            throw new CertificateException($"The master keyring has no key for the field \"{fieldName}\".", fieldName);
        }

        var (protocol, keyId) = Certificate.FieldEncryptionDetails(fieldName);
        return OpenField(subjectOrCertifierWallet, encryptedKey, fieldName, fieldValue, protocol, keyId, counterparty);
    }

    /// <summary>
    /// This certificate's fields decrypted by <paramref name="wallet"/>: the subject's, with the certifier as
    /// counterparty, or the certifier's, with the subject.
    /// </summary>
    public Dictionary<string, string> DecryptFields(ProtoWallet wallet, Counterparty counterparty) =>
        DecryptFields(wallet, MasterKeyring, Certificate.Fields, counterparty);

    /// <summary>A keyring revealing <paramref name="fieldsToReveal"/> of this certificate to <paramref name="verifier"/>.</summary>
    public Dictionary<string, string> CreateKeyringForVerifier(
        ProtoWallet subjectWallet, Counterparty verifier, IEnumerable<string> fieldsToReveal) =>
        CreateKeyringForVerifier(
            subjectWallet,
            Counterparty.Of(Certificate.Certifier),
            verifier,
            Certificate.Fields,
            fieldsToReveal,
            MasterKeyring,
            Certificate.SerialNumber);

    private static IReadOnlyDictionary<string, string> CheckKeyring(Certificate certificate, IReadOnlyDictionary<string, string> keyring)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(keyring);
        foreach (string name in certificate.Fields.Keys)
        {
            if (!keyring.TryGetValue(name, out string? key) || string.IsNullOrEmpty(key))
            {
                throw new ArgumentException(
                    $"Master keyring must contain a value for every field. Missing or empty key for field: \"{name}\".", nameof(keyring));
            }
        }

        return keyring;
    }

    internal static (byte[] FieldKey, string Value) OpenField(
        ProtoWallet wallet,
        string encryptedKey,
        string fieldName,
        string fieldValue,
        WalletProtocol protocol,
        string keyId,
        Counterparty counterparty)
    {
        byte[] fieldKey;
        try
        {
            fieldKey = wallet.Decrypt(Base64(encryptedKey, fieldName, "key"), protocol, keyId, counterparty);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new CertificateException($"The key of the field \"{fieldName}\" does not decrypt: {ex.Message}", fieldName, ex);
        }

        try
        {
            byte[] plaintext = new SymmetricKey(fieldKey).Decrypt(Base64(fieldValue, fieldName, "value"));
            return (fieldKey, Encoding.UTF8.GetString(plaintext));
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new CertificateException($"The field \"{fieldName}\" does not decrypt with its key: {ex.Message}", fieldName, ex);
        }
    }

    private static byte[] Base64(string text, string fieldName, string what)
    {
        try
        {
            return Convert.FromBase64String(
                text ?? throw new CertificateException($"The {what} of the field \"{fieldName}\" is missing.", fieldName));
        }
        catch (FormatException ex)
        {
            throw new CertificateException($"The {what} of the field \"{fieldName}\" is not valid base64.", fieldName, ex);
        }
    }
}
