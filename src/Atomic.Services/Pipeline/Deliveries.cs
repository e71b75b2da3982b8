using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
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
        Delivery outcome = await handle(activity).ConfigureAwait(false);
        if (outcome == Delivery.Retry && id.Length > 0 && Failed(id) >= maxAttempts)
        {
            outcome = Delivery.Drop;
        }

        if (outcome is not (Delivery.Retry or Delivery.Wait) && id.Length > 0)
        {
            Failures.TryRemove(id, out _);
        }

        activity?.SetTag("atomic.delivery", outcome.ToString());
        return Answer(outcome);
    }

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
