using System.Diagnostics;
using System.Text.Json;
using Atomic.Overlay.Baskets;
using Atomic.Runtime.Actors;
using Atomic.Runtime.PubSub;
using Atomic.Services.Transactions;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Overlay;

/// <summary>
/// Subscribes to <c>beef.verified</c> (consumer <c>atomic-overlay</c>): offers the transaction to the <c>TopicManager</c>
/// actor of each of its topics and applies it to the <c>BasketManager</c> actor of each of its baskets. Both actors
/// remember what they did per txid, so a duplicated delivery, a retry after a partial failure, or a transaction
/// already admitted through <c>POST /submit</c> changes nothing. An actor that fails is retried; an unreadable event
/// is dropped to <c>beef.verified.overlay.dead</c> (not <c>beef.verified.dead</c>: the broadcaster reads that one as
/// "unreachable").
/// </summary>
public sealed class OverlayService(IActorClient actors, TopicCatalog catalog, ILogger<OverlayService> logger)
{
    public const string DeadLetterTopic = Names.Topics.BeefVerified + ".overlay.dead";

    /// <param name="maxConcurrency">Deliveries handled at once.</param>
    public Subscription Subscription(int maxConcurrency) =>
        new(Names.PubSub, Names.Topics.BeefVerified, HandleAsync, DeadLetterTopic: DeadLetterTopic, Consumer: Names.Apps.Overlay, MaxConcurrency: maxConcurrency,
            Retry: new RetryPolicy(MaxAttempts: 8, InitialDelay: TimeSpan.FromMilliseconds(200), MaxDelay: TimeSpan.FromSeconds(30)));

    /// <summary>Offers a verified transaction to one topic's actor and answers the topic's STEAK entry.</summary>
    public async Task<AdmittanceInstructions> AdmitAsync(string topic, string txid, string beefBase64, CancellationToken cancellationToken)
    {
        using Activity? activity = Telemetry.Source.StartActivity("overlay.admit");
        activity?.SetTag("atomic.topic", topic);
        activity?.SetTag("atomic.txid", txid);
        try
        {
            AdmittanceInstructions instructions = await actors.InvokeAsync<AdmitRequest, AdmittanceInstructions>(
                TopicManagerActor.TypeName, topic, "Admit", new AdmitRequest(txid, beefBase64), cancellationToken).ConfigureAwait(false);
            activity?.SetTag("atomic.admitted", instructions.OutputsToAdmit.Count);
            return instructions;
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    internal async Task<DeliveryResult> HandleAsync(CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        BeefVerified? verified;
        try
        {
            verified = JsonSerializer.Deserialize<BeefVerified>(cloudEvent.Data.Span, TxRecords.Json);
            if (verified is null || !Outpoints.IsTxId(verified.TxId) || verified.Beef is null)
            {
                return DeliveryResult.Drop;
            }

            _ = Convert.FromBase64String(verified.Beef);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            logger.LogWarning("dropping unreadable beef.verified event {Id}: {Message}", cloudEvent.Id, e.Message);
            return DeliveryResult.Drop;
        }

        string txid = verified.TxId.ToLowerInvariant();
        try
        {
            foreach (string topic in verified.Topics ?? [])
            {
                if (!catalog.Contains(topic))
                {
                    logger.LogWarning("{TxId} names topic {Topic}, which no topic manager here serves; skipped", txid, topic);
                    continue;
                }

                await AdmitAsync(topic, txid, verified.Beef, cancellationToken).ConfigureAwait(false);
            }

            foreach (string name in verified.Baskets ?? [])
            {
                string basket;
                try
                {
                    basket = BasketNames.Normalize(name);
                }
                catch (ArgumentException e)
                {
                    logger.LogWarning("{TxId} names basket '{Basket}', which is not a basket name ({Message}); skipped", txid, name, e.Message);
                    continue;
                }

                await actors.InvokeAsync<ApplyTransactionRequest, ApplyResult>(
                    BasketManagerActor.TypeName, basket, "ApplyTransaction", new ApplyTransactionRequest(txid, verified.Beef), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (ActorException e)
        {
            logger.LogWarning("overlay actors failed on {TxId}, retrying: {Message}", txid, e.Message);
            return DeliveryResult.Retry;
        }

        return DeliveryResult.Success;
    }
}
