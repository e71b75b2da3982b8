using System.Buffers;
using System.Net;
using System.Text.Json;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.PubSub;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.AppChannel;

/// <summary>
/// Bulk subscribe for one route (pubsub API reference, "Bulk Subscribe"): the events ready for it go in one POST of
/// daprd's bulk message (<c>{"id", "entries": [{"entryId", "event", "contentType", "metadata"}], "metadata", "topic",
/// "pubsubname", "type": "com.dapr.event.sent.bulk", "path"}</c>), and the app answers each entry
/// (<c>{"statuses": [{"entryId", "status"}]}</c>). One request is under way at a time; the events made ready meanwhile
/// (the pub/sub hands a subscription up to its concurrency at once) wait and go in the next, at most
/// <c>maxMessagesCount</c> to a request. A request goes as soon as the one before it is answered, so an event never
/// waits for <c>maxAwaitDurationMs</c>, which daprd allows as an upper bound. An entry the answer leaves out, or answers
/// with a status other than SUCCESS, RETRY or DROP, is a RETRY; a 404 drops every entry, any other failure retries
/// every entry (each event then follows its own redelivery and dead-letter course, as a single delivery would).
/// </summary>
internal sealed partial class BulkDelivery(
    string url, string path, BulkSubscribe options, Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send, TimeSpan timeout, ILogger logger)
{
    /// <summary>daprd's <c>type</c> of a bulk message.</summary>
    public const string BulkType = "com.dapr.event.sent.bulk";

    private readonly object _gate = new();
    private List<Waiting> _waiting = [];
    private bool _sending;

    /// <summary>Delivers <paramref name="cloudEvent"/> in the next request to the route; answers the app's status for it.</summary>
    public Task<DeliveryResult> DeliverAsync(CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        var waiting = new Waiting(cloudEvent);
        bool start;
        lock (_gate)
        {
            _waiting.Add(waiting);
            start = !_sending;
            _sending = true;
        }

        if (start)
        {
            _ = Task.Run(SendAllAsync, CancellationToken.None);
        }

        return waiting.Answer.Task.WaitAsync(cancellationToken);
    }

    private async Task SendAllAsync()
    {
        while (true)
        {
            List<Waiting> batch;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _sending = false;
                    return;
                }

                if (_waiting.Count <= options.MaxMessagesCount)
                {
                    batch = _waiting;
                    _waiting = [];
                }
                else
                {
                    batch = _waiting.GetRange(0, options.MaxMessagesCount);
                    _waiting.RemoveRange(0, options.MaxMessagesCount);
                }
            }

            DeliveryResult[] results;
            try
            {
                results = await SendAsync(batch).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Whatever went wrong (no answer in time, the app gone, the channel disposed), every entry is retried and
                // the route's next request still goes: no event may wait on a sender that stopped.
                LogFailed(logger, batch.Count, url, e.Message);
                results = new DeliveryResult[batch.Count];
                Array.Fill(results, DeliveryResult.Retry);
            }

            for (int i = 0; i < batch.Count; i++)
            {
                batch[i].Answer.TrySetResult(results[i]);
            }
        }
    }

    private async Task<DeliveryResult[]> SendAsync(List<Waiting> batch)
    {
        var entryIds = new string[batch.Count];
        var body = new ArrayBufferWriter<byte>(1024 * batch.Count);
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("id", Guid.NewGuid().ToString());
            writer.WriteStartArray("entries");
            for (int i = 0; i < batch.Count; i++)
            {
                entryIds[i] = Guid.NewGuid().ToString();
                CloudEvent cloudEvent = batch[i].Event;
                (ReadOnlyMemory<byte> data, string contentType) = Publisher.Delivery(cloudEvent);
                writer.WriteStartObject();
                writer.WriteString("entryId", entryIds[i]);
                writer.WritePropertyName("event");
                // A structured CloudEvent is JSON already; a raw payload goes inline only when it is JSON.
                if (cloudEvent.Type != Publisher.RawPayloadType || (CloudEventJson.IsJson(contentType) && CloudEventJson.IsValidJson(data.Span)))
                {
                    writer.WriteRawValue(data.Span, skipInputValidation: true);
                }
                else
                {
                    writer.WriteBase64StringValue(data.Span); // a payload that is not JSON travels as base64
                }

                writer.WriteString("contentType", contentType);
                writer.WriteStartObject("metadata");
                writer.WriteString("pubsubName", cloudEvent.PubSubName);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartObject("metadata");
            writer.WriteEndObject();
            writer.WriteString("topic", batch[0].Event.Topic);
            writer.WriteString("pubsubname", batch[0].Event.PubSubName);
            writer.WriteString("type", BulkType);
            writer.WriteString("path", path);
            writer.WriteEndObject();
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body.WrittenMemory) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        request.Headers.TryAddWithoutValidation("pubsubname", batch[0].Event.PubSubName);
        using var deadline = new CancellationTokenSource(timeout);
        using HttpResponseMessage response = await send(request, deadline.Token).ConfigureAwait(false);
        byte[] answer = await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
        return Outcomes(response.StatusCode, answer, entryIds);
    }

    /// <summary>Each entry's outcome from the app's answer.</summary>
    private DeliveryResult[] Outcomes(HttpStatusCode status, byte[] answer, string[] entryIds)
    {
        var results = new DeliveryResult[entryIds.Length];
        int code = (int)status;
        if (code is < 200 or > 299)
        {
            LogStatus(logger, entryIds.Length, url, code);
            Array.Fill(results, code == 404 ? DeliveryResult.Drop : DeliveryResult.Retry);
            return results;
        }

        Array.Fill(results, DeliveryResult.Retry);
        var index = new Dictionary<string, int>(entryIds.Length, StringComparer.Ordinal);
        for (int i = 0; i < entryIds.Length; i++)
        {
            index[entryIds[i]] = i;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(answer);
            if (document.RootElement.ValueKind != JsonValueKind.Object || SubscriptionReader.Property(document.RootElement, "statuses") is not { ValueKind: JsonValueKind.Array } statuses)
            {
                LogMalformed(logger, url, "no statuses array");
                return results;
            }

            foreach (JsonElement entry in statuses.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object
                    && SubscriptionReader.Property(entry, "entryId") is { ValueKind: JsonValueKind.String } id
                    && index.TryGetValue(id.GetString()!, out int i)
                    && SubscriptionReader.Property(entry, "status") is { ValueKind: JsonValueKind.String } answered)
                {
                    results[i] = answered.GetString()!.ToUpperInvariant() switch
                    {
                        "SUCCESS" => DeliveryResult.Success,
                        "DROP" => DeliveryResult.Drop,
                        _ => DeliveryResult.Retry,
                    };
                }
            }
        }
        catch (JsonException e)
        {
            LogMalformed(logger, url, e.Message);
        }

        return results;
    }

    private sealed class Waiting(CloudEvent cloudEvent)
    {
        public CloudEvent Event { get; } = cloudEvent;

        public TaskCompletionSource<DeliveryResult> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "bulk delivery of {Count} events to {Url} failed ({Reason}); they will be retried")]
    private static partial void LogFailed(ILogger logger, int count, string url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "bulk delivery of {Count} events to {Url} answered {Status}; 404 drops them, any other status retries them")]
    private static partial void LogStatus(ILogger logger, int count, string url, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the app's answer to a bulk delivery at {Url} is not daprd's bulk response ({Reason}); its entries will be retried")]
    private static partial void LogMalformed(ILogger logger, string url, string reason);
}
