using System.Security.Cryptography;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Tests;

public class CertificateTrustTests
{
    private static readonly string Employee = Convert.ToBase64String(SHA256.HashData("employee"u8));
    private static readonly string Outpoint = new string('b', 64) + ".0";

    private readonly ProtoWallet _certifierA = new(PrivateKey.Random());
    private readonly ProtoWallet _certifierB = new(PrivateKey.Random());
    private readonly ProtoWallet _subject = new(PrivateKey.Random());
    private readonly ProtoWallet _verifier = new(PrivateKey.Random());
    private readonly HashSet<string> _revoked = [];

    private CertificateTrust Trust => new(
        [new TrustedCertificateType(
            "employee",
            Employee,
            new HashSet<string> { _certifierA.IdentityKey.ToHex(), _certifierB.IdentityKey.ToHex() },
            new Dictionary<string, string> { ["role"] = "role" })],
        _verifier,
        c => _revoked.Contains(c.RevocationOutpoint));

    [Fact]
    public void A_certificate_from_either_trusted_certifier_is_accepted_with_only_the_revealed_fields()
    {
        foreach (ProtoWallet certifier in new[] { _certifierA, _certifierB })
        {
            CertificateVerdict v = Trust.Evaluate(Present(certifier, ["role"]), _subject.IdentityKey);
            v.IsAccepted.Should().BeTrue(v.Detail);
            v.Type!.Name.Should().Be("employee");
            v.RevealedFields.Should().Equal(new Dictionary<string, string> { ["role"] = "auditor" });
            v.Type.ClaimType("role").Should().Be("role");
            v.Type.ClaimType("name").Should().Be("employee:name");
        }
    }

    [Fact]
    public void An_untrusted_certifier_or_type_is_refused_as_untrusted()
    {
        Trust.Evaluate(Present(new ProtoWallet(PrivateKey.Random()), ["role"]), _subject.IdentityKey).Reason
            .Should().Be(AuthReasons.CertifierUntrusted);
        Trust.Evaluate(Present(_certifierA, ["role"], type: Convert.ToBase64String(new byte[32])), _subject.IdentityKey).Reason
            .Should().Be(AuthReasons.CertifierUntrusted);
    }

    [Fact]
    public void A_tampered_certificate_a_foreign_subject_or_a_bad_keyring_is_refused_as_invalid()
    {
        VerifiableCertificate good = Present(_certifierA, ["role"]);
        Certificate c = good.Certificate;
        var tampered = new Certificate(c.Type, c.SerialNumber, c.Subject, c.Certifier, new string('c', 64) + ".0", c.Fields, c.Signature);
        Trust.Evaluate(good with { Certificate = tampered }, _subject.IdentityKey).Reason.Should().Be(AuthReasons.CertificateInvalid);
        Trust.Evaluate(good, PrivateKey.Random().PublicKey).Reason.Should().Be(AuthReasons.CertificateInvalid);
        var wrongKeyring = new Dictionary<string, string> { ["role"] = good.Keyring["role"], ["name"] = good.Keyring["role"] };
        Trust.Evaluate(good with { Keyring = wrongKeyring }, _subject.IdentityKey).Reason.Should().Be(AuthReasons.CertificateInvalid);
    }

    [Fact]
    public void A_revoked_certificate_is_refused_as_revoked()
    {
        _revoked.Add(Outpoint);
        Trust.Evaluate(Present(_certifierA, ["role"]), _subject.IdentityKey).Reason.Should().Be(AuthReasons.CertificateRevoked);
    }

    private VerifiableCertificate Present(ProtoWallet certifier, string[] reveal, string? type = null)
    {
        MasterCertificate master = MasterCertificate.IssueCertificateForSubject(
            certifier,
            Counterparty.Of(_subject.IdentityKey),
            new Dictionary<string, string> { ["name"] = "Alice", ["role"] = "auditor" },
            type ?? Employee,
            Outpoint);
        return new VerifiableCertificate(
            master.Certificate, master.CreateKeyringForVerifier(_subject, Counterparty.Of(_verifier.IdentityKey), reveal));
    }
}
