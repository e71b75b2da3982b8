using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atomic.Runtime.Dapr.Tests.Fakes;

/// <summary>
/// The pub/sub API (reference/api/pubsub_api.md): publish and bulk publish, and delivery to the app's programmatic
/// subscriptions with SUCCESS / RETRY / DROP, retries and dead-letter topics (dropped events are dead-lettered too,
/// as daprd does since dapr/dapr#7097).
/// </summary>
public sealed partial class FakeSidecar
{
    private const string CloudEventsJson = "application/cloudevents+json";
    private static readonly string[] SubscriptionFields = ["pubsubname", "topic", "route", "routes", "deadLetterTopic", "metadata", "bulkSubscribe"];

    private void MapPublish(WebApplication host)
    {
        host.MapPost("/v1.0/publish/{pubsub}/{topic}", PublishAsync);
        host.MapPost("/v1.0-alpha1/publish/bulk/{pubsub}/{topic}", BulkPublishAsync);
    }

    private async Task PublishAsync(HttpContext context)
    {
        QueryAllows(context);
        string pubsub = Segment(context, "pubsub");
        if (!_options.PubSubs.Contains(pubsub))
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, "ERR_PUBSUB_NOT_FOUND", $"pubsub {pubsub} not found");
            return;
        }

        string contentType = context.Request.ContentType ?? "text/plain";
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        JsonObject envelope = Envelope(buffer.ToArray(), contentType, "body");
        if (_options.RefuseEvent?.Invoke((string)envelope["id"]!) is string refusal)
        {
            await ErrorAsync(context, StatusCodes.Status500InternalServerError, "ERR_PUBSUB_PUBLISH_MESSAGE", refusal);
            return;
        }

        await RouteAsync(pubsub, Segment(context, "topic"), envelope);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task BulkPublishAsync(HttpContext context)
    {
        QueryAllows(context);
        string pubsub = Segment(context, "pubsub");
        if (!_options.PubSubs.Contains(pubsub))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "ERR_PUBSUB_NOT_FOUND", $"pubsub {pubsub} not found");
            return;
        }

        JsonElement body = StrictJson.Parse(await BodyAsync(context, "application/json"), "bulk publish body");
        StrictJson.Kind(body, JsonValueKind.Array, "bulk publish body");
        var entries = new List<(string EntryId, JsonObject Envelope)>();
        foreach (JsonElement entry in body.EnumerateArray())
        {
            string what = $"entry {entries.Count}";
            StrictJson.Fields(entry, what, "entryId", "event", "contentType", "metadata");
            string entryId = StrictJson.RequiredString(entry, "entryId", what);
            if (entries.Any(e => e.EntryId == entryId))
            {
                throw new BadRequestException($"{what}: entryId '{entryId}' is not unique");
            }

            string contentType = StrictJson.RequiredString(entry, "contentType", what);
            StrictJson.StringMap(entry, "metadata", what);
            if (!entry.TryGetProperty("event", out JsonElement e))
            {
                throw new BadRequestException($"{what}: 'event' is required");
            }

            byte[] payload = e.ValueKind == JsonValueKind.String && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase)
                ? Encoding.UTF8.GetBytes(e.GetString()!)
                : Encoding.UTF8.GetBytes(e.GetRawText());
            entries.Add((entryId, Envelope(payload, contentType, what)));
        }

        var failed = new JsonArray();
        foreach ((string entryId, JsonObject envelope) in entries)
        {
            if (_options.RefuseEvent?.Invoke((string)envelope["id"]!) is string refusal)
            {
                failed.Add(new JsonObject { ["entryId"] = entryId, ["error"] = refusal });
                continue;
            }

            await RouteAsync(pubsub, Segment(context, "topic"), envelope);
        }

        if (failed.Count > 0)
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(new JsonObject { ["failedEntries"] = failed, ["errorCode"] = "ERR_PUBSUB_PUBLISH_MESSAGE" }.ToJsonString());
            return;
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>A structured CloudEvent is taken as given (it must be one); any other payload is wrapped in one, as daprd does.</summary>
    private static JsonObject Envelope(byte[] payload, string contentType, string what)
    {
        if (contentType.StartsWith(CloudEventsJson, StringComparison.OrdinalIgnoreCase))
        {
            JsonElement element = StrictJson.Parse(payload, $"{what}: CloudEvent");
            StrictJson.Kind(element, JsonValueKind.Object, $"{what}: CloudEvent");
            StrictJson.OneOf(StrictJson.RequiredString(element, "specversion", what), $"{what}: specversion", "1.0");
            StrictJson.RequiredString(element, "id", what);
            StrictJson.RequiredString(element, "source", what);
            StrictJson.RequiredString(element, "type", what);
            return JsonNode.Parse(payload)!.AsObject();
        }

        bool json = contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);
        return new JsonObject
        {
            ["specversion"] = "1.0",
            ["id"] = Guid.NewGuid().ToString(),
            ["source"] = "fake-app",
            ["type"] = "com.dapr.event.sent",
            ["datacontenttype"] = contentType,
            ["data"] = json ? JsonNode.Parse(payload) : JsonValue.Create(Encoding.UTF8.GetString(payload)),
        };
    }

    /// <summary>Hands the event to every subscription of the topic the app lists right now; delivery runs in the background.</summary>
    private async Task RouteAsync(string pubsub, string topic, JsonObject envelope)
    {
        envelope["topic"] = topic;
        envelope["pubsubname"] = pubsub;
        envelope["traceid"] = "00-00000000000000000000000000000001-0000000000000001-01";
        envelope["traceparent"] = "00-00000000000000000000000000000001-0000000000000001-01";
        foreach (HttpClient app in Apps)
        {
            await RouteAsync(app, pubsub, topic, envelope);
        }
    }

    private async Task RouteAsync(HttpClient app, string pubsub, string topic, JsonObject envelope)
    {
        foreach ((string route, string? deadLetterTopic) in await SubscriptionsAsync(app, pubsub, topic))
        {
            Interlocked.Increment(ref _inFlight);
            string body = envelope.ToJsonString();
            _ = Task.Run(async () =>
            {
                try
                {
                    await DeliverAsync(app, pubsub, topic, route, deadLetterTopic, body);
                }
                catch (Exception e) when (e is OperationCanceledException or HttpRequestException)
                {
                    // The fake is stopping, or the app is gone: the event stays undelivered, as with a stopped daprd.
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            });
        }
    }

    private async Task DeliverAsync(HttpClient app, string pubsub, string topic, string route, string? deadLetterTopic, string body)
    {
        string eventId = JsonNode.Parse(body)!["id"]!.GetValue<string>();
        for (int attempt = 1; attempt <= _options.MaxDeliveryAttempts; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, route.TrimStart('/'));
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(CloudEventsJson);
            if (_options.AppApiToken is not null)
            {
                request.Headers.Add("dapr-api-token", _options.AppApiToken);
            }

            using HttpResponseMessage response = await app.SendAsync(request, _stopping.Token);
            string answer = await response.Content.ReadAsStringAsync(_stopping.Token);
            _deliveries.Enqueue(new RecordedDelivery(route, topic, eventId, attempt, (int)response.StatusCode, _options.AppApiToken, answer));
            string status = (int)response.StatusCode switch
            {
                >= 200 and < 300 => Status(answer),
                404 => "DROP",
                _ => "RETRY",
            };
            if (status == "SUCCESS")
            {
                return;
            }

            if (status == "DROP")
            {
                break;
            }

            await Task.Delay(_options.RetryDelay, _stopping.Token);
        }

        if (deadLetterTopic is not null)
        {
            JsonObject copy = JsonNode.Parse(body)!.AsObject();
            await RouteAsync(pubsub, deadLetterTopic, copy); // published to the broker: every app listing the topic gets it
        }
    }

    /// <summary>The status of a 2xx answer: SUCCESS when empty or without one; anything unknown is retried.</summary>
    private static string Status(string answer)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            return "SUCCESS";
        }

        try
        {
            JsonNode? node = JsonNode.Parse(answer);
            return node is JsonObject o && o["status"] is JsonValue v && v.TryGetValue(out string? s)
                ? s is "SUCCESS" or "RETRY" or "DROP" ? s : "RETRY"
                : "SUCCESS";
        }
        catch (JsonException)
        {
            return "SUCCESS"; // "ignored if invalid payload"
        }
    }

    /// <summary>The app's programmatic subscriptions for the topic, read strictly from <c>GET /dapr/subscribe</c>.</summary>
    private async Task<List<(string Route, string? DeadLetterTopic)>> SubscriptionsAsync(HttpClient app, string pubsub, string topic)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "dapr/subscribe");
        if (_options.AppApiToken is not null)
        {
            request.Headers.Add("dapr-api-token", _options.AppApiToken);
        }

        using HttpResponseMessage response = await app.SendAsync(request, _stopping.Token);
        string text = await response.Content.ReadAsStringAsync(_stopping.Token);
        if (!response.IsSuccessStatusCode)
        {
            _faults.Enqueue($"GET /dapr/subscribe answered {(int)response.StatusCode}");
            return [];
        }

        var found = new List<(string, string?)>();
        try
        {
            JsonElement list = StrictJson.Parse(Encoding.UTF8.GetBytes(text), "subscriptions");
            StrictJson.Kind(list, JsonValueKind.Array, "subscriptions");
            foreach (JsonElement s in list.EnumerateArray())
            {
                StrictJson.Fields(s, "subscription", SubscriptionFields);
                StrictJson.StringMap(s, "metadata", "subscription");
                string route = StrictJson.OptionalString(s, "route", "subscription")
                    ?? (s.TryGetProperty("routes", out JsonElement routes) ? StrictJson.RequiredString(routes, "default", "subscription.routes") : null)
                    ?? throw new BadRequestException("subscription has neither 'route' nor 'routes.default'");
                if (StrictJson.RequiredString(s, "pubsubname", "subscription") == pubsub && StrictJson.RequiredString(s, "topic", "subscription") == topic)
                {
                    found.Add((route, StrictJson.OptionalString(s, "deadLetterTopic", "subscription")));
                }
            }
        }
        catch (BadRequestException e)
        {
            _faults.Enqueue($"GET /dapr/subscribe: {e.Message}");
            return [];
        }

        return found;
    }
}
