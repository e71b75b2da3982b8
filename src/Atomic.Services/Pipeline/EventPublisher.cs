using System.Text.Json;
using Dapr.Client;

namespace Atomic.Services.Pipeline;

/// <summary>
/// Publishes the pipeline's events to <c>pubsub</c> through the Dapr SDK: CloudEvents 1.0 with <c>type</c> = the topic
/// and <c>subject</c> = the txid (Dapr's <c>cloudevent.*</c> publish metadata), data as the event's JSON. Each topic
/// says one outcome per subject, and a handler that meets a repeat publishes that outcome again (a crash between a move
/// and its publish loses nothing), so the event's <c>id</c> is <c>{topic}|{subject}</c>: a repeat carries the same id,
/// and a consumer that drops repeats by id (an ERP through its hook's <c>X-Atomic-Delivery</c>) sees one event.
/// </summary>
public sealed class EventPublisher(DaprClient dapr)
{
    public Task PublishAsync<T>(string topic, string txid, T data, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["cloudevent.id"] = topic + "|" + txid,
            ["cloudevent.type"] = topic,
            ["cloudevent.subject"] = txid,
        };
        return dapr.PublishByteEventAsync(Names.PubSub, topic, JsonSerializer.SerializeToUtf8Bytes(data, TxRecords.Json), "application/json", metadata, cancellationToken);
    }
}
