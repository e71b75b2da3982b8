using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Dapr;
using Dapr.Client;

namespace Atomic.Services.Pipeline;

/// <summary>
/// Publishes the pipeline's events to <c>pubsub</c> through the Dapr SDK: CloudEvents 1.0 with <c>type</c> = the topic
/// and <c>subject</c> = the txid, data as the event's JSON. Each topic says one outcome per subject, and a handler that
/// meets a repeat publishes that outcome again (a crash between a move and its publish loses nothing), so the event's
/// <c>id</c> is <c>{topic}|{subject}</c>: a repeat carries the same id, and a consumer that drops repeats by id (an ERP
/// through its hook's <c>X-Atomic-Delivery</c>) sees one event.
/// </summary>
/// <remarks>
/// Events of one topic published at the same time go to the sidecar as one bulk publish (<see cref="Coalescer{TIn, TOut}"/>),
/// each a structured CloudEvent with those attributes; a lone event goes at once as an ordinary publish, its attributes
/// as Dapr's <c>cloudevent.*</c> metadata. A bulk publish has one trace context for all its events, as daprd gives it:
/// its span (<c>{topic} publish</c>) starts a trace of its own and links to the span of each publisher, so each
/// transaction's trace leads on to the next stage's through that link, where a lone event carries its trace on itself.
/// </remarks>
public sealed class EventPublisher(DaprClient dapr)
{
    private readonly ConcurrentDictionary<string, Coalescer<Pending, string?>> _topics = new(StringComparer.Ordinal);

    public async Task PublishAsync<T>(string topic, string txid, T data, CancellationToken cancellationToken)
    {
        Coalescer<Pending, string?> batches = _topics.GetOrAdd(topic, static (name, self) =>
            new Coalescer<Pending, string?>(static pending => pending.TxId, events => self.PublishAllAsync(name, events)), this);
        if (await batches.CallAsync(new Pending(txid, data, Activity.Current?.Context ?? default), cancellationToken).ConfigureAwait(false) is string error)
        {
            throw new DaprException($"publishing {Id(topic, txid)} failed: {error}");
        }
    }

    /// <summary>Publishes events of one topic: a lone one on its own, several in one bulk publish; null for each published, or its error.</summary>
    private async Task<string?[]> PublishAllAsync(string topic, IReadOnlyList<Pending> events)
    {
        if (events.Count == 1)
        {
            Pending lone = events[0];
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["cloudevent.id"] = Id(topic, lone.TxId),
                ["cloudevent.type"] = topic,
                ["cloudevent.subject"] = lone.TxId,
            };
            await dapr.PublishByteEventAsync(Names.PubSub, topic, JsonSerializer.SerializeToUtf8Bytes(lone.Data, TxRecords.Json), "application/json", metadata,
                CancellationToken.None).ConfigureAwait(false);
            return [null];
        }

        var envelopes = new CloudEvent<object?>[events.Count];
        for (int i = 0; i < envelopes.Length; i++)
        {
            envelopes[i] = new CloudEvent<object?>(events[i].Data) { Id = Id(topic, events[i].TxId), Type = topic, Subject = events[i].TxId };
        }

        using Activity? activity = Telemetry.StartBatch(topic + " publish", ActivityKind.Producer, events, static e => e.Trace);
        activity?.SetTag("messaging.batch.message_count", events.Count);
        BulkPublishResponse<CloudEvent<object?>> response = await dapr.BulkPublishEventAsync(Names.PubSub, topic, envelopes).ConfigureAwait(false);
        string?[] errors = new string?[events.Count];
        foreach (BulkPublishResponseFailedEntry<CloudEvent<object?>> failed in response.FailedEntries)
        {
            // The SDK numbers the entries 0, 1, … in the order given.
            errors[int.Parse(failed.Entry.EntryId, System.Globalization.CultureInfo.InvariantCulture)] = failed.ErrorMessage;
            activity?.SetStatus(ActivityStatusCode.Error, failed.ErrorMessage);
        }

        return errors;
    }

    private static string Id(string topic, string txid) => topic + "|" + txid;

    /// <summary>An event to publish: its subject, its data, and the publisher's span.</summary>
    private sealed record Pending(string TxId, object? Data, ActivityContext Trace);
}
