using System.Text;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Atomic.Services.Identity;

/// <summary>
/// BRC-103/104 over HTTP: answers the handshake at <c>POST /.well-known/auth</c>; for a request carrying
/// <c>x-bsv-auth-*</c> headers, checks them (401 problem+json with the reason code when they fail), lets the endpoint
/// answer into a buffer, and signs that answer (status, <c>x-bsv-*</c> headers, body) for the caller's session.
/// Requests without the headers pass untouched; routes marked <c>RequireBsvAuth()</c> refuse them through the
/// "BsvAuth" scheme's challenge.
/// </summary>
public sealed class BsvAuthMiddleware(RequestDelegate next, BsvAuthVerifier verifier)
{
    private const int MaxHandshakeBytes = 64 * 1024;
    private static readonly object SigningKey = new();
    private static readonly object SkipKey = new();
    private static readonly string TooLong = $"a handshake message is at most {MaxHandshakeBytes} bytes";

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Request.Path.Equals(BsvAuthDefaults.HandshakePath, StringComparison.Ordinal))
        {
            await HandshakeAsync(context).ConfigureAwait(false);
            return;
        }

        AuthOutcome? outcome = await verifier.VerifyAsync(context).ConfigureAwait(false);
        if (outcome is null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        if (!outcome.IsValid)
        {
            await RefuseAsync(context, outcome.Reason!, outcome.Detail!).ConfigureAwait(false);
            return;
        }

        context.Items[SigningKey] = true;
        await WriteSignedAsync(context, verifier, outcome, () => next(context)).ConfigureAwait(false);
    }

    /// <summary>True when this middleware will sign the answer (it wraps the rest of the pipeline for this request).</summary>
    internal static bool IsSigning(HttpContext context) => context.Items.ContainsKey(SigningKey);

    /// <summary>The answer carries its own signed message (a certificateRequest): send it as written, unsigned here.</summary>
    internal static void SkipSigning(HttpContext context) => context.Items[SkipKey] = true;

    /// <summary>
    /// Lets <paramref name="write"/> answer into a buffer, then signs that answer (status, <c>x-bsv-*</c> headers,
    /// body) for the caller's session and sends it.
    /// </summary>
    internal static async Task WriteSignedAsync(HttpContext context, BsvAuthVerifier verifier, AuthOutcome outcome, Func<Task> write)
    {
        HttpResponse response = context.Response;
        Stream original = response.Body;
        using var buffer = new MemoryStream();
        response.Body = buffer;
        try
        {
            await write().ConfigureAwait(false);
        }
        finally
        {
            response.Body = original;
        }

        byte[] body = buffer.ToArray();
        if (context.Items.ContainsKey(SkipKey))
        {
            response.ContentLength = body.Length;
            await original.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        byte[] requestId = outcome.Message!.Payload.AsSpan(0, 32).ToArray();
        List<KeyValuePair<string, string>> headers = verifier.Server.SignHttpResponse(
            outcome.Session!, requestId, response.StatusCode, BsvAuthVerifier.Joined(response.Headers), body);
        foreach (var (name, value) in headers)
        {
            response.Headers[name] = value;
        }

        response.ContentLength = body.Length;
        await original.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>401 problem+json carrying <paramref name="reason"/>.</summary>
    internal static Task RefuseAsync(HttpContext context, string reason, string detail) =>
        Problems.Of(StatusCodes.Status401Unauthorized, reason, detail).ExecuteAsync(context);

    /// <summary>
    /// The answer to a certificateResponse: 200 when every certificate was accepted, else 403 problem+json with the
    /// first refusal's reason code (the verdicts stay on the session, so a route refused later names the same code).
    /// </summary>
    private async Task AnswerCertificatesAsync(HttpContext context, string identityKey, IReadOnlyList<CertificateVerdict> verdicts)
    {
        foreach (CertificateVerdict v in verdicts)
        {
            verifier.LogCertificate(identityKey, v);
        }

        if (verdicts.FirstOrDefault(v => !v.IsAccepted) is { } refused)
        {
            await Problems.Of(StatusCodes.Status403Forbidden, refused.Reason!, refused.Detail!).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        await Results.Json(new { status = "certificates received", accepted = verdicts.Count }).ExecuteAsync(context).ConfigureAwait(false);
    }

    private async Task HandshakeAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await Problems.Of(StatusCodes.Status405MethodNotAllowed, Problems.RequestInvalid, "the handshake is a POST")
                .ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        if (context.Request.ContentLength > MaxHandshakeBytes)
        {
            await RefuseAsync(context, AuthReasons.MessageMalformed, TooLong).ConfigureAwait(false);
            return;
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        char[] text = new char[MaxHandshakeBytes + 1];
        int read = await reader.ReadBlockAsync(text, context.RequestAborted).ConfigureAwait(false);
        if (read > MaxHandshakeBytes)
        {
            await RefuseAsync(context, AuthReasons.MessageMalformed, TooLong).ConfigureAwait(false);
            return;
        }

        AuthCertificateOutcome received = verifier.Server.AcceptAuthMessage(new string(text, 0, read));
        AuthOutcome outcome = received.Outcome;
        if (!outcome.IsValid)
        {
            await RefuseAsync(context, outcome.Reason!, outcome.Detail!).ConfigureAwait(false);
            return;
        }

        AuthMessage answer = outcome.Message!;
        if (answer.MessageType == AuthMessageType.CertificateResponse)
        {
            await AnswerCertificatesAsync(context, answer.IdentityKey, received.Verdicts).ConfigureAwait(false);
            return;
        }

        IHeaderDictionary headers = context.Response.Headers;
        headers[AuthHttpHeaders.Version] = answer.Version;
        headers[AuthHttpHeaders.MessageType] = AuthMessage.TypeName(answer.MessageType);
        headers[AuthHttpHeaders.IdentityKey] = answer.IdentityKey;
        headers[AuthHttpHeaders.YourNonce] = answer.YourNonce;
        headers[AuthHttpHeaders.Signature] = Convert.ToHexStringLower(answer.Signature!);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.ToJson(), context.RequestAborted).ConfigureAwait(false);
    }
}
