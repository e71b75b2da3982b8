using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;

namespace Atomic.Services.Identity;

/// <summary>
/// An authorization requirement over certificate claims: the caller presented a trusted certificate of type
/// <paramref name="Certificate"/> (friendly name) revealing each field of <paramref name="Require"/> with an allowed value.
/// Its fields are also what the server asks the caller to reveal (only those a policy needs).
/// </summary>
/// <param name="Certificate">The certificate type's friendly name.</param>
/// <param name="Require">Field name to allowed values (empty: any value).</param>
public sealed record BsvCertificateRequirement(string Certificate, IReadOnlyDictionary<string, IReadOnlyList<string>> Require)
    : IAuthorizationRequirement
{
    /// <summary>True when <paramref name="user"/>'s certificate claims satisfy the requirement under <paramref name="trust"/>.</summary>
    public bool IsMetBy(ClaimsPrincipal user, BsvTrust trust)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(trust);
        if (trust.Trust.Find(Certificate) is not { } type)
        {
            return false;
        }

        // The claims of one certificate carry its serial number, so every field must come from the same certificate.
        IEnumerable<string> serials = user.FindAll(BsvAuthDefaults.CertificateClaim)
            .Where(c => c.Value == type.Name)
            .Select(c => c.Properties.TryGetValue(BsvAuthDefaults.SerialNumberProperty, out string? s) ? s : "");
        return serials.Any(serial => Require.All(r => user.FindAll(type.ClaimType(r.Key)).Any(c =>
            c.Properties.TryGetValue(BsvAuthDefaults.SerialNumberProperty, out string? s) && s == serial
            && (r.Value.Count == 0 || r.Value.Contains(c.Value, StringComparer.Ordinal)))));
    }
}

/// <summary>Decides <see cref="BsvCertificateRequirement"/>s.</summary>
public sealed class BsvCertificateRequirementHandler(BsvTrust trust) : AuthorizationHandler<BsvCertificateRequirement>
{
    /// <inheritdoc/>
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, BsvCertificateRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(requirement);
        if (requirement.IsMetBy(context.User, trust))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
