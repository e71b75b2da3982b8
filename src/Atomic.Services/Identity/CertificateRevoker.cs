using System.Diagnostics.Metrics;
using Atomic.Identity.Auth;
using Atomic.Services.Operations;
using Atomic.Services.Pipeline;
using Dapr;
using Dapr.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Identity;

/// <summary>
/// Takes a revocation into effect: it is written to <see cref="ICertificateStore"/> first (so a restart, even a kill right
/// after the answer, still refuses the certificate), then the certificate is refused from now on, every session holding it is dropped (its
/// claims with it; the client shakes hands again and is asked anew), the counter <c>atomic.identity.revoked</c> counts
/// it, a log line says so, and <c>certificate.revoked</c> is published on <c>pubsub</c> when Dapr is configured.
/// </summary>
public sealed partial class CertificateRevoker(
    CertificateRevocations revocations,
    ICertificateStore store,
    AuthServer server,
    TimeProvider time,
    IServiceProvider services,
    ILogger<CertificateRevoker> logger)
{
    private static readonly Counter<long> Revoked =
        Telemetry.Meter.CreateCounter<long>("atomic.identity.revoked", "{certificate}", "BRC-52 certificates revoked (by serial number or spent outpoint)");

    /// <summary>The pub/sub topic of a revocation.</summary>
    public const string Topic = "certificate.revoked";

    /// <summary>
    /// Revokes by serial number (our certifier) and/or spent outpoint (the overlay); false when already known. Throws
    /// what the store throws (<see cref="DaprException"/>, <see cref="InvalidOperationException"/>) when it cannot be
    /// written: then nothing else has happened, and the caller answers or retries accordingly.
    /// </summary>
    public async Task<bool> RevokeAsync(
        string? serialNumber, string? revocationOutpoint, string source, CancellationToken cancellationToken = default, bool publish = true, string? identity = null)
    {
        DateTimeOffset now = time.GetUtcNow();
        string? serial = serialNumber is { Length: > 0 } && !revocations.IsSerialRevoked(serialNumber) ? serialNumber : null;
        string? outpoint = revocationOutpoint is { Length: > 0 } && revocationOutpoint != CertificateRevocations.NoOutput
            && !revocations.IsRevoked(revocationOutpoint) ? revocationOutpoint : null;
        if (serial is null && outpoint is null)
        {
            return false; // known here, so already in the store: nothing is written twice
        }

        await store.RecordRevocationAsync(serial, outpoint, now, cancellationToken).ConfigureAwait(false);
        bool fresh = (serial is not null && revocations.RevokeSerial(serial, now)) | (outpoint is not null && revocations.Revoke(outpoint, now));
        if (!fresh)
        {
            return false;
        }

        int dropped = server.Sessions.RemoveWhere(s => s.Certificates.Any(c =>
            (serialNumber is { Length: > 0 } && c.SerialNumber == serialNumber)
            || (revocationOutpoint is { Length: > 0 } && revocationOutpoint != CertificateRevocations.NoOutput
                && string.Equals(c.RevocationOutpoint, revocationOutpoint, StringComparison.OrdinalIgnoreCase))));
        Revoked.Add(1, new KeyValuePair<string, object?>("source", source));
        LogRevoked(logger, serialNumber ?? "?", revocationOutpoint ?? "?", source, dropped);
        services.GetService<AuditLog>()?.Append(Topic, serialNumber ?? revocationOutpoint!, $"{source} {revocationOutpoint ?? "-"}", identity);
        if (publish && services.GetService<DaprClient>() is { } dapr)
        {
            try
            {
                await dapr.PublishEventAsync(
                    "pubsub",
                    Topic,
                    new CertificateRevokedEvent(serialNumber, revocationOutpoint, source),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DaprException or HttpRequestException or InvalidOperationException)
            {
                LogPublishFailed(logger, serialNumber ?? revocationOutpoint ?? "?", e.Message);
            }
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "BRC-52 certificate revoked: serial {SerialNumber}, outpoint {Outpoint}, by {Source}; {Dropped} sessions dropped")]
    private static partial void LogRevoked(ILogger logger, string serialNumber, string outpoint, string source, int dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "certificate.revoked for {Certificate} could not be published: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, string certificate, string error);
}
