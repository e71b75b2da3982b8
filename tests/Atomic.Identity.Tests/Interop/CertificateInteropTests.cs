using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests.Interop;

/// <summary>BRC-52 certificates between us and @bsv/sdk 2.1.0 (tests/interop/identity-peer.mjs), in both directions.</summary>
public class CertificateInteropTests
{
    private static readonly string Type = Convert.ToBase64String(SHA256.HashData("interop certificate"u8));
    private static readonly string Outpoint = Hex.Encode(SHA256.HashData("revocation"u8)) + ".1";

    // Mixed case, punctuation and digits so that the field order is @bsv/sdk's localeCompare, not ordinal.
    private static readonly Dictionary<string, string> Fields = new()
    {
        ["firstName"] = "Alice",
        ["first_name"] = "alice",
        ["Email"] = "alice@example.com",
        ["age"] = "42",
        ["address line 2"] = "Flat 9 ✓",
        ["x-y"] = new string('z', 1000),
    };

    private readonly PrivateKey _certifierKey = PrivateKey.Random();
    private readonly PrivateKey _subjectKey = PrivateKey.Random();
    private readonly PrivateKey _verifierKey = PrivateKey.Random();

    [Fact]
    public async Task A_certificate_issued_by_the_sdk_verifies_here_serializes_the_same_and_its_subject_reads_it_here()
    {
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(_certifierKey.ToHex(), new
        {
            op = "issueCertificate",
            subject = _subjectKey.PublicKey.ToHex(),
            fields = Fields,
            type = Type,
            revocationOutpoint = Outpoint,
        });
        JsonElement json = sdk[0].GetProperty("certificate");
        Certificate c = CertificateTests.FromJson(json);
        c.Verify().Should().BeTrue();
        Hex.Encode(c.ToBinary()).Should().Be(sdk[0].Get("binary"));
        Certificate.FromBinary(Hex.Decode(sdk[0].Get("binary"))).Verify().Should().BeTrue();

        var master = new MasterCertificate(c, Keyring(json.GetProperty("masterKeyring")));
        var subject = new ProtoWallet(_subjectKey);
        master.DecryptFields(subject, Counterparty.Of(_certifierKey.PublicKey)).Should().Equal(Fields);

        // The subject (here) reveals two fields to a verifier (the sdk), which decrypts exactly those.
        Dictionary<string, string> keyring =
            master.CreateKeyringForVerifier(subject, Counterparty.Of(_verifierKey.PublicKey), ["firstName", "x-y"]);
        IReadOnlyList<JsonElement> verifier = await IdentityPeer.AskAsync(_verifierKey.ToHex(), new
        {
            op = "decryptForVerifier",
            certificate = json,
            keyring,
        });
        Keyring(verifier[0].GetProperty("fields")).Should().Equal(new Dictionary<string, string>
        {
            ["firstName"] = "Alice",
            ["x-y"] = Fields["x-y"],
        });
    }

    [Fact]
    public async Task A_certificate_issued_here_verifies_in_the_sdk_and_its_subject_there_reveals_fields_we_can_read()
    {
        var certifier = new ProtoWallet(_certifierKey);
        MasterCertificate master =
            MasterCertificate.IssueCertificateForSubject(certifier, Counterparty.Of(_subjectKey.PublicKey), Fields, Type, Outpoint);
        object json = Json(master.Certificate);
        object tampered = Json(master.Certificate,
            fields: new Dictionary<string, string>(master.Certificate.Fields) { ["age"] = master.Certificate.Fields["Email"] });
        object wrongCertifier = Json(master.Certificate, certifier: _verifierKey.PublicKey);

        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(
            _subjectKey.ToHex(),
            new { op = "verifyCertificate", certificate = json },
            new { op = "verifyCertificate", certificate = tampered },
            new { op = "verifyCertificate", certificate = wrongCertifier },
            new { op = "certificateBinary", certificate = json },
            new { op = "certificateFromBinary", binary = Hex.Encode(master.Certificate.ToBinary()) },
            new
            {
                op = "decryptMasterFields",
                masterKeyring = master.MasterKeyring,
                fields = master.Certificate.Fields,
                counterparty = _certifierKey.PublicKey.ToHex(),
            },
            new
            {
                op = "createKeyringForVerifier",
                certifier = _certifierKey.PublicKey.ToHex(),
                verifier = _verifierKey.PublicKey.ToHex(),
                fields = master.Certificate.Fields,
                fieldsToReveal = new[] { "Email", "address line 2" },
                masterKeyring = master.MasterKeyring,
                serialNumber = master.Certificate.SerialNumber,
            });
        sdk[0].Get("valid").Should().Be("True");
        sdk[1].Error().Should().Be("Signature is not valid");
        sdk[2].Error().Should().Be("Signature is not valid");
        sdk[3].Get("binary").Should().Be(Hex.Encode(master.Certificate.ToBinary()));
        sdk[3].Get("preimage").Should().Be(Hex.Encode(master.Certificate.ToBinary(includeSignature: false)));
        CertificateTests.FromJson(sdk[4].GetProperty("certificate")).ToBinary().Should().Equal(master.Certificate.ToBinary());
        Keyring(sdk[5].GetProperty("fields")).Should().Equal(Fields);

        var shown = new VerifiableCertificate(master.Certificate, Keyring(sdk[6].GetProperty("keyring")));
        shown.DecryptFields(new ProtoWallet(_verifierKey)).Should().Equal(new Dictionary<string, string>
        {
            ["Email"] = "alice@example.com",
            ["address line 2"] = "Flat 9 ✓",
        });
        shown.Invoking(s => s.DecryptFields(new ProtoWallet(PrivateKey.Random()))).Should().Throw<CertificateException>();
    }

    [Fact]
    public async Task A_master_keyring_made_by_the_subject_here_is_read_by_the_certifier_in_the_sdk()
    {
        // The other direction of createCertificateFields: the subject encrypts for the certifier (as when requesting one).
        var subject = new ProtoWallet(_subjectKey);
        var (fields, keyring) = MasterCertificate.CreateCertificateFields(subject, Counterparty.Of(_certifierKey.PublicKey), Fields);
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(_certifierKey.ToHex(), new
        {
            op = "decryptMasterFields",
            masterKeyring = keyring,
            fields,
            counterparty = _subjectKey.PublicKey.ToHex(),
        });
        Keyring(sdk[0].GetProperty("fields")).Should().Equal(Fields);
    }

    [Fact]
    public async Task Field_names_are_ordered_exactly_as_the_sdks_localeCompare()
    {
        // Random names over printable ASCII, weighted towards the characters where ICU and ordinal order disagree.
        var random = new Random(20261203);
        const string Alphabet = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789aAbBzZ";
        List<string> names = [.. Enumerable.Range(0, 400).Select(_ =>
            new string([.. Enumerable.Range(0, random.Next(1, 6))
                .Select(_ => random.Next(4) == 0 ? (char)random.Next(32, 127) : Alphabet[random.Next(Alphabet.Length)])]))
            .Distinct()];
        IReadOnlyList<JsonElement> sdk = await IdentityPeer.AskAsync(_subjectKey.ToHex(), new { op = "sortFieldNames", names });
        List<string> theirs = [.. sdk[0].GetProperty("names").EnumerateArray().Select(n => n.GetString()!)];
        names.Sort(FieldNameOrder.Instance);
        names.Should().Equal(theirs);
    }

    private static Dictionary<string, string> Keyring(JsonElement obj) =>
        obj.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    private static object Json(Certificate c, IReadOnlyDictionary<string, string>? fields = null, PublicKey? certifier = null) => new
    {
        type = c.Type,
        serialNumber = c.SerialNumber,
        subject = c.Subject.ToHex(),
        certifier = (certifier ?? c.Certifier).ToHex(),
        revocationOutpoint = c.RevocationOutpoint,
        fields = fields ?? c.Fields,
        signature = c.Signature is null ? null : Hex.Encode(c.Signature),
    };
}
