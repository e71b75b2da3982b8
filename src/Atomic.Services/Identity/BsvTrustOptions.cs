namespace Atomic.Services.Identity;

/// <summary>
/// Federation (section <c>Atomic:Identity:Trust</c>): the certificate types this server trusts, each with the certifiers
/// it trusts for it and how its fields map to claims, and the certificate policies routes name.
/// </summary>
public sealed class BsvTrustOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Atomic:Identity:Trust";

    /// <summary>
    /// Trusted types by friendly name (<c>…:Types:{name}</c>); a type without <see cref="TrustedTypeOptions.Type"/> uses
    /// its name as the base64 type id.
    /// </summary>
    public Dictionary<string, TrustedTypeOptions> Types { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Certificate policies by name (<c>…:Policies:{name}</c>), registered as ASP.NET Core authorization policies of the
    /// same name (<c>RequireAuthorization("auditor")</c>).
    /// </summary>
    public Dictionary<string, CertificatePolicyOptions> Policies { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// When callers are asked for certificates (<c>…:CertificateRequests</c>): <c>handshake</c> (the default) asks every
    /// caller at the handshake for what all the policies need together, which every BRC-104 client answers, @bsv/sdk's
    /// AuthFetch included; <c>route</c> asks nobody at the handshake and answers a request that a policy refuses for
    /// want of a certificate with a signed certificateRequest naming only that route's needs (our
    /// <c>AuthFetchHandler</c> presents them and sends the request again; @bsv/sdk's AuthFetch 2.1.0 cannot answer one).
    /// </summary>
    public string CertificateRequests { get; set; } = Handshake;

    /// <summary><see cref="CertificateRequests"/>: asked at the handshake.</summary>
    public const string Handshake = "handshake";

    /// <summary><see cref="CertificateRequests"/>: asked by the route that needs them.</summary>
    public const string Route = "route";
}

/// <summary>One trusted certificate type.</summary>
public sealed class TrustedTypeOptions
{
    /// <summary>The BRC-52 type id, base64 of 32 bytes (<c>…:Type</c>); empty means the section's name is the type id.</summary>
    public string? Type { get; set; }

    /// <summary>The certifiers trusted for this type: identity keys, compressed, in hex (<c>…:Certifiers:0</c>, …).</summary>
    public List<string> Certifiers { get; set; } = [];

    /// <summary>Field name to claim type (<c>…:Claims:{field}</c>); an unlisted field becomes the claim "{name}:{field}".</summary>
    public Dictionary<string, string> Claims { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A certificate policy: the caller presents a trusted <see cref="Certificate"/> that reveals each field of
/// <see cref="Require"/>, with one of the values listed (any value when the list is empty).
/// </summary>
public sealed class CertificatePolicyOptions
{
    /// <summary>The certificate type's friendly name (or type id) in <see cref="BsvTrustOptions.Types"/>.</summary>
    public string Certificate { get; set; } = "";

    /// <summary>Field name to the values allowed (<c>…:Require:role:0=auditor</c>).</summary>
    public Dictionary<string, List<string>> Require { get; set; } = new(StringComparer.Ordinal);
}
