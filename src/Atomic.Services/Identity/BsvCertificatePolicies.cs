using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Identity;

/// <summary>
/// Registers each certificate policy of <see cref="BsvTrustOptions.Policies"/> as an ASP.NET Core authorization policy
/// of the same name: a BRC-103 authenticated caller ("BsvAuth" scheme) meeting its <see cref="BsvCertificateRequirement"/>.
/// </summary>
public sealed class BsvCertificatePolicies(IOptions<BsvTrustOptions> trust) : IConfigureOptions<AuthorizationOptions>
{
    /// <inheritdoc/>
    public void Configure(AuthorizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (name, p) in trust.Value.Policies)
        {
            var requirement = new BsvCertificateRequirement(
                p.Certificate, p.Require.ToDictionary(r => r.Key, r => (IReadOnlyList<string>)[.. r.Value], StringComparer.Ordinal));
            options.AddPolicy(name, b => b.AddAuthenticationSchemes(BsvAuthDefaults.Scheme).RequireAuthenticatedUser().AddRequirements(requirement));
        }
    }
}
