using Atomic.Bsv.Primitives.Keys;
using Atomic.Services.Identity;

namespace Atomic.Services.Tests.Identity;

public class BsvTrustOptionsValidatorTests
{
    private static readonly string TypeId = Convert.ToBase64String(new byte[32]);

    [Fact]
    public void A_well_formed_trust_passes()
    {
        var options = new BsvTrustOptions();
        options.Types["employee"] = new TrustedTypeOptions { Type = TypeId, Certifiers = [PrivateKey.Random().PublicKey.ToHex()] };
        options.Policies["auditor"] = new CertificatePolicyOptions { Certificate = "employee", Require = { ["role"] = ["auditor"] } };
        new BsvTrustOptionsValidator().Validate(null, options).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Each_problem_names_its_key()
    {
        var options = new BsvTrustOptions();
        options.Types["employee"] = new TrustedTypeOptions { Type = "not base64!", Certifiers = ["02zz"] };
        options.Types["member"] = new TrustedTypeOptions { Type = TypeId };
        options.Policies["auditor"] = new CertificatePolicyOptions { Certificate = "contractor" };
        var failures = new BsvTrustOptionsValidator().Validate(null, options).Failures!.ToList();
        failures.Should().Contain(f => f.StartsWith("Atomic:Identity:Trust:Types:employee:Type", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("Atomic:Identity:Trust:Types:employee:Certifiers:0", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("Atomic:Identity:Trust:Types:member:Certifiers", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("Atomic:Identity:Trust:Policies:auditor:Certificate", StringComparison.Ordinal));
    }
}
