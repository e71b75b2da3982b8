using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.Tests;

/// <summary>The payload the pub/sub tests publish.</summary>
public sealed record Order(string Id, int Quantity);

/// <summary>One call the app received: its path, the CloudEvent envelope as sent (before <c>UseCloudEvents</c> unwrapped it), the data as the route bound it, and the request headers as sent.</summary>
public sealed record Received(string Path, JsonElement? Envelope, Order? Order, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>A string attribute of the envelope.</summary>
    public string? Attribute(string name) =>
        Envelope is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>
/// A real ASP.NET Core subscriber on 127.0.0.1 (a free port) written with the official SDK, <c>Dapr.AspNetCore</c>:
/// <c>UseCloudEvents</c>, <c>MapSubscribeHandler</c> and routes marked <c>WithTopic</c>. It records every call it
/// receives (envelope and headers included), so tests see exactly what the sidecar sent.
/// </summary>
public sealed class SubscriberApp : IAsyncDisposable
{
    private const string EnvelopeKey = "atomic.envelope";
    private const string HeadersKey = "atomic.headers";

    private readonly ConcurrentQueue<Received> _received = new();
    private WebApplication? _app;

    private SubscriberApp()
    {
    }

    /// <summary>The app's base address (what the sidecar's <c>AppAddress</c> is set to).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Every call received, in arrival order (<c>GET /dapr/subscribe</c> included).</summary>
    public IReadOnlyList<Received> Calls => [.. _received];

    /// <summary>Starts the app on <paramref name="port"/> (0: a free one); <paramref name="map"/> maps its routes (before <c>MapSubscribeHandler</c> lists them).</summary>
    public static async Task<SubscriberApp> StartAsync(Action<WebApplication, SubscriberApp> map, bool subscribeHandler = true, int port = 0)
    {
        var subscriber = new SubscriberApp();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        app.Use(async (context, next) =>
        {
            context.Items[HeadersKey] = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.ContentType?.StartsWith("application/cloudevents+json", StringComparison.OrdinalIgnoreCase) == true)
            {
                context.Request.EnableBuffering();
                using JsonDocument envelope = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                context.Items[EnvelopeKey] = envelope.RootElement.Clone();
                context.Request.Body.Position = 0;
            }

            if (HttpMethods.IsGet(context.Request.Method))
            {
                subscriber.Record(context, null);
            }

            await next(context);
        });
        app.UseCloudEvents();
        map(app, subscriber);
        if (subscribeHandler)
        {
            app.MapSubscribeHandler();
        }

        await app.StartAsync();
        subscriber._app = app;
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        subscriber.Address = new Uri(address.TrimEnd('/') + "/");
        return subscriber;
    }

    /// <summary>Records a delivery at the route handling it (call from every mapped route).</summary>
    public void Record(HttpContext context, Order? order)
    {
        ArgumentNullException.ThrowIfNull(context);
        var headers = context.Items.TryGetValue(HeadersKey, out object? h) ? (Dictionary<string, string>)h! : []; // as sent, before UseCloudEvents
        JsonElement? envelope = context.Items.TryGetValue(EnvelopeKey, out object? e) ? (JsonElement)e! : null;
        _received.Enqueue(new Received(context.Request.Path, envelope, order, headers));
    }

    /// <summary>The deliveries received at <paramref name="path"/> so far.</summary>
    public IReadOnlyList<Received> At(string path) => [.. _received.Where(r => r.Path == path)];

    /// <summary>Waits (up to 15 s) until <paramref name="path"/> has received at least <paramref name="count"/> calls, and returns them.</summary>
    public async Task<IReadOnlyList<Received>> WaitForAsync(string path, int count = 1)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            IReadOnlyList<Received> received = At(path);
            if (received.Count >= count)
            {
                return received;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{path} received {received.Count} of {count} calls in 15 s; calls so far: {string.Join(", ", Calls.Select(c => c.Path))}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
