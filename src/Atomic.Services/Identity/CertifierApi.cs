using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.Identity.Auth;
using Atomic.Identity.Certificates;
using Atomic.Services.Operations;
using Atomic.Services.Pipeline;
using Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Identity;

/// <summary>
/// The BRC-52 certifier under <c>/v1/certifier</c>: <c>GET /v1/certifier</c> (who it is, what it issues),
/// <c>POST /v1/certifier/signCertificate</c> (BRC-53 issuance, as @bsv/sdk wallets' <c>acquireCertificate</c> with
/// <c>certifierUrl</c> = <c>{server}/v1/certifier</c> call it) and <c>POST /v1/certifier/revoke</c> {serialNumber}.
/// Both POSTs answer only BRC-103/104 signed requests. What it issued and what it revoked is kept in
/// <see cref="ICertificateStore"/> (<c>statestore</c>), written before it answers, so both survive a restart.
/// </summary>
public static partial class CertifierApi
{
    /// <summary>The certifier's services: BRC-103 auth (with the store of issued and revoked certificates), its options, the revoker.</summary>
    public static IServiceCollection AddCertifier(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(d => d.ServiceType == typeof(BsvAuthVerifier)))
        {
            services.AddBsvAuth();
        }

        services.AddOptions<CertifierOptions>().BindConfiguration(CertifierOptions.Section)
            .Validate(o => o.Types.All(t => IsTypeId(string.IsNullOrWhiteSpace(t.Value.Type) ? t.Key : t.Value.Type!)),
                $"{CertifierOptions.Section}:Types:{{name}}:Type must be base64 of 32 bytes")
            .ValidateOnStart();
        services.TryAddSingleton<CertificateRevoker>();
        services.TryAddSingleton<RevocationOutputs>();
        return services;
    }

    /// <summary>Maps the certifier's routes.</summary>
    public static RouteGroupBuilder MapCertifierApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder certifier = app.MapGroup("/v1/certifier");
        certifier.MapGet("", GetCertifier);
        RouteHandlerBuilder sign = certifier.MapPost("/signCertificate", SignCertificateAsync).RequireBsvAuth();
        if (app.ServiceProvider.GetService<Microsoft.Extensions.Configuration.IConfiguration>()?[BsvAuthExtensions.CertifierPolicyKey] is { Length: > 0 } policy)
        {
            sign.RequireAuthorization(policy);
        }

        certifier.MapPost("/revoke", RevokeCertificateAsync).RequireBsvAuth();
        return certifier;
    }

    /// <summary><c>GET /v1/certifier</c>: the certifier's identity key and the types and fields it vouches for.</summary>
    internal static Ok<CertifierView> GetCertifier(AuthServer server, IOptions<CertifierOptions> options) =>
        TypedResults.Ok(new CertifierView(
            server.Wallet.IdentityKey.ToHex(),
            options.Value.Types.ToDictionary(t => t.Key, t => new CertifierTypeView(TypeId(t.Key, t.Value), t.Value.Fields))));

    /// <summary><c>POST /v1/certifier/signCertificate</c> {clientNonce, type, fields, masterKeyring} → {certificate, serverNonce}.</summary>
    internal static async Task<Results<ContentHttpResult, ProblemHttpResult>> SignCertificateAsync(
        HttpRequest request, ClaimsPrincipal user, AuthServer server, IOptions<CertifierOptions> options, ICertificateStore store,
        RevocationOutputs outputs, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        PublicKeyOf(user, out var subject);
        IssuanceRequest body;
        try
        {
            using JsonDocument json = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken).ConfigureAwait(false);
            body = IssuanceRequest.FromJson(json.RootElement);
        }
        catch (Exception e) when (e is JsonException or AuthPayloadException)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, $"a signCertificate body is {{clientNonce, type, fields, masterKeyring}}: {e.Message}");
        }

        var type = options.Value.Types.FirstOrDefault(t => TypeId(t.Key, t.Value) == body.Type);
        if (type.Value is null)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, CertifierTypeUnknown, $"this certifier does not issue certificates of type {body.Type}");
        }

        if (body.Fields.Keys.FirstOrDefault(f => !type.Value.Fields.Contains(f, StringComparer.Ordinal)) is { } extra)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, CertifierFieldRefused,
                $"this certifier does not vouch for the field \"{extra}\" of {type.Key} certificates (it vouches for {string.Join(", ", type.Value.Fields)})");
        }

        (Certificate Certificate, string ServerNonce, Dictionary<string, string> Plaintext) result;
        RevocationOutput? created = null;
        try
        {
            result = await CertificateIssuance.IssueAsync(
                server.Wallet,
                subject!,
                body,
                async serial =>
                {
                    if (!outputs.Enabled)
                    {
                        return CertificateRevocations.NoOutput;
                    }

                    created = await outputs.CreateAsync(serial, cancellationToken).ConfigureAwait(false);
                    return created.Outpoint;
                })
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is CertificateException or ArgumentException or FormatException)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, $"the request does not check: {e.Message}");
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, RevocationOutputFailed, $"the revocation output could not be created: {(e is Funding.FundingException f ? $"{f.Code}: " : string.Empty)}{e.Message}");
        }

        Certificate c = result.Certificate;
        try
        {
            // Recorded before the answer: a certificate the subject holds can always be revoked, even after a restart.
            var record = new IssuedCertificate(c.SerialNumber, c.Type, type.Key, c.Subject.ToHex(), c.RevocationOutpoint, time.GetUtcNow(), created);
            await store.RecordIssuedAsync(record, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DaprException or InvalidOperationException)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, CertifierStoreFailed, $"the certificate could not be recorded: {e.Message}");
        }

        LogIssued(loggers.CreateLogger(typeof(CertifierApi)), type.Key, result.Certificate.SerialNumber, subject!.ToHex());
        request.HttpContext.RequestServices.GetService<AuditLog>()?.Append(IssuedAuditKind, c.SerialNumber, $"{type.Key} {c.RevocationOutpoint}", subject.ToHex());
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WritePropertyName("certificate");
            CertificateIssuance.WriteCertificate(w, result.Certificate);
            w.WriteString("serverNonce", result.ServerNonce);
            w.WriteEndObject();
        }

        return TypedResults.Content(System.Text.Encoding.UTF8.GetString(stream.ToArray()), "application/json");
    }

    /// <summary><c>POST /v1/certifier/revoke</c> {serialNumber}: by its subject or an admin; repeating it changes nothing.</summary>
    internal static async Task<Results<Ok<RevokeView>, ProblemHttpResult>> RevokeCertificateAsync(
        RevokeRequest body, ClaimsPrincipal user, IOptions<CertifierOptions> options, ICertificateStore store, CertificateRevocations revocations,
        CertificateRevoker revoker, RevocationOutputs outputs, CancellationToken cancellationToken)
    {
        PublicKeyOf(user, out var caller);
        IssuedCertificate? found = null;
        try
        {
            if (body is { SerialNumber.Length: > 0 })
            {
                found = await store.FindIssuedAsync(body.SerialNumber, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is DaprException or InvalidOperationException)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, CertifierStoreFailed, $"the certifier's records could not be read: {e.Message}");
        }

        if (found is null)
        {
            return Problems.Of(StatusCodes.Status404NotFound, CertificateUnknown, "this certifier issued no certificate with that serial number");
        }

        string callerKey = caller!.ToHex();
        bool admin = options.Value.Admins.Contains(callerKey, StringComparer.OrdinalIgnoreCase);
        if (!admin && !string.Equals(found.Subject, callerKey, StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Of(StatusCodes.Status403Forbidden, AuthReasons.Forbidden, "only the certificate's subject or a certifier admin may revoke it");
        }

        var answer = new RevokeView(found.SerialNumber, found.RevocationOutpoint, true);
        if (revocations.IsSerialRevoked(found.SerialNumber) || revocations.IsRevoked(found.RevocationOutpoint))
        {
            return TypedResults.Ok(answer); // revoked before (perhaps before a restart): its output is not spent again
        }

        // On chain first (the overlay's admission of the spend revokes it everywhere), then here at once.
        bool spent = false;
        try
        {
            spent = found.Output is { } output && await outputs.SpendAsync(output, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or FormatException)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, RevocationOutputFailed, $"the revocation output could not be spent: {e.Message}");
        }

        try
        {
            await revoker.RevokeAsync(found.SerialNumber, spent ? null : found.RevocationOutpoint, "certifier", cancellationToken, identity: callerKey).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DaprException or InvalidOperationException)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, CertifierStoreFailed, $"the revocation could not be recorded: {e.Message}");
        }

        return TypedResults.Ok(answer);
    }

    /// <summary>"CERTIFIER_TYPE_UNKNOWN": a signCertificate request for a type this certifier does not issue.</summary>
    public const string CertifierTypeUnknown = "CERTIFIER_TYPE_UNKNOWN";

    /// <summary>"CERTIFIER_FIELD_REFUSED": a signCertificate request naming a field the certifier does not vouch for.</summary>
    public const string CertifierFieldRefused = "CERTIFIER_FIELD_REFUSED";

    /// <summary>"REVOCATION_OUTPUT_FAILED" (503): the faucet or /submit refused the revocation output or its spend.</summary>
    public const string RevocationOutputFailed = "REVOCATION_OUTPUT_FAILED";

    /// <summary>"CERTIFIER_STORE_FAILED" (503): the state store did not take or give the certifier's records; nothing was answered as done.</summary>
    public const string CertifierStoreFailed = "CERTIFIER_STORE_FAILED";

    /// <summary>The audit trail's entry for a certificate issued (subject its serial number, the subject's key as identity).</summary>
    public const string IssuedAuditKind = "certificate.issued";

    /// <summary>"CERTIFICATE_UNKNOWN": a revoke naming a serial number this certifier did not issue.</summary>
    public const string CertificateUnknown = "CERTIFICATE_UNKNOWN";

    private static void PublicKeyOf(ClaimsPrincipal user, out Atomic.Bsv.Primitives.Keys.PublicKey? key) =>
        key = Atomic.Bsv.Primitives.Keys.PublicKey.FromHex(user.FindFirst(BsvAuthDefaults.IdentityKeyClaim)!.Value);

    private static string TypeId(string name, CertifierTypeOptions t) => string.IsNullOrWhiteSpace(t.Type) ? name : t.Type.Trim();

    private static bool IsTypeId(string text)
    {
        Span<byte> bytes = stackalloc byte[48];
        return Convert.TryFromBase64String(text.Trim(), bytes, out int written) && written == 32;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "BRC-52 certificate issued: {Type} {SerialNumber} to {Subject}")]
    private static partial void LogIssued(ILogger logger, string type, string serialNumber, string subject);
}

/// <summary>What <c>GET /v1/certifier</c> answers.</summary>
public sealed record CertifierView(string IdentityKey, IReadOnlyDictionary<string, CertifierTypeView> Types);

/// <summary>One type the certifier issues.</summary>
public sealed record CertifierTypeView(string Type, IReadOnlyList<string> Fields);

/// <summary>The body of <c>POST /v1/certifier/revoke</c>.</summary>
public sealed record RevokeRequest(string? SerialNumber);

/// <summary>What a revocation answers.</summary>
public sealed record RevokeView(string SerialNumber, string RevocationOutpoint, bool Revoked);

/// <summary>One certificate the certifier issued (never its field values), as <see cref="ICertificateStore"/> keeps it.</summary>
/// <param name="SerialNumber">Base64 of its 32-byte serial number.</param>
/// <param name="Type">Its type id (base64).</param>
/// <param name="TypeName">The type's name in <c>Atomic:Certifier:Types</c>.</param>
/// <param name="Subject">The subject's identity key (hex).</param>
/// <param name="RevocationOutpoint">"{txid}.{vout}", or <see cref="CertificateRevocations.NoOutput"/>.</param>
/// <param name="IssuedAt">When it was issued.</param>
/// <param name="Output">What spending its revocation output needs; null when none was created on chain.</param>
public sealed record IssuedCertificate(
    [property: JsonPropertyName("serialNumber")] string SerialNumber,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("typeName")] string TypeName,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("revocationOutpoint")] string RevocationOutpoint,
    [property: JsonPropertyName("issuedAt")] DateTimeOffset IssuedAt,
    [property: JsonPropertyName("output")] RevocationOutput? Output);
