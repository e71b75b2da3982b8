namespace Atomic.Identity.Certificates;

/// <summary>
/// One certificate type a verifier trusts (federation): its friendly name, its BRC-52 type id (base64 of 32 bytes), the
/// certifiers whose signatures it accepts (compressed public keys in hex, several organisations allowed) and the claim
/// type each revealed field becomes.
/// </summary>
/// <param name="Name">The friendly name (e.g. "employee"); policies and claims use it.</param>
/// <param name="TypeId">The certificate type as it travels (base64).</param>
/// <param name="Certifiers">Trusted certifiers' identity keys, lower-case hex.</param>
/// <param name="Claims">Field name to claim type; a field not listed becomes the claim "{Name}:{field}".</param>
public sealed record TrustedCertificateType(
    string Name, string TypeId, IReadOnlySet<string> Certifiers, IReadOnlyDictionary<string, string> Claims)
{
    /// <summary>The claim type a revealed field of this type becomes.</summary>
    public string ClaimType(string field) => Claims.TryGetValue(field, out string? claim) ? claim : $"{Name}:{field}";
}
