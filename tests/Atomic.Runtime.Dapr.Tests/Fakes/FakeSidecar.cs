using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Runtime.Dapr.Tests.Fakes;

/// <summary>What the fake sidecar serves and how it behaves.</summary>
public sealed record FakeSidecarOptions
{
    public IReadOnlyCollection<string> StateStores { get; init; } = ["statestore"];

    public IReadOnlyCollection<string> PubSubs { get; init; } = ["pubsub"];

    /// <summary>When set, every API call must carry it as <c>dapr-api-token</c> (daprd's <c>DAPR_API_TOKEN</c>).</summary>
    public string? ApiToken { get; init; }

    /// <summary>When set, sent as <c>dapr-api-token</c> on every call to the app (daprd's <c>APP_API_TOKEN</c>).</summary>
    public string? AppApiToken { get; init; }

    /// <summary>The app's base address; without one nothing is delivered.</summary>
    public Uri? App { get; init; }

    /// <summary>The clock TTLs are measured by.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The resiliency policy's delivery attempts before an event is dead-lettered.</summary>
    public int MaxDeliveryAttempts { get; init; } = 10;

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>State stores with an outbox: store name → (<c>outboxPublishPubsub</c>, <c>outboxPublishTopic</c>).</summary>
    public IReadOnlyDictionary<string, (string PubSub, string Topic)> Outboxes { get; init; } = new Dictionary<string, (string, string)>();

    /// <summary>The app id: the first part of every actor state key.</summary>
    public string AppId { get; init; } = "app";

    /// <summary>The state store daprd keeps actor state in (<c>actorStateStore: "true"</c>).</summary>
    public string ActorStateStore { get; init; } = "statestore";

    /// <summary>Makes the broker refuse an event (by its CloudEvent id) with the returned error, for bulk-publish failures.</summary>
    public Func<string, string?>? RefuseEvent { get; init; }
}

/// <summary>One API call the fake answered.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string? ContentType, string? Token, string? IfMatch, string Body, int Status)
{
    /// <summary>The request's headers, names lowercased (the last value of each).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>One delivery attempt to the app.</summary>
public sealed record RecordedDelivery(string Route, string Topic, string EventId, int Attempt, int Status, string? Token, string Answer);

/// <summary>
/// A stand-in for daprd (no daprd binary can run here): Kestrel on 127.0.0.1, HTTP/1.1, implementing the documented
/// state and publish endpoints strictly (unknown paths 404, wrong verbs 405, a missing or wrong token 401, a body or
/// query of the wrong shape 400), keeping state with ETags and TTLs in memory, applying transactions atomically with
/// the state-store outbox, delivering to the app's routes as read from its <c>GET /dapr/subscribe</c> with
/// retries, DROP and dead-letter topics, and forwarding service invocation to the apps registered by id. Every call and
/// every delivery is recorded for tests to assert on.
/// </summary>
/// <remarks>
/// Unlike daprd, it reads the app's subscription list at every publish (daprd reads it once at start-up), so the
/// conformance suite's per-test subscriptions are seen; and it rejects unknown JSON fields, where daprd may ignore them.
/// </remarks>
public sealed partial class FakeSidecar : IAsyncDisposable
{
    private readonly FakeSidecarOptions _options;
    private readonly WebApplication _host;
    private readonly Lock _appsLock = new();
    private readonly List<HttpClient> _apps = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<RecordedDelivery> _deliveries = new();
    private readonly ConcurrentQueue<string> _faults = new();
    private int _inFlight;

    private FakeSidecar(FakeSidecarOptions options, WebApplication host)
    {
        _options = options;
        _host = host;
        if (options.App is not null)
        {
            _apps.Add(new HttpClient { BaseAddress = options.App });
        }
    }

    public Uri Address { get; private set; } = null!;

    public FakeSidecarOptions Options => _options;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public IReadOnlyList<RecordedDelivery> Deliveries => [.. _deliveries];

    /// <summary>What the fake found wrong in the app's answers (a subscription list of the wrong shape).</summary>
    public IReadOnlyList<string> Faults => [.. _faults];

    public static async Task<FakeSidecar> StartAsync(FakeSidecarOptions options)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        ListenOptions? grpc = null;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, 0, l => (grpc = l).Protocols = HttpProtocols.Http2); // h2c: prior knowledge only
        });
        builder.Logging.ClearProviders();
        WebApplication host = builder.Build();
        var sidecar = new FakeSidecar(options, host);
        host.Use(sidecar.RecordAndAuthenticateAsync);
        sidecar.MapState(host);
        sidecar.MapPublish(host);
        sidecar.MapActors(host);
        sidecar.MapWorkflows(host);
        sidecar.MapInvoke(host);
        host.MapGet("/v1.0/healthz", () => Results.NoContent());
        host.MapGet("/v1.0/healthz/outbound", () => Results.NoContent()); // health_api.md: 204 once the components are ready
        await host.StartAsync();
        int grpcPort = grpc!.IPEndPoint!.Port;
        sidecar.GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}/");
        sidecar.Address = new Uri(host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => new Uri(a).Port != grpcPort) + "/");
        return sidecar;
    }

    /// <summary>
    /// Adds an app whose subscriptions (<c>GET /dapr/subscribe</c>) get deliveries, beside <see cref="FakeSidecarOptions.App"/>:
    /// one fake standing in for the sidecars of several apps sharing a pub/sub component (a split deployment). Each app
    /// gets every event of the topics it lists, as each app id's subscription does in Dapr. With
    /// <paramref name="appId"/>, it can also be invoked by it (<see cref="AddService"/>).
    /// </summary>
    public void AddApp(Uri app, string? appId = null)
    {
        lock (_appsLock)
        {
            _apps.Add(new HttpClient { BaseAddress = app });
        }

        if (appId is not null)
        {
            AddService(appId, app);
        }
    }

    private HttpClient[] Apps
    {
        get
        {
            lock (_appsLock)
            {
                return [.. _apps];
            }
        }
    }

    /// <summary>Completes once no delivery is in flight.</summary>
    public async Task WhenDeliveriesSettledAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        while (Volatile.Read(ref _inFlight) > 0)
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _workItems.Writer.TryComplete();
        StopActors();
        await WhenDeliveriesSettledAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        await _host.StopAsync();
        await _host.DisposeAsync();
        foreach (HttpClient app in Apps.Concat(_services.Values))
        {
            app.Dispose();
        }
        _stopping.Dispose();
    }

    private async Task RecordAndAuthenticateAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.Path.StartsWithSegments(GrpcService))
        {
            await next(context); // gRPC checks its own headers and token, and answers in trailers
            return;
        }

        context.Request.EnableBuffering();
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8, leaveOpen: true);
        string body = await reader.ReadToEndAsync(context.RequestAborted);
        context.Request.Body.Position = 0;
        string? token = context.Request.Headers["dapr-api-token"];
        if (_options.ApiToken is not null && token != _options.ApiToken)
        {
            await ErrorAsync(context, StatusCodes.Status401Unauthorized, "ERR_API_TOKEN", "invalid api token");
        }
        else
        {
            try
            {
                await next(context);
            }
            catch (BadRequestException e)
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, "ERR_MALFORMED_REQUEST", e.Message);
            }
            catch (WorkflowError e)
            {
                await ErrorAsync(context, e.Status, e.ErrorCode, e.Message);
            }
        }

        _requests.Enqueue(new RecordedRequest(
            context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "", context.Request.ContentType,
            token, context.Request.Headers.IfMatch.FirstOrDefault(), body, context.Response.StatusCode)
        {
            Headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
        });
    }

    private static async Task ErrorAsync(HttpContext context, int status, string errorCode, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["errorCode"] = errorCode, ["message"] = message }));
    }

    private static async Task<byte[]> BodyAsync(HttpContext context, string contentType)
    {
        string? given = context.Request.ContentType;
        if (given is null || !given.StartsWith(contentType, StringComparison.OrdinalIgnoreCase))
        {
            throw new BadRequestException($"content type '{given}' is not {contentType}");
        }

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        return buffer.ToArray();
    }

    /// <summary>Only <c>metadata.*</c> and the named parameters are defined on each endpoint.</summary>
    private static void QueryAllows(HttpContext context, params string[] allowed)
    {
        foreach (string name in context.Request.Query.Keys)
        {
            if (!name.StartsWith("metadata.", StringComparison.Ordinal) && Array.IndexOf(allowed, name) < 0)
            {
                throw new BadRequestException($"query parameter '{name}' is not defined here");
            }
        }
    }

    /// <summary>Route values keep <c>%2F</c> encoded; a key or topic may contain <c>/</c>.</summary>
    private static string Segment(HttpContext context, string name) =>
        ((string)context.Request.RouteValues[name]!).Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
}
