using System.Security.Claims;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Identity;

/// <summary>
/// Checks the <c>x-bsv-auth-*</c> headers of a request once (the authentication handler and the middleware share the
/// outcome through <see cref="HttpContext.Items"/>, so a request nonce is spent once however the pipeline is ordered).
/// </summary>
public sealed partial class BsvAuthVerifier(
    AuthServer server, BsvTrust trust, IOptions<BsvAuthOptions> options, ILogger<BsvAuthVerifier> logger)
{
    private static readonly object ItemKey = new();

    /// <summary>The server holding the sessions.</summary>
    public AuthServer Server => server;

    /// <summary>The federation in force.</summary>
    public BsvTrust Trust => trust;

    /// <summary>True when the request carries any <c>x-bsv-auth-*</c> header.</summary>
    public static bool HasAuthHeaders(HttpRequest request) =>
        request.Headers.Keys.Any(k => k.StartsWith("x-bsv-auth", StringComparison.OrdinalIgnoreCase));

    /// <summary>The outcome already reached for this request, if any.</summary>
    public static AuthOutcome? Cached(HttpContext context) => context.Items.TryGetValue(ItemKey, out object? o) ? o as AuthOutcome : null;

    /// <summary>
    /// The outcome for this request: null when it carries no auth headers; otherwise accepted (and
    /// <see cref="HttpContext.User"/> set to the caller) or refused with a reason code.
    /// </summary>
    public async Task<AuthOutcome?> VerifyAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Cached(context) is { } cached)
        {
            return cached;
        }

        if (!HasAuthHeaders(context.Request))
        {
            return null;
        }

        AuthOutcome outcome = await CheckAsync(context).ConfigureAwait(false);
        context.Items[ItemKey] = outcome;
        if (outcome.IsValid)
        {
            await AwaitCertificatesAsync(outcome.Session!, context.RequestAborted).ConfigureAwait(false);
            string key = outcome.Session!.PeerIdentityKeyHex;
            var identity = new ClaimsIdentity(
                [new Claim(BsvAuthDefaults.IdentityKeyClaim, key), new Claim(ClaimTypes.NameIdentifier, key), .. CertificateClaims(outcome.Session)],
                BsvAuthDefaults.Scheme,
                ClaimTypes.NameIdentifier,
                ClaimTypes.Role);
            context.User = new ClaimsPrincipal(identity);
        }
        else
        {
            LogRefused(logger, context.Request.Method, context.Request.Path, outcome.Reason!, outcome.Detail!);
        }

        return outcome;
    }

    /// <summary>
    /// A session asked for certificates at the handshake whose certificateResponse has not arrived yet: wait for it up
    /// to <see cref="BsvAuthOptions.CertificateWait"/> (the sdk's client races its first request against it); past
    /// that the session stops waiting, so a client without certificates is slowed once.
    /// </summary>
    private async Task AwaitCertificatesAsync(AuthSession session, CancellationToken cancellationToken)
    {
        if (!session.AwaitingCertificates || session.CertificatesArrived.IsCompleted)
        {
            return;
        }

        try
        {
            await session.CertificatesArrived.WaitAsync(options.Value.CertificateWait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            session.AwaitingCertificates = false;
        }
    }

    /// <summary>
    /// The claims of the session's accepted certificates that are not revoked by now: "bsv:certificate" = the type's
    /// name, and each revealed field as its claim type; the issuer is the certifier, the serial number a property.
    /// </summary>
    private IEnumerable<Claim> CertificateClaims(AuthSession session)
    {
        foreach (CertificateVerdict v in session.Certificates)
        {
            if (!v.IsAccepted || v.Type is null || trust.Trust.IsRevoked(v.Certificate.Certificate))
            {
                continue;
            }

            string certifier = v.Certificate.Certificate.Certifier.ToHex();
            yield return Tagged(new Claim(BsvAuthDefaults.CertificateClaim, v.Type.Name, ClaimValueTypes.String, certifier), v.SerialNumber);
            foreach (var (field, value) in v.RevealedFields)
            {
                yield return Tagged(new Claim(v.Type.ClaimType(field), value, ClaimValueTypes.String, certifier), v.SerialNumber);
            }
        }

        static Claim Tagged(Claim claim, string serial)
        {
            claim.Properties[BsvAuthDefaults.SerialNumberProperty] = serial;
            return claim;
        }
    }

    private async Task<AuthOutcome> CheckAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        if (request.ContentLength > options.Value.MaxBodyBytes)
        {
            return AuthOutcome.Refused(AuthReasons.HeadersMalformed, $"a signed body is at most {options.Value.MaxBodyBytes} bytes");
        }

        request.EnableBuffering();
        using var body = new MemoryStream();
        try
        {
            await request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits: the authentication middleware may run before UseRequestProblems, so answer here.
            return AuthOutcome.Refused(AuthReasons.HeadersMalformed, $"the signed body cannot be read: {e.Message}");
        }

        request.Body.Position = 0;
        if (body.Length > options.Value.MaxBodyBytes)
        {
            return AuthOutcome.Refused(AuthReasons.HeadersMalformed, $"a signed body is at most {options.Value.MaxBodyBytes} bytes");
        }

        var (path, query) = Target(context);
        AuthMessage message;
        try
        {
            message = AuthHttpHeaders.FromRequest(
                request.Method,
                path,
                query,
                Joined(request.Headers),
                body.GetBuffer().AsSpan(0, (int)body.Length));
        }
        catch (Exception e) when (e is AuthPayloadException or ArgumentException)
        {
            return AuthOutcome.Refused(AuthReasons.HeadersMalformed, e.Message);
        }

        return server.VerifyGeneral(message);
    }

    /// <summary>Each header once, its values joined with ", " as fetch's <c>Headers</c> and Node join them.</summary>
    internal static IEnumerable<KeyValuePair<string, string>> Joined(IHeaderDictionary headers) =>
        headers.Select(h => new KeyValuePair<string, string>(h.Key, string.Join(", ", h.Value.ToArray())));

    /// <summary>The path and query as the client sent them (still percent-encoded), which is what it signed.</summary>
    private static (string Path, string Query) Target(HttpContext context)
    {
        string? raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is { Length: > 0 } && raw[0] == '/')
        {
            int q = raw.IndexOf('?', StringComparison.Ordinal);
            return q < 0 ? (raw, "") : (raw[..q], raw[q..]);
        }

        HttpRequest request = context.Request;
        return ((request.PathBase + request.Path).ToUriComponent(), request.QueryString.ToUriComponent());
    }

    /// <summary>Logs the verdict on a presented certificate.</summary>
    internal void LogCertificate(string identityKey, CertificateVerdict verdict)
    {
        if (verdict.IsAccepted)
        {
            LogCertificateAccepted(logger, identityKey, verdict.Type!.Name, verdict.SerialNumber, verdict.RevealedFields.Count);
        }
        else
        {
            LogCertificateRefused(logger, identityKey, verdict.SerialNumber, verdict.Reason!, verdict.Detail!);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "BRC-52 certificate accepted from {IdentityKey}: {Type} {SerialNumber}, {Revealed} fields revealed")]
    private static partial void LogCertificateAccepted(ILogger logger, string identityKey, string type, string serialNumber, int revealed);

    [LoggerMessage(Level = LogLevel.Information, Message = "BRC-52 certificate refused from {IdentityKey}: {SerialNumber} {Reason} ({Detail})")]
    private static partial void LogCertificateRefused(ILogger logger, string identityKey, string serialNumber, string reason, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "BRC-103 refused {Method} {Path}: {Reason} ({Detail})")]
    private static partial void LogRefused(ILogger logger, string method, PathString path, string reason, string detail);
}
