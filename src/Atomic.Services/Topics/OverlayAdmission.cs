using System.Diagnostics;
using Atomic.Overlay.Baskets;
using Atomic.Services.Contracts;
using Atomic.Services.Pipeline;
using Dapr.Actors;
using Dapr.Actors.Client;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Topics;

/// <summary>
/// Handles <c>beef.verified</c> for the overlay stage (app <c>atomic-overlay</c>): offers the transaction to the
/// <c>TopicManager</c> actor of each of its topics and applies it to the <c>BasketManager</c> actor of each of its
/// baskets. Both actors remember what they did per txid, so a duplicated delivery, a retry after a partial failure, or a
/// transaction already admitted through <c>POST /submit</c> changes nothing. An actor that fails is retried; an
/// unreadable event is dropped.
/// </summary>
public sealed class OverlayAdmission(IActorProxyFactory actors, TopicCatalog catalog, TxRecords records, ILogger<OverlayAdmission> logger)
{
    /// <summary>Failed attempts of one event before it is dead-lettered.</summary>
    public const int MaxAttempts = 8;

    /// <summary>Offers a verified transaction to one topic's actor and answers the topic's STEAK entry.</summary>
    public async Task<AdmittanceInstructions> AdmitAsync(string topic, string txid, string beefBase64)
    {
        using Activity? activity = Telemetry.Source.StartActivity("overlay.admit");
        activity?.SetTag("atomic.topic", topic);
        activity?.SetTag("atomic.txid", txid);
        try
        {
            ITopicManager manager = actors.CreateActorProxy<ITopicManager>(new ActorId(topic), ITopicManager.TypeName);
            AdmittanceInstructions instructions = await manager.Admit(new AdmitRequest(txid, beefBase64)).ConfigureAwait(false);
            activity?.SetTag("atomic.admitted", instructions.OutputsToAdmit.Count);
            return instructions;
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    public async Task<Delivery> HandleAsync(BeefVerified? verified)
    {
        if (verified is null || !Outpoints.IsTxId(verified.TxId))
        {
            return Delivery.Drop;
        }

        if (verified.Topics is not { Count: > 0 } && verified.Baskets is not { Count: > 0 })
        {
            return Delivery.Success; // nothing for the overlay: the BEEF is not even read
        }

        string txid = verified.TxId.ToLowerInvariant();
        string beefBase64;
        try
        {
            if (verified.Beef is string carried)
            {
                _ = Convert.FromBase64String(carried); // an event written before BEEFs travelled by reference
                beefBase64 = carried;
            }
            else if (await records.GetBeefAsync(txid).ConfigureAwait(false) is var (stored, _))
            {
                beefBase64 = Convert.ToBase64String(stored);
            }
            else
            {
                logger.LogWarning("dropping beef.verified for {TxId}: no BEEF is kept for it", txid);
                return Delivery.Drop;
            }
        }
        catch (FormatException e)
        {
            logger.LogWarning("dropping a beef.verified event whose BEEF is not base64: {Message}", e.Message);
            return Delivery.Drop;
        }
        catch (Exception e) when (e is Dapr.DaprException or HttpRequestException)
        {
            logger.LogWarning("the BEEF of {TxId} could not be read, retrying: {Message}", txid, e.Message);
            return Delivery.Retry;
        }

        try
        {
            foreach (string topic in verified.Topics ?? [])
            {
                if (!catalog.Contains(topic))
                {
                    logger.LogWarning("{TxId} names topic {Topic}, which no topic manager here serves; skipped", txid, topic);
                    continue;
                }

                await AdmitAsync(topic, txid, beefBase64).ConfigureAwait(false);
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

                IBasketManager manager = actors.CreateActorProxy<IBasketManager>(new ActorId(basket), IBasketManager.TypeName);
                await manager.ApplyTransaction(new ApplyTransactionRequest(txid, beefBase64)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (Actors.IsCallFailure(e))
        {
            logger.LogWarning("overlay actors failed on {TxId}, retrying: {Message}", txid, Actors.ErrorMessage(e));
            return Delivery.Retry;
        }

        return Delivery.Success;
    }
}
