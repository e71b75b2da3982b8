using Atomic.Services.Pipeline;
using Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// The broadcaster's routes: its <c>beef.verified</c> subscription (dead-lettered to <c>beef.verified.dead</c>), that
/// dead letter's subscription, and ARC's callback.
/// </summary>
public static class BroadcasterApi
{
    public const string Route = "/events/broadcaster/beef-verified";

    public const string DeadLetterRoute = "/events/broadcaster/beef-verified-dead";

    /// <summary>Where <c>beef.verified</c> deliveries go when every retry failed: the network was unreachable.</summary>
    public const string DeadLetterTopic = Names.Topics.BeefVerified + ".dead";

    /// <summary>The ARC callback route alone (the <c>atomic-gateway</c> app takes callbacks too when it is the public face).</summary>
    public static IEndpointRouteBuilder MapArcCallbacks(this IEndpointRouteBuilder app)
    {
        app.MapArcCallbackApi();
        return app;
    }

    /// <summary>
    /// The broadcaster's subscriptions; <paramref name="withBeefVerified"/> false when this app's <c>beef.verified</c>
    /// route is shared with the overlay stage (Dapr gives an app one subscription per topic).
    /// </summary>
    public static IEndpointRouteBuilder MapBroadcasterApi(this IEndpointRouteBuilder app, bool withBeefVerified = true)
    {
        if (withBeefVerified)
        {
            app.MapPost(Route, HandleBeefVerifiedAsync)
                .WithTopic(new TopicOptions { PubsubName = Names.PubSub, Name = Names.Topics.BeefVerified, DeadLetterTopic = DeadLetterTopic })
                .WithBulk(Names.Topics.BeefVerified);
        }

        app.MapPost(DeadLetterRoute, HandleDeadLetterAsync).WithTopic(Names.PubSub, DeadLetterTopic);
        return app;
    }

    internal static Task<IResult> HandleBeefVerifiedAsync(HttpRequest request, BroadcastHandler broadcaster, BroadcasterOptions options, CancellationToken cancellationToken) =>
        Deliveries.HandleEachAsync<BeefVerified>(request, Names.Topics.BeefVerified, options.DeliveryAttempts, (verified, activity) => broadcaster.HandleAsync(verified, activity, cancellationToken), cancellationToken);

    internal static Task<Ok<DeliveryAnswer>> HandleDeadLetterAsync(HttpRequest request, BroadcastHandler broadcaster, CancellationToken cancellationToken) =>
        Deliveries.HandleAsync(request, DeadLetterTopic, int.MaxValue, async _ =>
            await broadcaster.HandleUnreachableAsync(await Deliveries.ReadAsync<BeefVerified>(request, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false));
}
