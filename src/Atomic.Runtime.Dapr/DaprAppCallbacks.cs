using System.Security.Cryptography;
using System.Text;
using Atomic.Runtime.Dapr.PubSub;
using Atomic.Runtime.PubSub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Atomic.Runtime.Dapr;

/// <summary>
/// Every route the Dapr sidecar calls on the app for pub/sub (Dapr's pub/sub API reference, "Optional Application
/// Routes"): <c>GET /dapr/subscribe</c> and <c>POST /dapr/pubsub/{pubsub}/{topic}</c>. Each checks
/// <c>dapr-api-token</c> against <c>APP_API_TOKEN</c> when that is set.
/// </summary>
public static class DaprAppCallbacks
{
    /// <summary>Maps the subscription list and the delivery route over the registered <see cref="DaprSubscriptionTable"/>.</summary>
    public static RouteGroupBuilder MapDaprPubSub(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        RouteGroupBuilder dapr = app.MapGroup("/dapr").ExcludeFromDescription();
        dapr.MapGet("/subscribe", GetSubscriptions);
        dapr.MapPost("/pubsub/{pubsub}/{topic}", PostDeliveryAsync);
        return dapr;
    }

    public static Results<Ok<IReadOnlyList<DaprSubscriptionEntry>>, UnauthorizedHttpResult> GetSubscriptions([AsParameters] DaprCallbackServices services)
    {
        if (!services.IsFromSidecar())
        {
            return TypedResults.Unauthorized();
        }

        return TypedResults.Ok(services.Subscriptions.Entries());
    }

    /// <summary>
    /// One delivery: SUCCESS, RETRY or DROP from the handlers (DROP also for an envelope that can never be read, so
    /// the sidecar dead-letters it rather than retrying it forever).
    /// </summary>
    public static async Task<Results<Ok<DaprDeliveryAnswer>, UnauthorizedHttpResult>> PostDeliveryAsync(string pubsub, string topic, [AsParameters] DaprCallbackServices services)
    {
        if (!services.IsFromSidecar())
        {
            return TypedResults.Unauthorized();
        }

        HttpContext http = services.Http;
        byte[]? body = await ReadBoundedAsync(http.Request, CloudEventJson.MaxEnvelopeBytes, http.RequestAborted);
        if (body is null)
        {
            services.Logger.LogWarning("Dapr delivery to {PubSub}/{Topic} exceeds {Limit} bytes: dropped", pubsub, topic, CloudEventJson.MaxEnvelopeBytes);
            return TypedResults.Ok(DaprDeliveryAnswer.Drop);
        }

        CloudEvent cloudEvent;
        try
        {
            cloudEvent = CloudEventJson.Parse(body);
        }
        catch (FormatException e)
        {
            services.Logger.LogWarning("Dapr delivery to {PubSub}/{Topic} is not a CloudEvent: {Reason}: dropped", pubsub, topic, e.Message);
            return TypedResults.Ok(DaprDeliveryAnswer.Drop);
        }

        DeliveryResult result = await services.Subscriptions.DeliverAsync(Unescape(pubsub), Unescape(topic), cloudEvent, http.RequestAborted);
        return TypedResults.Ok(result switch
        {
            DeliveryResult.Success => DaprDeliveryAnswer.Success,
            DeliveryResult.Drop => DaprDeliveryAnswer.Drop,
            _ => DaprDeliveryAnswer.Retry,
        });
    }

    /// <summary>Route values are decoded except <c>%2F</c>, which <see cref="DaprSubscriptionTable.RouteFor"/> produces for a <c>/</c> in a name.</summary>
    private static string Unescape(string segment) => segment.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    /// <summary>The body, or null when it is longer than <paramref name="limit"/>.</summary>
    internal static async Task<byte[]?> ReadBoundedAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}

/// <summary>What the callback routes need, bundled.</summary>
public sealed class DaprCallbackServices
{
    public required HttpContext Http { get; init; }

    public required DaprSubscriptionTable Subscriptions { get; init; }

    public required DaprOptions Options { get; init; }

    public required ILogger<DaprSubscriptionTable> Logger { get; init; }

    /// <summary>True when no <c>APP_API_TOKEN</c> is set, or the request carries it as <c>dapr-api-token</c> (compared in constant time).</summary>
    public bool IsFromSidecar() => Carries(Options, Http.Request);

    /// <summary>The check of every callback, pub/sub and actors alike.</summary>
    internal static bool Carries(DaprOptions options, HttpRequest request)
    {
        if (options.AppApiToken is null)
        {
            return true;
        }

        string? given = request.Headers[DaprOptions.TokenHeader];
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(options.AppApiToken));
    }
}
