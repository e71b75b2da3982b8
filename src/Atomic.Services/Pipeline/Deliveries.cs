using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapr.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Atomic.Services.Pipeline;

/// <summary>What a subscription route answers the sidecar for one delivered event (Dapr's pub/sub app response).</summary>
public enum Delivery
{
    /// <summary>Handled: the sidecar forgets the event.</summary>
    Success,

    /// <summary>Not now: the sidecar delivers it again after its resiliency policy's backoff.</summary>
    Retry,

    /// <summary>Never: the sidecar dead-letters it, or drops it when the subscription has no dead-letter topic.</summary>
    Drop,

    /// <summary>
    /// Not now, through no fault of the event: a dependency is known to be down (the chain tracker, an ARC endpoint
    /// whose circuit is open). Delivered again like <see cref="Retry"/>, but no attempt of the handler's limit is spent.
    /// </summary>
    Wait,
}

/// <summary>
/// Subscription routes' plumbing: Dapr's <c>{"status": "SUCCESS" | "RETRY" | "DROP"}</c> answers, the event's id and
/// trace context as <c>UseCloudEvents</c> forwards them (headers <c>Cloudevent.id</c>, <c>Cloudevent.traceparent</c>),
/// and a count of failed attempts per event so that a handler gives up (DROP) after its own limit while the sidecar's
/// resiliency policy only spaces the attempts out.
/// </summary>
public static class Deliveries
{
    /// <summary>Events whose failed attempts are remembered; past this all counts are forgotten (more attempts, never fewer).</summary>
    public const int MaxTrackedEvents = 65_536;

    private const string IdHeader = "Cloudevent.id";
    private const string TypeHeader = "Cloudevent.type";
    private const string TraceParentHeader = "Cloudevent.traceparent";

    private static readonly ConcurrentDictionary<string, int> Failures = new(StringComparer.Ordinal);

    public static Ok<DeliveryAnswer> Answer(Delivery outcome) => TypedResults.Ok(outcome switch
    {
        Delivery.Success => DeliveryAnswer.Success,
        Delivery.Retry or Delivery.Wait => DeliveryAnswer.Retry,
        _ => DeliveryAnswer.Drop,
    });

    /// <summary>The delivered event's CloudEvent id, or empty when the sidecar sent none.</summary>
    public static string EventId(HttpRequest request) => request.Headers[IdHeader].ToString();

    /// <summary>
    /// Runs <paramref name="handle"/> for a delivered event inside a consumer span joined to the publisher's trace; a
    /// Retry past <paramref name="maxAttempts"/> attempts of the same event becomes Drop (a Wait is never counted).
    /// </summary>
    public static async Task<Ok<DeliveryAnswer>> HandleAsync(HttpRequest request, string topic, int maxAttempts, Func<Activity?, Task<Delivery>> handle)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(handle);
        string id = EventId(request);
        using Activity? activity = Telemetry.Source.StartActivity(topic + " process", ActivityKind.Consumer, Parent(request));
        activity?.SetTag("messaging.destination.name", topic);
        activity?.SetTag("messaging.message.id", id);
        activity?.SetTag("cloudevents.event_type", request.Headers[TypeHeader].ToString());
        Delivery outcome = Settle(id, await handle(activity).ConfigureAwait(false), maxAttempts);
        activity?.SetTag("atomic.delivery", outcome.ToString());
        return Answer(outcome);
    }

    /// <summary>A Retry past <paramref name="maxAttempts"/> failed attempts of event <paramref name="id"/> becomes Drop; any other outcome forgets its count.</summary>
    private static Delivery Settle(string id, Delivery outcome, int maxAttempts)
    {
        if (outcome == Delivery.Retry && id.Length > 0 && Failed(id) >= maxAttempts)
        {
            return Delivery.Drop;
        }

        if (outcome is not (Delivery.Retry or Delivery.Wait) && id.Length > 0)
        {
            Failures.TryRemove(id, out _);
        }

        return outcome;
    }

    /// <summary>
    /// A subscription route that takes its events in bulk (Dapr's bulk subscribe, <see cref="WithBulk"/>) or one at a
    /// time. A bulk request (<c>BulkSubscribeMessage</c>: entries, each a CloudEvent) has every entry handled at once,
    /// each in its own consumer span joined to its publisher's trace and with its own attempt count, and answers each
    /// entry (<c>BulkSubscribeAppResponse</c>); an entry whose handler throws is a RETRY and fails no other entry. A
    /// single event (its data as the body, as <c>UseCloudEvents</c> leaves it) is handled as <see cref="HandleAsync"/>
    /// does. A body that is not the event's JSON gives the handler null (it answers Drop).
    /// </summary>
    public static async Task<IResult> HandleEachAsync<T>(HttpRequest request, string topic, int maxAttempts, Func<T?, Activity?, Task<Delivery>> handle, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(handle);
        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, TxRecords.Json, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            body = default;
        }

        if (!IsBulk(body, out JsonElement entries))
        {
            return await HandleAsync(request, topic, maxAttempts, activity => handle(Read<T>(body), activity)).ConfigureAwait(false);
        }

        var answers = new Task<BulkSubscribeAppResponseEntry>[entries.GetArrayLength()];
        int n = 0;
        foreach (JsonElement entry in entries.EnumerateArray())
        {
            answers[n++] = HandleEntryAsync(entry, topic, maxAttempts, handle);
        }

        return TypedResults.Ok(new BulkSubscribeAppResponse([.. await Task.WhenAll(answers).ConfigureAwait(false)]));
    }

    private static async Task<BulkSubscribeAppResponseEntry> HandleEntryAsync<T>(JsonElement entry, string topic, int maxAttempts, Func<T?, Activity?, Task<Delivery>> handle)
        where T : class
    {
        await Task.Yield(); // every entry at once: none waits for another's synchronous part
        string entryId = String(entry, "entryId")!;
        JsonElement cloudEvent = entry.TryGetProperty("event", out JsonElement ev) ? ev : default;
        bool structured = cloudEvent.ValueKind == JsonValueKind.Object && cloudEvent.TryGetProperty("specversion", out _);
        string id = structured ? String(cloudEvent, "id") ?? string.Empty : string.Empty;
        ActivityContext.TryParse(structured ? String(cloudEvent, "traceparent") : null, structured ? String(cloudEvent, "tracestate") : null, out ActivityContext parent);
        using Activity? activity = Telemetry.Source.StartActivity(topic + " process", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.destination.name", topic);
        activity?.SetTag("messaging.message.id", id);
        activity?.SetTag("cloudevents.event_type", structured ? String(cloudEvent, "type") : null);
        Delivery outcome;
        try
        {
            T? data = Read<T>(structured ? (cloudEvent.TryGetProperty("data", out JsonElement d) ? d : default) : cloudEvent);
            outcome = Settle(id, await handle(data, activity).ConfigureAwait(false), maxAttempts);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One entry's failure is its own: it is delivered again, and the others' answers stand.
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            outcome = Settle(id, Delivery.Retry, maxAttempts);
        }

        activity?.SetTag("atomic.delivery", outcome.ToString());
        return new BulkSubscribeAppResponseEntry(entryId, outcome switch
        {
            Delivery.Success => BulkSubscribeAppResponseStatus.SUCCESS,
            Delivery.Retry or Delivery.Wait => BulkSubscribeAppResponseStatus.RETRY,
            _ => BulkSubscribeAppResponseStatus.DROP,
        });
    }

    /// <summary>Whether the body is a bulk message: an <c>entries</c> array whose entries carry an <c>entryId</c>.</summary>
    private static bool IsBulk(JsonElement body, out JsonElement entries)
    {
        entries = default;
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("entries", out entries) || entries.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (JsonElement entry in entries.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || String(entry, "entryId") is null)
            {
                return false;
            }
        }

        return true;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static T? Read<T>(JsonElement data)
        where T : class
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        try
        {
            return data.Deserialize<T>(TxRecords.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Events of the pipeline's topics go to a stage at most this many to a bulk request.</summary>
    public const int BulkMaxMessages = 100;

    /// <summary>How long daprd may hold a bulk request to fill it (the embedded sidecar sends it sooner: as soon as the last one is answered).</summary>
    public const int BulkMaxAwaitMs = 20;

    /// <summary>Marks a subscription route for bulk delivery of <paramref name="topic"/> (Dapr's bulk subscribe).</summary>
    public static TBuilder WithBulk<TBuilder>(this TBuilder builder, string topic)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = topic, MaxMessagesCount = BulkMaxMessages, MaxAwaitDurationMs = BulkMaxAwaitMs });

    /// <summary>
    /// Where the consumer span hangs: the request's own span when ASP.NET Core made one (it follows the sidecar's
    /// <c>traceparent</c>), else that header, else the event's trace context as <c>UseCloudEvents</c> forwards it.
    /// </summary>
    private static ActivityContext Parent(HttpRequest request)
    {
        if (Activity.Current is not null)
        {
            return default; // StartActivity nests under the current span
        }

        return ActivityContext.TryParse(request.Headers["traceparent"].ToString(), request.Headers["tracestate"].FirstOrDefault(), out ActivityContext parent)
            || ActivityContext.TryParse(request.Headers[TraceParentHeader].ToString(), null, out parent)
            ? parent
            : default;
    }

    /// <summary>Counts one more failed attempt of <paramref name="id"/> and answers the count.</summary>
    private static int Failed(string id)
    {
        if (Failures.Count >= MaxTrackedEvents)
        {
            Failures.Clear(); // bounded: forgetting counts only ever means more attempts
        }

        return Failures.AddOrUpdate(id, 1, (_, n) => n + 1);
    }

    /// <summary>Reads a delivered event's data as <typeparamref name="T"/>; null when it is not that JSON (answer Drop).</summary>
    public static async Task<T?> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, TxRecords.Json, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Dapr's pub/sub app response body.</summary>
public sealed record DeliveryAnswer([property: JsonPropertyName("status")] string Status)
{
    public static readonly DeliveryAnswer Success = new("SUCCESS");
    public static readonly DeliveryAnswer Retry = new("RETRY");
    public static readonly DeliveryAnswer Drop = new("DROP");
}
