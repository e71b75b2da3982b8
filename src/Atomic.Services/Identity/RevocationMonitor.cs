using Atomic.Bsv.Transactions;
using Atomic.Overlay;
using Atomic.Overlay.Revocation;
using Atomic.Services.Pipeline;
using Atomic.Services.Topics;
using Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Identity;

/// <summary>
/// Revocation monitoring: when the <c>tm_revocation</c> topic admits a transaction spending a revocation output, the
/// certificate it guards is revoked here (<see cref="CertificateRevoker"/>: recorded in the store, refused from then on,
/// sessions dropped, counted, logged) and <c>certificate.revoked</c> is published, so every other app holding sessions revokes it too
/// through the subscription <see cref="MapRevocationEvents"/> maps.
/// </summary>
public sealed partial class RevocationMonitor(IServiceProvider services, ILogger<RevocationMonitor> logger) : ITopicAdmissionObserver
{
    /// <inheritdoc/>
    public bool Observes(string topic) => topic == RevocationTopicManager.TopicName;

    /// <inheritdoc/>
    /// <remarks>A revocation that cannot be taken into effect (the store refused it) is logged and thrown, so the topic
    /// tells this monitor again (<c>Atomic:Overlay:ObserverRetry</c>); revoking twice changes nothing.</remarks>
    public async Task CoinsRemovedAsync(string topic, Transaction transaction, IReadOnlyList<PreviousCoin> removed, CancellationToken cancellationToken)
    {
        if (!Observes(topic))
        {
            return;
        }

        foreach (Revoked r in RevocationTopicManager.Revocations(transaction, removed))
        {
            string outpoint = Outpoints.Format(r.RevocationOutpoint);
            try
            {
                if (services.GetService<CertificateRevoker>() is { } revoker)
                {
                    await revoker.RevokeAsync(r.SerialNumber, outpoint, "overlay", cancellationToken).ConfigureAwait(false);
                }
                else if (services.GetService<EventPublisher>() is { } events)
                {
                    await events.PublishAsync(
                        CertificateRevoker.Topic, r.SpentBy.ToString(), new CertificateRevokedEvent(r.SerialNumber, outpoint, "overlay"), cancellationToken)
                        .ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is DaprException or HttpRequestException or InvalidOperationException)
            {
                LogFailed(logger, r.SerialNumber, e.Message);
                throw;
            }
        }
    }

    /// <summary>
    /// <c>POST /v1/identity/events/certificate-revoked</c>, subscribed to <c>certificate.revoked</c> on <c>pubsub</c>: a
    /// revocation seen by another app (its overlay, its certifier) takes effect here too.
    /// </summary>
    public static IEndpointConventionBuilder MapRevocationEvents(IEndpointRouteBuilder app) =>
        app.MapPost("/v1/identity/events/certificate-revoked", RevokedAsync).WithTopic(Names.PubSub, CertificateRevoker.Topic);

    internal static async Task<Ok> RevokedAsync(CertificateRevokedEvent revoked, CertificateRevoker revoker, CancellationToken cancellationToken)
    {
        await revoker.RevokeAsync(revoked.SerialNumber, revoked.RevocationOutpoint, revoked.Source ?? "event", cancellationToken, publish: false)
            .ConfigureAwait(false);
        return TypedResults.Ok();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "the revocation of certificate {SerialNumber} could not be taken into effect, and will be tried again: {Error}")]
    private static partial void LogFailed(ILogger logger, string serialNumber, string error);
}

/// <summary>The data of a <c>certificate.revoked</c> event.</summary>
/// <param name="SerialNumber">The certificate's serial number (base64).</param>
/// <param name="RevocationOutpoint">Its revocation outpoint ("{txid}.{vout}").</param>
/// <param name="Source">"certifier" (revoked through our certifier) or "overlay" (its revocation output spent).</param>
public sealed record CertificateRevokedEvent(string? SerialNumber, string? RevocationOutpoint, string? Source);
