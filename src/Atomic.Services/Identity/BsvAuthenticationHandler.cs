using System.Text.Encodings.Web;
using Atomic.Identity.Auth;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Identity;

/// <summary>
/// The "BsvAuth" authentication scheme: a request signed per BRC-104 authenticates as its identity key; a challenge
/// answers 401 problem+json with the reason code (<c>AUTH_REQUIRED</c> when the request was not signed at all).
/// </summary>
public sealed class BsvAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, BsvAuthVerifier verifier)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    /// <inheritdoc/>
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        AuthOutcome? outcome = await verifier.VerifyAsync(Context).ConfigureAwait(false);
        if (outcome is null)
        {
            return AuthenticateResult.NoResult();
        }

        return outcome.IsValid
            ? AuthenticateResult.Success(new AuthenticationTicket(Context.User, Scheme.Name))
            : AuthenticateResult.Fail($"{outcome.Reason}: {outcome.Detail}");
    }

    /// <inheritdoc/>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        AuthOutcome? outcome = BsvAuthVerifier.Cached(Context);
        return outcome is { IsValid: false }
            ? BsvAuthMiddleware.RefuseAsync(Context, outcome.Reason!, outcome.Detail!)
            : BsvAuthMiddleware.RefuseAsync(
                Context, AuthReasons.Required, "this route needs a BRC-103/104 signed request (x-bsv-auth-* headers)");
    }

    /// <inheritdoc/>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.Of(StatusCodes.Status403Forbidden, "AUTH_FORBIDDEN", "the caller's identity key may not use this route")
            .ExecuteAsync(Context);
}
