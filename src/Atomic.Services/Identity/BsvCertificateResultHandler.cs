using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace Atomic.Services.Identity;

/// <summary>
/// Answers a request refused by a certificate policy with the reason the session's certificates give: 403 problem+json
/// with <c>AUTH_CERTIFIER_UNTRUSTED</c>, <c>AUTH_CERTIFICATE_INVALID</c> or <c>AUTH_CERTIFICATE_REVOKED</c> when the
/// caller presented such a certificate of the type, <c>AUTH_FORBIDDEN</c> when a good one lacks the values, else
/// <c>AUTH_CERTIFICATE_REQUIRED</c>; the <c>x-bsv-auth-requested-certificates</c> header names what this route needs
/// (only its policy's fields). With <see cref="BsvTrustOptions.CertificateRequests"/> <c>route</c>, a caller that
/// presented none gets instead a 401 carrying a signed certificateRequest for them. Every other outcome goes to ASP.NET
/// Core's own handler.
/// </summary>
public sealed class BsvCertificateResultHandler(BsvTrust trust, BsvAuthVerifier verifier) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    /// <inheritdoc/>
    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        List<BsvCertificateRequirement> failed = authorizeResult.AuthorizationFailure?.FailedRequirements
            .OfType<BsvCertificateRequirement>().ToList() ?? [];
        if (failed.Count == 0 || !authorizeResult.Forbidden || BsvAuthVerifier.Cached(context) is not { IsValid: true, Session: { } session } outcome)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult).ConfigureAwait(false);
            return;
        }

        var (reason, detail) = Why(failed[0], session);
        RequestedCertificateSet? requested = trust.RequestedFor(failed);
        if (trust.PerRoute && reason == AuthReasons.CertificateRequired && requested is not null)
        {
            // Asked here, not at the handshake: a signed certificateRequest naming only this route's needs; the caller
            // presents them at /.well-known/auth and sends the request again, which waits for them (CertificateWait).
            AuthMessage ask = AuthMessage.CreateCertificateRequest(
                verifier.Server.Wallet, session.PeerIdentityKey, session.SessionNonce, session.PeerNonce, requested.ToJson());
            session.AwaitingCertificates = true;
            BsvAuthMiddleware.SkipSigning(context);
            foreach ((string name, string value) in AuthHttpHeaders.ForCertificateRequest(ask))
            {
                context.Response.Headers[name] = value;
            }

            await Problems.Of(StatusCodes.Status401Unauthorized, reason, detail).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        if (requested is not null)
        {
            context.Response.Headers[BsvAuthDefaults.RequestedCertificatesHeader] = requested.ToJson().GetRawText();
        }

        // The authorization middleware may run before UseBsvAuth: then the refusal is signed here, so that the caller's
        // AuthFetch can read it (an unsigned answer to a signed request is refused by both clients).
        Task Write() => Problems.Of(StatusCodes.Status403Forbidden, reason, detail).ExecuteAsync(context);
        if (BsvAuthMiddleware.IsSigning(context))
        {
            await Write().ConfigureAwait(false);
        }
        else
        {
            await BsvAuthMiddleware.WriteSignedAsync(context, verifier, outcome, Write).ConfigureAwait(false);
        }
    }

    private (string Reason, string Detail) Why(BsvCertificateRequirement requirement, AuthSession session)
    {
        TrustedCertificateType? type = trust.Trust.Find(requirement.Certificate);
        List<CertificateVerdict> ofType = [.. session.Certificates.Where(v => type is not null && v.Certificate.Certificate.Type == type.TypeId)];
        if (ofType.FirstOrDefault(v => v.IsAccepted && trust.Trust.IsRevoked(v.Certificate.Certificate)) is { } revoked)
        {
            return (AuthReasons.CertificateRevoked, $"certificate {revoked.SerialNumber} was revoked ({revoked.RevocationOutpoint} is spent)");
        }

        if (ofType.Exists(v => v.IsAccepted))
        {
            return (AuthReasons.Forbidden,
                $"the {requirement.Certificate} certificate presented does not reveal {string.Join(", ", requirement.Require.Keys)} with an allowed value");
        }

        if (ofType.FirstOrDefault(v => !v.IsAccepted) is { } refused)
        {
            return (refused.Reason!, refused.Detail!);
        }

        if (session.Certificates.FirstOrDefault(v => !v.IsAccepted) is { } other)
        {
            return (other.Reason!, other.Detail!);
        }

        return (AuthReasons.CertificateRequired,
            $"this route needs a {requirement.Certificate} certificate from a trusted certifier revealing {string.Join(", ", requirement.Require.Keys)}");
    }
}
