using System.Text.Json;
using System.Text.Json.Nodes;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.Resiliency;
using Polly.Timeout;

namespace Atomic.Sidecar.PubSub;

/// <summary>
/// Publishing as daprd does it (reference/api/pubsub_api.md), shared by the HTTP and gRPC APIs: a payload is wrapped in
/// a CloudEvent 1.0 (<c>source</c> the app id, <c>type</c> <c>com.dapr.event.sent</c>, overridable through
/// <c>cloudevent.*</c> metadata), a payload that already is one (<c>application/cloudevents+json</c>) keeps its fields and
/// gains the ones missing, and <c>rawPayload=true</c> is delivered as sent. The event is then in the pub/sub component,
/// which keeps it until every subscriber has handled it; the call into the component runs under the pub/sub's
/// outbound Resiliency policy (timeout, retry, circuit breaker).
/// </summary>
public sealed class Publisher(SidecarComponents components, SidecarOptions options, SidecarResiliency resiliency)
{
    /// <summary>The content type of a structured CloudEvent.</summary>
    public const string CloudEventsJson = "application/cloudevents+json";

    /// <summary>daprd's <c>type</c> for an event it wrapped.</summary>
    public const string DefaultType = "com.dapr.event.sent";

    /// <summary>
    /// Marks a kept event whose <see cref="CloudEvent.Data"/> is a raw payload (<c>rawPayload=true</c>), delivered as is
    /// with its content type; every other kept event is delivered as a structured CloudEvent.
    /// </summary>
    public const string RawPayloadType = "io.atomic.sidecar.raw-payload";

    /// <summary>Publishes one event; returns once the component holds it.</summary>
    public Task PublishAsync(string pubsub, string topic, ReadOnlyMemory<byte> data, string? contentType, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        IPubSub target = Target(pubsub, topic);
        CloudEvent cloudEvent = Build(pubsub, topic, data, contentType, metadata);
        return Store(target, [cloudEvent], cancellationToken);
    }

    /// <summary>Publishes several events all at once, or none of them (the component's bulk publish).</summary>
    public Task PublishBulkAsync(string pubsub, string topic, IReadOnlyList<(ReadOnlyMemory<byte> Data, string? ContentType, IReadOnlyDictionary<string, string> Metadata)> entries, CancellationToken cancellationToken)
    {
        IPubSub target = Target(pubsub, topic);
        var events = new CloudEvent[entries.Count];
        for (int i = 0; i < events.Length; i++)
        {
            events[i] = Build(pubsub, topic, entries[i].Data, entries[i].ContentType, entries[i].Metadata);
        }

        return Store(target, events, cancellationToken);
    }

    private IPubSub Target(string pubsub, string topic)
    {
        if (string.IsNullOrEmpty(pubsub))
        {
            throw new DaprError(404, global::Grpc.Core.StatusCode.InvalidArgument, ErrorCodes.PubSubEmpty, "pubsub name is empty");
        }

        IPubSub target = components.PubSub(pubsub);
        if (string.IsNullOrEmpty(topic))
        {
            throw new DaprError(404, global::Grpc.Core.StatusCode.InvalidArgument, ErrorCodes.TopicEmpty, $"topic is empty in pubsub {pubsub}");
        }

        return target;
    }

    private async Task Store(IPubSub target, CloudEvent[] events, CancellationToken cancellationToken)
    {
        TargetPolicy policy = resiliency.Outbound(target.Name, ComponentKind.Pubsub);
        try
        {
            await policy.ExecuteAsync(
                async ct =>
                {
                    if (events.Length == 1)
                    {
                        await target.PublishAsync(events[0], ct).ConfigureAwait(false);
                    }
                    else
                    {
                        await target.PublishBulkAsync(events, ct).ConfigureAwait(false);
                    }

                    return true;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutRejectedException or CircuitBrokenException)
        {
            string why = e is TimeoutRejectedException ? Invoke.Invoker.DeadlineExceeded : e.Message;
            throw new DaprError(500, global::Grpc.Core.StatusCode.Internal, ErrorCodes.PubSubPublishMessage, $"error when publish to topic {events[0].Topic} in pubsub {target.Name}: {why}");
        }
    }

    /// <summary>The event to keep for one publish, following daprd's rules for its payload.</summary>
    internal CloudEvent Build(string pubsub, string topic, ReadOnlyMemory<byte> data, string? contentType, IReadOnlyDictionary<string, string> metadata)
    {
        metadata = Http.TraceContext.With(metadata)!;
        string type = string.IsNullOrEmpty(contentType) ? "application/json" : contentType;
        DateTimeOffset now = options.Time.GetUtcNow();
        if (metadata.TryGetValue("rawPayload", out string? raw) && bool.TryParse(raw, out bool isRaw) && isRaw)
        {
            return new CloudEvent(Guid.NewGuid().ToString(), options.AppId, RawPayloadType, null, type, data, now, pubsub, topic);
        }

        if (type.StartsWith(CloudEventsJson, StringComparison.OrdinalIgnoreCase))
        {
            return FromEnvelope(pubsub, topic, data, metadata, now);
        }

        return new CloudEvent(
            Override(metadata, "id") ?? Guid.NewGuid().ToString(),
            Override(metadata, "source") ?? options.AppId,
            Override(metadata, "type") ?? DefaultType,
            Override(metadata, "subject"),
            type,
            data,
            now,
            pubsub,
            topic)
        {
            TraceParent = Override(metadata, "traceparent"),
            TraceState = Override(metadata, "tracestate"),
        };
    }

    /// <summary>A payload that is a CloudEvent already: its fields stand, the missing ones are added, and Dapr's own.</summary>
    private CloudEvent FromEnvelope(string pubsub, string topic, ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string> metadata, DateTimeOffset now)
    {
        JsonObject envelope;
        try
        {
            envelope = JsonNode.Parse(data.Span) as JsonObject
                ?? throw new DaprError(400, global::Grpc.Core.StatusCode.InvalidArgument, ErrorCodes.PubSubCloudEventsSer, "the CloudEvent is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new DaprError(400, global::Grpc.Core.StatusCode.InvalidArgument, ErrorCodes.PubSubCloudEventsSer, $"the CloudEvent is not valid JSON: {e.Message}");
        }

        string Field(string name, string fallback)
        {
            string value = Override(metadata, name) ?? (envelope[name] is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0 ? s : fallback);
            envelope[name] = value;
            return value;
        }

        envelope["specversion"] = CloudEvent.SpecVersion;
        string id = Field("id", Guid.NewGuid().ToString());
        string source = Field("source", options.AppId);
        string type = Field("type", DefaultType);
        _ = Field("datacontenttype", "application/json");
        string? subject = Override(metadata, "subject") ?? (envelope["subject"] as JsonValue)?.GetValue<string>();
        if (subject is not null)
        {
            envelope["subject"] = subject;
        }

        envelope["topic"] = topic;
        envelope["pubsubname"] = pubsub;
        string? traceParent = Override(metadata, "traceparent") ?? (envelope["traceparent"] as JsonValue)?.GetValue<string>();
        if (traceParent is not null)
        {
            envelope["traceparent"] = traceParent;
        }

        if (envelope["time"] is null)
        {
            envelope["time"] = now.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        }

        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(envelope);
        return new CloudEvent(id, source, type, subject, CloudEventsJson, bytes, now, pubsub, topic) { TraceParent = traceParent };
    }

    private static string? Override(IReadOnlyDictionary<string, string> metadata, string attribute) =>
        metadata.TryGetValue("cloudevent." + attribute, out string? value) && value.Length > 0 ? value : null;

    /// <summary>
    /// The body and content type daprd delivers for a kept event: a raw payload as sent, a CloudEvent kept whole as
    /// kept, anything else (events of this sidecar, the outbox's, in-process publishers') as a structured CloudEvent.
    /// </summary>
    public static (ReadOnlyMemory<byte> Body, string ContentType) Delivery(CloudEvent cloudEvent)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        if (cloudEvent.Type == RawPayloadType)
        {
            return (cloudEvent.Data, cloudEvent.DataContentType);
        }

        return cloudEvent.DataContentType.StartsWith(CloudEventsJson, StringComparison.OrdinalIgnoreCase)
            ? (cloudEvent.Data, CloudEventsJson)
            : (CloudEventJson.Serialize(cloudEvent), CloudEventsJson);
    }
}
