using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Atomic.Sidecar.Components.PubSub;
using Atomic.Sidecar.PubSub;
using Atomic.Sidecar.Resiliency;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace Atomic.Sidecar.AppChannel;

/// <summary>
/// The sidecar's calls to the app, as daprd makes them: its subscriptions (<c>GET /dapr/subscribe</c> and Subscription
/// resources), and the delivery of every event of those topics to the app's routes, answered SUCCESS, RETRY or DROP.
/// Each delivery waits while the app is unhealthy (<see cref="AppHealth"/>) and runs under the pub/sub's inbound
/// Resiliency policy (its timeout and circuit breaker; its retry is the pub/sub's redelivery).
/// </summary>
public sealed partial class AppChannel : IAsyncDisposable
{

    /// <summary>How long the app has to answer one delivery before it counts as a RETRY, unless an inbound timeout policy says otherwise.</summary>
    public static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long start-up waits for the app to accept connections before it goes on without its subscriptions.</summary>
    public static readonly TimeSpan AppStartTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Redeliveries when no Resiliency resource names an inbound retry policy for the pub/sub.</summary>
    public static readonly RetryPolicy DefaultRetry = new(MaxAttempts: 10, InitialDelay: TimeSpan.FromMilliseconds(100), MaxDelay: TimeSpan.FromSeconds(10));

    private const string ApiTokenHeader = "dapr-api-token";

    /// <summary>How often a delivery held back by an open circuit breaker looks again.</summary>
    private static readonly TimeSpan BreakerPoll = TimeSpan.FromMilliseconds(50);

    private readonly SidecarOptions _options;
    private readonly SidecarComponents _components;
    private readonly ILogger<AppChannel> _logger;
    private readonly SidecarResiliency _resiliency;
    private readonly AppHealth _health;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<IAsyncDisposable> _handles = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, BulkDelivery> _bulks = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private bool _disposed;

    private readonly Tracing.SidecarTracing _tracing;

    public AppChannel(SidecarOptions options, SidecarComponents components, SidecarResiliency resiliency, AppHealth health, Tracing.SidecarTracing tracing, ILogger<AppChannel> logger)
    {
        _tracing = tracing;
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _components = components;
        _resiliency = resiliency;
        _health = health;
        _logger = logger;
        _http = options.CreateAppClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
        }); // no timeout of its own: per call, through a token
    }

    /// <summary>The app's subscriptions, programmatic and declarative, as read at start-up.</summary>
    public IReadOnlyList<SubscriptionInfo> Subscriptions { get; private set; } = [];

    /// <summary>
    /// Reads the app's subscriptions and subscribes to their topics; with no app address there is no app to call and
    /// nothing is subscribed. Fails on a Subscription resource it cannot use or a routing rule it cannot evaluate.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.AppAddress is not Uri app)
        {
            return;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        IReadOnlyList<AppSubscription> declarative = SubscriptionReader.LoadDeclarative(_options.ResourcesDirectory, _options.AppId);
        IReadOnlyList<AppSubscription> programmatic = await ReadProgrammaticAsync(app, linked.Token).ConfigureAwait(false);

        var chosen = new List<AppSubscription>();
        var seen = new HashSet<(string, string)>();
        foreach (AppSubscription subscription in declarative.Concat(programmatic))
        {
            SubscriptionInfo info = subscription.Info;
            if (!seen.Add((info.PubSubName, info.Topic)))
            {
                LogDuplicate(_logger, info.Topic, info.PubSubName, info.Type);
                continue;
            }

            if (!_components.PubSubs.TryGetValue(info.PubSubName, out IPubSub? pubsub))
            {
                LogUnknownPubSub(_logger, info.PubSubName, info.Topic);
                continue;
            }

            chosen.Add(subscription);
            AppSubscription target = subscription;
            IAsyncDisposable handle = pubsub.Subscribe(new Subscription(
                info.PubSubName,
                info.Topic,
                (cloudEvent, stop) => DeliverAsync(app, target, cloudEvent, stop),
                DeadLetterTopic: info.DeadLetterTopic,
                Retry: _resiliency.InboundRedeliveries(info.PubSubName) ?? DefaultRetry,
                Consumer: _options.AppId,
                MaxConcurrency: _options.MaxConcurrentDeliveries));
            bool late;
            lock (_lock)
            {
                late = _disposed;
                _handles.Add(handle);
            }

            if (late)
            {
                break; // disposed while starting: DisposeAsync or the caller stops what was subscribed
            }

            LogSubscribed(_logger, info.Topic, info.PubSubName, info.Route, info.Type);
        }

        Subscriptions = [.. chosen.Select(s => s.Info)];
    }

    /// <summary>Stops every delivery (running ones are cancelled; their events stay kept) and closes the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        IAsyncDisposable[] handles;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            handles = [.. _handles];
            _handles.Clear();
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (IAsyncDisposable handle in handles)
        {
            try
            {
                await handle.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
            {
                LogStopFailed(_logger, e);
            }
        }

        _http.Dispose();
    }

    /// <summary>
    /// <c>GET /dapr/subscribe</c>, retried while the app does not accept connections (up to <see cref="AppStartTimeout"/>).
    /// A 404, an error status or an answer of the wrong shape means no programmatic subscriptions.
    /// </summary>
    private async Task<IReadOnlyList<AppSubscription>> ReadProgrammaticAsync(Uri app, CancellationToken cancellationToken)
    {
        string url = Url(app, "/dapr/subscribe");
        long started = Stopwatch.GetTimestamp();
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            AddToken(request);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(DeliveryTimeout);
            try
            {
                using HttpResponseMessage response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return [];
                }

                byte[] body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    LogSubscribeStatus(_logger, url, (int)response.StatusCode);
                    return [];
                }

                return body.Length == 0 ? [] : SubscriptionReader.ParseProgrammatic(body, _logger);
            }
            catch (HttpRequestException) when (Stopwatch.GetElapsedTime(started) < AppStartTimeout)
            {
                // the app is not listening yet
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                LogAppUnreachable(_logger, url, e.Message);
                return [];
            }
        }
    }

    /// <summary>
    /// One delivery: waits while the app is unhealthy or the pub/sub's inbound circuit breaker is open (the event stays
    /// kept and no attempt is counted), then POSTs the event to its route under the inbound timeout and maps the app's
    /// answer as daprd does. A RETRY, a failure or a timeout counts against the circuit breaker.
    /// </summary>
    private async Task<DeliveryResult> DeliverAsync(Uri app, AppSubscription subscription, CloudEvent cloudEvent, CancellationToken stop)
    {
        string? path = subscription.PathFor(cloudEvent);
        if (path is null)
        {
            LogNoRoute(_logger, cloudEvent.Id, cloudEvent.Topic, cloudEvent.PubSubName);
            return DeliveryResult.Success; // daprd: an event no rule matches is skipped (acknowledged)
        }

        string url = Url(app, path);
        TargetPolicy policy = _resiliency.Inbound(cloudEvent.PubSubName);
        while (true)
        {
            await _health.WaitHealthyAsync(stop).ConfigureAwait(false);
            try
            {
                return subscription.Info.Bulk is { } bulk
                    ? await policy.ExecuteAsync(attempt => SendInBulkAsync(url, path, bulk, cloudEvent, attempt), stop).ConfigureAwait(false)
                    : await policy.ExecuteAsync(attempt => SendAsync(url, cloudEvent, policy.Timeout is null, attempt), stop).ConfigureAwait(false);
            }
            catch (CircuitBrokenException)
            {
                await Task.Delay(BreakerPoll, _options.Time, stop).ConfigureAwait(false);
            }
            catch (AttemptFailedException)
            {
                return DeliveryResult.Retry;
            }
            catch (Exception e) when (!stop.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or TimeoutRejectedException)
            {
                LogDeliveryFailed(_logger, cloudEvent.Id, url, e is TimeoutRejectedException ? $"no answer within {policy.Timeout}" : e.Message);
                return DeliveryResult.Retry;
            }
        }
    }

    /// <summary>One attempt in a bulk request to the route (<see cref="BulkDelivery"/>); a RETRY throws as in <see cref="SendAsync"/>.</summary>
    private async ValueTask<DeliveryResult> SendInBulkAsync(string url, string path, BulkSubscribe bulk, CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        BulkDelivery delivery = _bulks.GetOrAdd(url, u => new BulkDelivery(u, path, bulk, SendToAppAsync, DeliveryTimeout, _logger));
        DeliveryResult result = await delivery.DeliverAsync(cloudEvent, cancellationToken).ConfigureAwait(false);
        return result == DeliveryResult.Retry ? throw new AttemptFailedException(200, result) : result;
    }

    private Task<HttpResponseMessage> SendToAppAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        AddToken(request);
        return _http.SendAsync(request, cancellationToken);
    }

    /// <summary>One attempt: a RETRY answer throws <see cref="AttemptFailedException"/>, so that the circuit breaker counts it.</summary>
    private async ValueTask<DeliveryResult> SendAsync(string url, CloudEvent cloudEvent, bool ownTimeout, CancellationToken cancellationToken)
    {
        (ReadOnlyMemory<byte> body, string contentType) = Publisher.Delivery(cloudEvent);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body) };
        if (!request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType))
        {
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(Publisher.CloudEventsJson);
        }

        request.Headers.TryAddWithoutValidation("pubsubname", cloudEvent.PubSubName);

        // The publisher's trace context (or this delivery's span in it), so the app's span joins the publisher's trace.
        using System.Diagnostics.Activity? span = _tracing.Start($"deliver {cloudEvent.Topic}", System.Diagnostics.ActivityKind.Client, cloudEvent.TraceParent, cloudEvent.TraceState);
        span?.SetTag("messaging.destination.name", cloudEvent.Topic);
        span?.SetTag("messaging.message.id", cloudEvent.Id);
        string? traceParent = span is null ? cloudEvent.TraceParent : Tracing.SidecarTracing.TraceParent(span);
        if (traceParent is not null)
        {
            request.Headers.TryAddWithoutValidation("traceparent", traceParent);
            if ((span?.TraceStateString ?? cloudEvent.TraceState) is string traceState)
            {
                request.Headers.TryAddWithoutValidation("tracestate", traceState);
            }
        }

        AddToken(request);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (ownTimeout)
        {
            timeout.CancelAfter(DeliveryTimeout);
        }

        using HttpResponseMessage response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
        byte[] answer = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
        DeliveryResult result = Outcome(response.StatusCode, answer, url, cloudEvent);
        return result == DeliveryResult.Retry ? throw new AttemptFailedException((int)response.StatusCode, result) : result;
    }

    /// <summary>daprd's reading of the app's answer to a delivery (pubsub API reference, "Expected HTTP Response").</summary>
    private DeliveryResult Outcome(HttpStatusCode status, byte[] answer, string url, CloudEvent cloudEvent)
    {
        int code = (int)status;
        if (code == 404)
        {
            LogNotFound(_logger, cloudEvent.Id, url);
            return DeliveryResult.Drop;
        }

        if (code is < 200 or > 299)
        {
            LogRetryStatus(_logger, cloudEvent.Id, url, code);
            return DeliveryResult.Retry;
        }

        string? answered = null;
        try
        {
            using JsonDocument document = JsonDocument.Parse(answer);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("status", out JsonElement value)
                && value.ValueKind == JsonValueKind.String)
            {
                answered = value.GetString();
            }
        }
        catch (JsonException)
        {
            return DeliveryResult.Success; // a body that is not JSON: daprd skips the status check
        }

        switch (answered?.ToUpperInvariant())
        {
            case null or "" or "SUCCESS":
                return DeliveryResult.Success;
            case "RETRY":
                LogAnswered(_logger, cloudEvent.Id, url, "RETRY");
                return DeliveryResult.Retry;
            case "DROP":
                LogAnswered(_logger, cloudEvent.Id, url, "DROP");
                return DeliveryResult.Drop;
            default:
                LogUnknownStatus(_logger, cloudEvent.Id, url, answered);
                return DeliveryResult.Retry;
        }
    }

    private void AddToken(HttpRequestMessage request)
    {
        if (_options.AppApiToken is { Length: > 0 } token)
        {
            request.Headers.TryAddWithoutValidation(ApiTokenHeader, token);
        }
    }

    private static string Url(Uri app, string path) => app.GetLeftPart(UriPartial.Path).TrimEnd('/') + path;

    [LoggerMessage(Level = LogLevel.Information, Message = "app subscribed to topic {Topic} of pub/sub {PubSub} at {Route} ({Type})")]
    private static partial void LogSubscribed(ILogger logger, string topic, string pubSub, string route, string type);

    [LoggerMessage(Level = LogLevel.Error, Message = "the app's subscription to topic {Topic} names pub/sub {PubSub}, which is not configured; skipped")]
    private static partial void LogUnknownPubSub(ILogger logger, string pubSub, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "a second subscription to topic {Topic} of pub/sub {PubSub} ({Type}) is ignored: the first one stands")]
    private static partial void LogDuplicate(ILogger logger, string topic, string pubSub, string type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Url} answered {Status}; starting with no programmatic subscriptions")]
    private static partial void LogSubscribeStatus(ILogger logger, string url, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the app did not answer {Url} ({Reason}); starting with no programmatic subscriptions")]
    private static partial void LogAppUnreachable(ILogger logger, string url, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "event {Id} of topic {Topic} in pub/sub {PubSub} matches no route; skipped")]
    private static partial void LogNoRoute(ILogger logger, string id, string topic, string pubSub);

    [LoggerMessage(Level = LogLevel.Warning, Message = "delivery of event {Id} to {Url} failed ({Reason}); it will be retried")]
    private static partial void LogDeliveryFailed(ILogger logger, string id, string url, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "non-retriable error returned from app while processing pub/sub event {Id}: {Url} answered 404; the event is dropped")]
    private static partial void LogNotFound(ILogger logger, string id, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "delivery of event {Id} to {Url} answered {Status}; it will be retried")]
    private static partial void LogRetryStatus(ILogger logger, string id, string url, int status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "the app answered {Status} for event {Id} at {Url}")]
    private static partial void LogAnswered(ILogger logger, string id, string url, string status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the app answered the unknown status '{Status}' for event {Id} at {Url}; it will be retried")]
    private static partial void LogUnknownStatus(ILogger logger, string id, string url, string? status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "stopping a subscription failed")]
    private static partial void LogStopFailed(ILogger logger, Exception exception);
}
