using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Certificates;

/// <summary>
/// BRC-53 certificate issuance as @bsv/sdk wallets speak it (<c>acquireCertificate</c> with
/// <c>acquisitionProtocol: 'issuance'</c>): the subject posts {clientNonce, type, fields (encrypted), masterKeyring} to
/// <c>{certifierUrl}/signCertificate</c> over BRC-103; the certifier answers {certificate, serverNonce}, the serial number
/// being the HMAC (protocol [2, "certificate issuance"], key id serverNonce + clientNonce, between the two) of the bytes
/// of clientNonce + serverNonce read as one base64 text. Both sides are here.
/// </summary>
public static class CertificateIssuance
{
    /// <summary>The protocol of the serial number's HMAC.</summary>
    public static readonly WalletProtocol SerialNumberProtocol = new(2, "certificate issuance");

    /// <summary>The serial number both sides compute from the two nonces (<paramref name="wallet"/> is either side).</summary>
    public static byte[] SerialNumberHmac(ProtoWallet wallet, PublicKey counterparty, string clientNonce, string serverNonce)
    {
        ArgumentNullException.ThrowIfNull(wallet);
        return wallet.CreateHmac(Convert.FromBase64String(clientNonce + serverNonce), SerialNumberProtocol, serverNonce + clientNonce, Counterparty.Of(counterparty));
    }

    /// <summary>The subject's request: a nonce for the certifier and the fields encrypted for it.</summary>
    public static IssuanceRequest CreateRequest(
        ProtoWallet subject, PublicKey certifier, string type, IReadOnlyDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(subject);
        string clientNonce = AuthNonce.Create(subject, Counterparty.Of(certifier));
        var (encrypted, keyring) = MasterCertificate.CreateCertificateFields(subject, Counterparty.Of(certifier), fields);
        return new IssuanceRequest(clientNonce, type, encrypted, keyring);
    }

    /// <summary>
    /// The certifier's side: checks the client nonce is the subject's for us, decrypts the fields with the master
    /// keyring, makes the serial number from a fresh server nonce and signs the certificate (with its encrypted fields).
    /// </summary>
    /// <exception cref="CertificateException">The nonce is not the subject's, or a field does not decrypt.</exception>
    public static (Certificate Certificate, string ServerNonce, Dictionary<string, string> Plaintext) Issue(
        ProtoWallet certifier, PublicKey subject, IssuanceRequest request, Func<string, string> revocationOutpointFor)
    {
        ArgumentNullException.ThrowIfNull(revocationOutpointFor);
        return IssueAsync(certifier, subject, request, serial => Task.FromResult(revocationOutpointFor(serial))).GetAwaiter().GetResult();
    }

    /// <inheritdoc cref="Issue"/>
    public static async Task<(Certificate Certificate, string ServerNonce, Dictionary<string, string> Plaintext)> IssueAsync(
        ProtoWallet certifier, PublicKey subject, IssuanceRequest request, Func<string, Task<string>> revocationOutpointFor)
    {
        ArgumentNullException.ThrowIfNull(certifier);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(revocationOutpointFor);
        if (!AuthNonce.Verify(request.ClientNonce, certifier, Counterparty.Of(subject)))
        {
            throw new CertificateException("clientNonce is not a nonce the subject made for this certifier");
        }

        Dictionary<string, string> plaintext = MasterCertificate.DecryptFields(
            certifier, request.MasterKeyring, request.Fields, Counterparty.Of(subject));
        string serverNonce = AuthNonce.Create(certifier, Counterparty.Of(subject));
        string serial = Convert.ToBase64String(SerialNumberHmac(certifier, subject, request.ClientNonce, serverNonce));
        string outpoint = await revocationOutpointFor(serial).ConfigureAwait(false);
        var certificate = new Certificate(request.Type, serial, subject, certifier.IdentityKey, outpoint, request.Fields).Sign(certifier);
        return (certificate, serverNonce, plaintext);
    }

    /// <summary>
    /// The subject's side of the answer, checked as @bsv/sdk's wallets check it: the server nonce is the certifier's,
    /// the serial number is the HMAC of both nonces, type, subject, certifier and fields are what was asked, a revocation
    /// outpoint is named, the signature verifies and the master keyring decrypts the fields.
    /// </summary>
    /// <exception cref="CertificateException">Any check fails (the message says which).</exception>
    public static MasterCertificate Complete(
        ProtoWallet subject, PublicKey certifier, IssuanceRequest request, Certificate issued, string serverNonce)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(issued);
        ArgumentNullException.ThrowIfNull(request);
        if (!AuthNonce.Verify(serverNonce, subject, Counterparty.Of(certifier)))
        {
            throw new CertificateException("serverNonce is not the certifier's");
        }

        byte[] expected = SerialNumberHmac(subject, certifier, request.ClientNonce, serverNonce);
        if (issued.SerialNumber != Convert.ToBase64String(expected))
        {
            throw new CertificateException("the serial number is not the HMAC of both nonces");
        }

        if (issued.Type != request.Type || !issued.Subject.Equals(subject.IdentityKey) || !issued.Certifier.Equals(certifier))
        {
            throw new CertificateException("the certificate's type, subject or certifier is not what was asked");
        }

        if (issued.Fields.Count != request.Fields.Count
            || request.Fields.Any(f => !issued.Fields.TryGetValue(f.Key, out string? v) || v != f.Value))
        {
            throw new CertificateException("the certificate's fields are not the ones sent");
        }

        if (!issued.Verify())
        {
            throw new CertificateException("the certifier's signature does not verify");
        }

        MasterCertificate.DecryptFields(subject, request.MasterKeyring, issued.Fields, Counterparty.Of(certifier));
        return new MasterCertificate(issued, request.MasterKeyring);
    }

    /// <summary>A certificate as JSON {type, serialNumber, subject, certifier, revocationOutpoint, fields, signature (hex)}.</summary>
    public static void WriteCertificate(Utf8JsonWriter w, Certificate c)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(c);
        w.WriteStartObject();
        w.WriteString("type", c.Type);
        w.WriteString("serialNumber", c.SerialNumber);
        w.WriteString("subject", c.Subject.ToHex());
        w.WriteString("certifier", c.Certifier.ToHex());
        w.WriteString("revocationOutpoint", c.RevocationOutpoint);
        w.WriteStartObject("fields");
        foreach (var (k, v) in c.Fields)
        {
            w.WriteString(k, v);
        }

        w.WriteEndObject();
        if (c.Signature is not null)
        {
            w.WriteString("signature", Hex.Encode(c.Signature));
        }

        w.WriteEndObject();
    }

    /// <summary>Reads a certificate written by <see cref="WriteCertificate"/> (or @bsv/sdk's JSON of one).</summary>
    /// <exception cref="AuthPayloadException">Not such an object.</exception>
    public static Certificate ReadCertificate(JsonElement json) =>
        AuthCertificates.FromJson(JsonDocument.Parse($"[{json.GetRawText()}]").RootElement)[0].Certificate;
}

/// <summary>The body of a BRC-53 signCertificate request.</summary>
/// <param name="ClientNonce">The subject's nonce for the certifier.</param>
/// <param name="Type">The certificate type (base64).</param>
/// <param name="Fields">Field name to base64 of the encrypted value.</param>
/// <param name="MasterKeyring">Field name to base64 of the field key, encrypted for the certifier.</param>
public sealed record IssuanceRequest(
    string ClientNonce, string Type, IReadOnlyDictionary<string, string> Fields, IReadOnlyDictionary<string, string> MasterKeyring)
{
    /// <summary>The JSON the subject posts.</summary>
    public string ToJson() => JsonSerializer.Serialize(new { clientNonce = ClientNonce, type = Type, fields = Fields, masterKeyring = MasterKeyring });

    /// <summary>Reads a posted body.</summary>
    /// <exception cref="AuthPayloadException">Not {clientNonce, type, fields, masterKeyring} of strings.</exception>
    public static IssuanceRequest FromJson(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw new AuthPayloadException("a signCertificate request is a JSON object");
        }

        return new IssuanceRequest(Text(json, "clientNonce"), Text(json, "type"), AuthCertificates.StringMap(json, "fields", string.Empty), AuthCertificates.StringMap(json, "masterKeyring", string.Empty));

        static string Text(JsonElement o, string name) =>
            o.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.String
                ? e.GetString()!
                : throw new AuthPayloadException($"{name} is missing or not a string");
    }
}
