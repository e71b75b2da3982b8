using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Identity;

/// <summary>
/// The server's federation in force: <see cref="BsvTrustOptions"/> turned into a <see cref="CertificateTrust"/> (which
/// consults <see cref="CertificateRevocations"/> at each use), the certificate policies as requirements, and what the
/// handshake asks callers for (the fields the policies need, from the certifiers trusted for them, nothing more).
/// Creating it installs both on the <see cref="AuthServer"/>.
/// </summary>
public sealed class BsvTrust
{
    /// <summary>Reads the options and installs the trust on <paramref name="server"/>.</summary>
    public BsvTrust(IOptions<BsvTrustOptions> options, AuthServer server, CertificateRevocations revocations)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(revocations);
        BsvTrustOptions o = options.Value;
        Revocations = revocations;
        Trust = new CertificateTrust(
            o.Types.Select(t => new TrustedCertificateType(
                t.Key,
                string.IsNullOrWhiteSpace(t.Value.Type) ? t.Key : t.Value.Type.Trim(),
                t.Value.Certifiers.Select(c => c.Trim().ToLowerInvariant()).ToHashSet(StringComparer.Ordinal),
                new Dictionary<string, string>(t.Value.Claims, StringComparer.Ordinal))),
            server.Wallet,
            revocations.IsRevoked);
        Policies = o.Policies.ToDictionary(
            p => p.Key,
            p => new BsvCertificateRequirement(
                Trust.Find(p.Value.Certificate)?.Name ?? p.Value.Certificate,
                p.Value.Require.ToDictionary(r => r.Key, r => (IReadOnlyList<string>)[.. r.Value], StringComparer.Ordinal)),
            StringComparer.Ordinal);
        PerRoute = o.CertificateRequests == BsvTrustOptions.Route;
        AtHandshake = PerRoute ? null : RequestedFor(Policies.Values);
        server.Trust = Trust;
        server.RequestedCertificates = AtHandshake;
    }

    /// <summary>Certificates are asked for by the route that needs them, not at the handshake (<see cref="BsvTrustOptions.CertificateRequests"/>).</summary>
    public bool PerRoute { get; }

    /// <summary>How presented certificates are judged.</summary>
    public CertificateTrust Trust { get; }

    /// <summary>The revoked outpoints.</summary>
    public CertificateRevocations Revocations { get; }

    /// <summary>The certificate policies by name.</summary>
    public IReadOnlyDictionary<string, BsvCertificateRequirement> Policies { get; }

    /// <summary>What every initialResponse asks for: the union of the policies' needs; null when no policy needs a certificate, or when <see cref="PerRoute"/>.</summary>
    public RequestedCertificateSet? AtHandshake { get; }

    /// <summary>
    /// The certificates <paramref name="requirements"/> need: their types (by type id) with only the fields they
    /// name, from the certifiers trusted for those types; null when none names a trusted type.
    /// </summary>
    public RequestedCertificateSet? RequestedFor(IEnumerable<BsvCertificateRequirement> requirements)
    {
        ArgumentNullException.ThrowIfNull(requirements);
        var types = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var certifiers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (BsvCertificateRequirement r in requirements)
        {
            if (Trust.Find(r.Certificate) is not { } type)
            {
                continue;
            }

            if (!types.TryGetValue(type.TypeId, out SortedSet<string>? fields))
            {
                types[type.TypeId] = fields = new SortedSet<string>(StringComparer.Ordinal);
            }

            fields.UnionWith(r.Require.Keys);
            certifiers.UnionWith(type.Certifiers);
        }

        return types.Count == 0
            ? null
            : new RequestedCertificateSet(
                [.. certifiers], [.. types.Select(t => new KeyValuePair<string, IReadOnlyList<string>>(t.Key, [.. t.Value]))]);
    }
}
