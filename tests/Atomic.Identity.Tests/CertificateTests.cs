using System.Security.Cryptography;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests;

public class CertificateTests
{
    private static readonly string Type = Convert.ToBase64String(SHA256.HashData("test certificate type"u8));
    private static readonly string Outpoint = new string('a', 64) + ".3";
    private static readonly Dictionary<string, string> Fields = new()
    {
        ["name"] = "Alice Example",
        ["email"] = "alice@example.com",
        ["over18"] = "true",
        ["nickname"] = "Al",
    };

    private readonly ProtoWallet _certifier = new(PrivateKey.Random());
    private readonly ProtoWallet _subject = new(PrivateKey.Random());
    private readonly ProtoWallet _verifier = new(PrivateKey.Random());

    [Fact]
    public void The_BRC52_spec_example_serializes_as_the_sdk_does_and_its_illustrative_signature_does_not_verify()
    {
        // bitcoin-sv/BRCs peer-to-peer/0052.md (Vectors/spec_examples.json). @bsv/sdk 2.1.0 gives the same 387 bytes
        // (sha256 947ffb98…74fe, computed with its Certificate.toBinary) and also rejects the signature.
        Certificate c = FromJson(VectorFiles.Load("spec_examples.json").GetProperty("BRC-52_example_certificate").GetProperty("json"));
        byte[] binary = c.ToBinary();
        binary.Should().HaveCount(387);
        Hex.Encode(SHA256.HashData(binary)).Should().Be("947ffb9894226718ebaf12f06ca76e2e0ea858a7b6c62f2b524a3a9af28574fe");
        c.Verify().Should().BeFalse();
        Certificate back = Certificate.FromBinary(binary);
        back.ToBinary().Should().Equal(binary);
        back.Fields.Should().Equal(c.Fields);
        back.RevocationOutpoint.Should().Be(c.RevocationOutpoint);
    }

    [Fact]
    public void An_issued_certificate_verifies_and_any_change_breaks_it()
    {
        Certificate c = Issue().Certificate;
        c.Certifier.Should().Be(_certifier.IdentityKey);
        c.Subject.Should().Be(_subject.IdentityKey);
        c.Verify().Should().BeTrue();
        Certificate.FromBinary(c.ToBinary()).Verify().Should().BeTrue();

        var altered = new Dictionary<string, string>(c.Fields) { ["name"] = c.Fields["email"] };
        With(c, fields: altered).Verify().Should().BeFalse();
        With(c, fields: new Dictionary<string, string>(c.Fields) { ["extra"] = "x" }).Verify().Should().BeFalse();
        With(c, certifier: _verifier.IdentityKey).Verify().Should().BeFalse();
        With(c, subject: _verifier.IdentityKey).Verify().Should().BeFalse();
        With(c, outpoint: new string('a', 64) + ".4").Verify().Should().BeFalse();
        With(c, serial: Convert.ToBase64String(new byte[32])).Verify().Should().BeFalse();
        byte[] badSignature = (byte[])c.Signature!.Clone();
        badSignature[10] ^= 1;
        With(c, signature: badSignature).Verify().Should().BeFalse();
        With(c, signature: []).Verify().Should().BeFalse();
    }

    [Fact]
    public void A_certificate_signed_by_someone_else_than_its_certifier_does_not_verify()
    {
        Certificate c = Issue().Certificate;
        // Re-sign with another wallet but claim the original certifier.
        Certificate forged = With(c, signature: []).Sign(_verifier);
        forged.Verify().Should().BeTrue();
        With(forged, certifier: _certifier.IdentityKey).Verify().Should().BeFalse();
        c.Invoking(x => x.Sign(_certifier)).Should().Throw<InvalidOperationException>().WithMessage("Certificate has already been signed*");
    }

    [Fact]
    public void Subject_and_certifier_both_decrypt_the_fields_with_the_master_keyring()
    {
        MasterCertificate master = Issue();
        master.Certificate.Fields.Values.Should().NotContain(Fields.Values.Where(v => v.Length > 0));
        master.DecryptFields(_subject, Counterparty.Of(_certifier.IdentityKey)).Should().Equal(Fields);
        master.DecryptFields(_certifier, Counterparty.Of(_subject.IdentityKey)).Should().Equal(Fields);
        FluentActions.Invoking(() => master.DecryptFields(_verifier, Counterparty.Of(_certifier.IdentityKey)))
            .Should().Throw<CertificateException>();
    }

    [Fact]
    public void A_verifier_keyring_reveals_only_the_chosen_fields_to_that_verifier()
    {
        MasterCertificate master = Issue();
        Dictionary<string, string> keyring =
            master.CreateKeyringForVerifier(_subject, Counterparty.Of(_verifier.IdentityKey), ["name", "over18"]);
        keyring.Keys.Should().BeEquivalentTo("name", "over18");
        var shown = new VerifiableCertificate(master.Certificate, keyring);
        shown.Certificate.Verify().Should().BeTrue();
        shown.DecryptFields(_verifier).Should().Equal(new Dictionary<string, string> { ["name"] = "Alice Example", ["over18"] = "true" });
        shown.Invoking(s => s.DecryptFields(new ProtoWallet(PrivateKey.Random()))).Should().Throw<CertificateException>();
        shown.Invoking(s => s.DecryptFields(_certifier)).Should().Throw<CertificateException>();
    }

    [Fact]
    public void Keyrings_that_do_not_fit_the_certificate_are_clear_errors()
    {
        MasterCertificate master = Issue();
        master.Invoking(m => m.CreateKeyringForVerifier(_subject, Counterparty.Of(_verifier.IdentityKey), ["age"]))
            .Should().Throw<CertificateException>().WithMessage("*subset of the certificate fields*").Which.FieldName.Should().Be("age");
        // The certifier cannot make a verifier keyring: the master keyring is encrypted to the subject.
        master.Invoking(m => m.CreateKeyringForVerifier(_verifier, Counterparty.Of(_verifier.IdentityKey), ["name"]))
            .Should().Throw<CertificateException>();

        Dictionary<string, string> keyring = master.CreateKeyringForVerifier(_subject, Counterparty.Of(_verifier.IdentityKey), ["name"]);
        new VerifiableCertificate(master.Certificate, new Dictionary<string, string>()).Invoking(v => v.DecryptFields(_verifier))
            .Should().Throw<CertificateException>().WithMessage("A keyring is required*");
        new VerifiableCertificate(master.Certificate, new Dictionary<string, string> { ["age"] = keyring["name"] })
            .Invoking(v => v.DecryptFields(_verifier)).Should().Throw<CertificateException>().Which.FieldName.Should().Be("age");
        new VerifiableCertificate(master.Certificate, new Dictionary<string, string> { ["name"] = "%%not base64%%" })
            .Invoking(v => v.DecryptFields(_verifier)).Should().Throw<CertificateException>().WithMessage("*not valid base64*");
        new VerifiableCertificate(master.Certificate, new Dictionary<string, string> { ["name"] = Convert.ToBase64String(new byte[20]) })
            .Invoking(v => v.DecryptFields(_verifier)).Should().Throw<CertificateException>().WithMessage("*too short*");
        // The key of one field does not open another.
        new VerifiableCertificate(master.Certificate, new Dictionary<string, string> { ["email"] = keyring["name"] })
            .Invoking(v => v.DecryptFields(_verifier)).Should().Throw<CertificateException>();
        // An altered field value is detected by its tag.
        var fields = new Dictionary<string, string>(master.Certificate.Fields);
        byte[] value = Convert.FromBase64String(fields["name"]);
        value[40] ^= 1;
        fields["name"] = Convert.ToBase64String(value);
        new VerifiableCertificate(With(master.Certificate, fields: fields), keyring)
            .Invoking(v => v.DecryptFields(_verifier)).Should().Throw<CertificateException>().WithMessage("*does not decrypt*");
    }

    [Fact]
    public void A_master_certificate_needs_a_key_for_every_field()
    {
        MasterCertificate master = Issue();
        var partial = new Dictionary<string, string>(master.MasterKeyring);
        partial.Remove("email");
        FluentActions.Invoking(() => new MasterCertificate(master.Certificate, partial))
            .Should().Throw<ArgumentException>().WithMessage("*every field*\"email\"*");
        partial["email"] = "";
        FluentActions.Invoking(() => new MasterCertificate(master.Certificate, partial)).Should().Throw<ArgumentException>();
        new MasterCertificate(master.Certificate, master.MasterKeyring).Should().Be(master);
    }

    [Fact]
    public void Malformed_certificate_values_and_bytes_are_clear_errors()
    {
        PublicKey k = _subject.IdentityKey;
        var none = new Dictionary<string, string>();
        FluentActions.Invoking(() => new Certificate("not base64!", Type, k, k, Outpoint, none))
            .Should().Throw<ArgumentException>().WithMessage("*not valid base64*");
        FluentActions.Invoking(() => new Certificate(Convert.ToBase64String(new byte[31]), Type, k, k, Outpoint, none))
            .Should().Throw<ArgumentException>().WithMessage("*32 bytes*not 31*");
        FluentActions.Invoking(() => new Certificate(Type, Type, k, k, new string('a', 64), none))
            .Should().Throw<ArgumentException>().WithMessage("*revocation outpoint*");
        FluentActions.Invoking(() => new Certificate(Type, Type, k, k, new string('g', 64) + ".0", none))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new Certificate(Type, Type, k, k, new string('a', 64) + ".-1", none))
            .Should().Throw<ArgumentException>();

        byte[] binary = Issue().Certificate.ToBinary();
        foreach (int length in new[] { 0, 31, 64, 100, 161, 200 })
        {
            FluentActions.Invoking(() => Certificate.FromBinary(binary.AsSpan(0, length))).Should().Throw<BsvFormatException>();
        }

        byte[] badKey = (byte[])binary.Clone();
        badKey[64] = 0x05;
        FluentActions.Invoking(() => Certificate.FromBinary(badKey)).Should().Throw<BsvFormatException>().WithMessage("*subject*");
        byte[] unsigned = Issue().Certificate.ToBinary(includeSignature: false);
        FluentActions.Invoking(() => Certificate.FromBinary([.. unsigned, 0x01, 0x02]))
            .Should().Throw<BsvFormatException>().WithMessage("*not a DER signature*");
    }

    [Fact]
    public void An_empty_field_value_is_refused_because_its_ciphertext_could_never_be_decrypted()
    {
        // @bsv/sdk issues it, but its SymmetricKey.decrypt refuses the resulting IV||tag ("Cipher text must not be empty").
        FluentActions.Invoking(() => MasterCertificate.IssueCertificateForSubject(
                _certifier, Counterparty.Of(_subject.IdentityKey), new Dictionary<string, string> { ["nickname"] = "" }, Type, Outpoint))
            .Should().Throw<ArgumentException>().WithMessage("*nickname*empty*");
    }

    [Fact]
    public void Certificates_without_fields_or_signature_round_trip()
    {
        var c = new Certificate(Type, Type, _subject.IdentityKey, _certifier.IdentityKey, Outpoint, new Dictionary<string, string>());
        c.Verify().Should().BeFalse();
        byte[] unsigned = c.ToBinary();
        unsigned.Should().HaveCount(32 + 32 + 33 + 33 + 32 + 1 + 1);
        Certificate.FromBinary(unsigned).Signature.Should().BeNull();
        Certificate signed = c.Sign(_certifier);
        signed.ToBinary(includeSignature: false).Should().Equal(unsigned);
        Certificate.FromBinary(signed.ToBinary()).Verify().Should().BeTrue();
    }

    [Theory]
    [InlineData("b,A,a,B,a_b,aB,ab", "a,A,a_b,ab,aB,b,B")]
    [InlineData("name,email,over18,nickname", "email,name,nickname,over18")]
    [InlineData("firstName,first_name,firstname,first-name,first name", "first name,first_name,first-name,firstname,firstName")]
    [InlineData("z,Z9,10,9,~,$", "~,$,10,9,z,Z9")]
    public void Field_names_are_ordered_as_the_sdks_localeCompare(string names, string expected)
    {
        // Expected orders read from Node 20's String.prototype.localeCompare, which Certificate.toBinary uses.
        var list = names.Split(',').ToList();
        list.Sort(FieldNameOrder.Instance);
        list.Should().Equal(expected.Split(','));
    }

    [Fact]
    public void Non_ASCII_field_names_are_refused_rather_than_ordered_wrongly()
    {
        var c = new Certificate(Type, Type, _subject.IdentityKey, _certifier.IdentityKey, Outpoint,
            new Dictionary<string, string> { ["é"] = "x", ["e"] = "y" });
        c.Invoking(x => x.ToBinary()).Should().Throw<NotSupportedException>();
        // A single field has nothing to be ordered against, but the rule is kept simple: the name is checked anyway.
        FieldNameOrder.IsSupported("name").Should().BeTrue();
        FieldNameOrder.IsSupported("naïve").Should().BeFalse();
    }

    [Fact]
    public void A_master_certificate_file_as_identity_issue_prints_it_reads_back_and_a_broken_one_is_refused_clearly()
    {
        MasterCertificate master = Issue();
        string json = master.ToJson();
        MasterCertificate.FromJson(master.ToJson(indented: true)).MasterKeyring.Should().Equal(master.MasterKeyring);
        MasterCertificate back = MasterCertificate.FromJson(json);
        back.Certificate.ToBinary().Should().Equal(master.Certificate.ToBinary());
        back.DecryptFields(_subject, Counterparty.Of(_certifier.IdentityKey)).Should().BeEquivalentTo(Fields);

        FluentActions.Invoking(() => MasterCertificate.FromJson("{")).Should().Throw<Atomic.Identity.Auth.AuthPayloadException>()
            .WithMessage("*not JSON*");
        string noKeyring = json.Replace("\"masterKeyring\"", "\"keyring\"", StringComparison.Ordinal);
        FluentActions.Invoking(() => MasterCertificate.FromJson(noKeyring)).Should().Throw<Atomic.Identity.Auth.AuthPayloadException>()
            .WithMessage("*masterKeyring is missing*");
        string partial = json.Replace("\"masterKeyring\":{", "\"masterKeyring\":{\"x\":\"y\"},\"ignored\":{", StringComparison.Ordinal);
        FluentActions.Invoking(() => MasterCertificate.FromJson(partial)).Should().Throw<Atomic.Identity.Auth.AuthPayloadException>()
            .WithMessage("*every field*");
    }

    private MasterCertificate Issue() =>
        MasterCertificate.IssueCertificateForSubject(_certifier, Counterparty.Of(_subject.IdentityKey), Fields, Type, Outpoint);

    internal static Certificate FromJson(JsonElement j) => new(
        j.GetProperty("type").GetString()!,
        j.GetProperty("serialNumber").GetString()!,
        PublicKey.FromHex(j.GetProperty("subject").GetString()!),
        PublicKey.FromHex(j.GetProperty("certifier").GetString()!),
        j.GetProperty("revocationOutpoint").GetString()!,
        j.GetProperty("fields").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
        j.TryGetProperty("signature", out JsonElement s) && s.ValueKind == JsonValueKind.String ? Hex.Decode(s.GetString()!) : null);

    private static Certificate With(
        Certificate c,
        IReadOnlyDictionary<string, string>? fields = null,
        PublicKey? certifier = null,
        PublicKey? subject = null,
        string? outpoint = null,
        string? serial = null,
        byte[]? signature = null) =>
        new(c.Type, serial ?? c.SerialNumber, subject ?? c.Subject, certifier ?? c.Certifier, outpoint ?? c.RevocationOutpoint,
            fields ?? c.Fields, signature ?? c.Signature);
}
