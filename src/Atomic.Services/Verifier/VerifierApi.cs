using Atomic.Services.Pipeline;
using Dapr;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Atomic.Services.Verifier;

/// <summary>The verifier's subscription: <c>beef.submitted</c>, dead-lettered to <c>beef.submitted.dead</c>.</summary>
public static class VerifierApi
{
    public const string Route = "/events/beef-submitted";

    public const string DeadLetterTopic = Names.Topics.BeefSubmitted + ".dead";

    /// <summary>Failed attempts of one event before it is dead-lettered.</summary>
    public const int MaxAttempts = 5;

    public static IEndpointRouteBuilder MapVerifierApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Route, HandleBeefSubmittedAsync)
            .WithTopic(new TopicOptions { PubsubName = Names.PubSub, Name = Names.Topics.BeefSubmitted, DeadLetterTopic = DeadLetterTopic })
            .WithBulk(Names.Topics.BeefSubmitted);
        return app;
    }

    internal static Task<IResult> HandleBeefSubmittedAsync(HttpRequest request, VerifierHandler verifier, CancellationToken cancellationToken) =>
        Deliveries.HandleEachAsync<BeefSubmitted>(request, Names.Topics.BeefSubmitted, MaxAttempts, (submitted, activity) => verifier.HandleAsync(submitted, activity, cancellationToken), cancellationToken);
}
