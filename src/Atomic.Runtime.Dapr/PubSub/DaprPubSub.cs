using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Runtime.PubSub;

namespace Atomic.Runtime.Dapr.PubSub;

/// <summary>
/// <see cref="IPubSub"/> over the sidecar: publish (<c>/v1.0/publish/{pubsub}/{topic}</c>) and bulk publish
/// (<c>/v1.0-alpha1/publish/bulk/{pubsub}/{topic}</c>) of structured CloudEvents; <see cref="Subscribe"/> adds the
/// subscription to the <see cref="DaprSubscriptionTable"/> the app serves on <c>GET /dapr/subscribe</c>.
/// </summary>
public sealed class DaprPubSub : IPubSub
{
    public const string CloudEventContentType = "application/cloudevents+json";

    private const string PublishUrl = "v1.0/publish/{0}/{1}";
    private const string BulkPublishUrl = "v1.0-alpha1/publish/bulk/{0}/{1}";

    private readonly HttpClient _sidecar;
    private readonly DaprSubscriptionTable _subscriptions;

    public DaprPubSub(HttpClient sidecar, string name, DaprSubscriptionTable subscriptions)
    {
        ArgumentNullException.ThrowIfNull(sidecar);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(subscriptions);
        _sidecar = sidecar;
        Name = name;
        _subscriptions = subscriptions;
    }

    public string Name { get; }

    public async Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        using var content = new ByteArrayContent(CloudEventJson.Serialize(cloudEvent));
        content.Headers.ContentType = new MediaTypeHeaderValue(CloudEventContentType);
        using HttpResponseMessage response = await _sidecar.PostAsync(Url(PublishUrl, cloudEvent.Topic), content, cancellationToken).ConfigureAwait(false);
        await DaprSidecar.EnsureAsync(response, $"publish {Name}/{cloudEvent.Topic}", cancellationToken, HttpStatusCode.NoContent, HttpStatusCode.OK).ConfigureAwait(false);
    }

    /// <summary>
    /// One bulk request per topic, in order. Dapr's bulk publish is not atomic: when the sidecar reports failed
    /// entries, <see cref="DaprBulkPublishException"/> names them (the others were accepted; republishing is safe
    /// because handlers are idempotent).
    /// </summary>
    public async Task PublishBulkAsync(IReadOnlyList<CloudEvent> cloudEvents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cloudEvents);
        foreach (IGrouping<string, CloudEvent> topic in cloudEvents.GroupBy(e => e.Topic, StringComparer.Ordinal))
        {
            List<CloudEvent> events = [.. topic];
            var entries = events.Select((e, i) => new DaprBulkPublishEntry(
                i.ToString(CultureInfo.InvariantCulture),
                JsonSerializer.Deserialize<JsonElement>(CloudEventJson.Serialize(e)),
                CloudEventContentType)).ToList();
            using HttpResponseMessage response = await _sidecar.PostAsJsonAsync(Url(BulkPublishUrl, topic.Key), entries, DaprSidecar.Json, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.OK)
            {
                continue;
            }

            if (response.StatusCode == HttpStatusCode.InternalServerError)
            {
                DaprBulkPublishFailure? failure = null;
                try
                {
                    failure = await response.Content.ReadFromJsonAsync<DaprBulkPublishFailure>(DaprSidecar.Json, cancellationToken).ConfigureAwait(false);
                }
                catch (JsonException)
                {
                    // Not the documented failure shape: reported below as a plain sidecar error.
                }

                if (failure?.FailedEntries is { Count: > 0 } failed)
                {
                    throw new DaprBulkPublishException(Name, topic.Key, failed.Select(f =>
                        (int.TryParse(f.EntryId, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < events.Count ? events[i].Id : f.EntryId, f.Error ?? "failed")).ToList());
                }
            }

            throw await DaprSidecar.FailureAsync(response, $"bulk publish {Name}/{topic.Key}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adds the subscription to the app's table. The sidecar reads <c>GET /dapr/subscribe</c> when the app starts, so
    /// subscribe before the app serves requests; later subscriptions to a topic already listed are served at once. A
    /// consumer whose dead-letter topic is not the one the sidecar was told has its dead letters published here.
    /// </summary>
    public IAsyncDisposable Subscribe(Subscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        if (!string.Equals(subscription.PubSubName, Name, StringComparison.Ordinal))
        {
            throw new ArgumentException($"subscription is for pub/sub '{subscription.PubSubName}', not '{Name}'", nameof(subscription));
        }

        return _subscriptions.Add(subscription, deadLetters: this);
    }

    private string Url(string template, string topic) =>
        string.Format(CultureInfo.InvariantCulture, template, Uri.EscapeDataString(Name), Uri.EscapeDataString(topic));
}

/// <summary>The sidecar accepted only part of a bulk publish: the ids of the events it did not accept, with why.</summary>
public sealed class DaprBulkPublishException(string pubsub, string topic, IReadOnlyList<(string EventId, string Error)> failed)
    : Exception($"Dapr sidecar: bulk publish {pubsub}/{topic}: {failed.Count} event(s) not accepted: {string.Join("; ", failed.Select(f => $"{f.EventId}: {f.Error}"))}")
{
    public IReadOnlyList<(string EventId, string Error)> Failed { get; } = failed;
}
