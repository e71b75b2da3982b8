using Atomic.Overlay.Baskets;
using Atomic.Services.Contracts;
using Atomic.Services.Identity;
using Atomic.Services.Operations;
using Atomic.Services.Pipeline;
using Dapr.Actors;
using Dapr.Actors.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Baskets;

/// <summary>BRC-46 baskets under <c>/v1/baskets/{basket}</c>, each answered by its <c>BasketManager</c> actor.</summary>
public static class BasketsApi
{
    public static RouteGroupBuilder MapBasketsApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder baskets = app.MapGroup("/v1/baskets/{basket}");
        baskets.MapGet("/outputs", ListBasketOutputsAsync);
        RouteHandlerBuilder operations = baskets.MapPost("/operations", ApplyBasketOperationsAsync);
        RouteHandlerBuilder relinquish = baskets.MapDelete("/outputs/{outpoint}", RelinquishBasketOutputAsync);
        // The changes to a basket answer only BRC-103/104 signed requests when configured (docs/architecture.md, "Mutual authentication").
        app.RequireBsvAuthWhen(BsvAuthExtensions.RequireForBasketsKey, BsvAuthExtensions.BasketsPolicyKey, operations, relinquish);

        return baskets;
    }

    /// <summary><c>GET /v1/baskets/{basket}/outputs?tags=a,b&amp;tagQueryMode=any|all&amp;includeSpent=false&amp;includeReserved=false&amp;limit=&amp;offset=</c>.</summary>
    internal static async Task<Results<Ok<ListResult>, ProblemHttpResult>> ListBasketOutputsAsync(
        string basket, string? tags, string? tagQueryMode, string? includeSpent, string? includeReserved, string? limit, string? offset,
        [AsParameters] BasketsApiServices services, CancellationToken cancellationToken)
    {
        if (Basket(basket, out string name) is ProblemHttpResult badBasket)
        {
            return badBasket;
        }

        var tagList = new List<string>();
        foreach (string tag in (tags ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                tagList.Add(BasketNames.NormalizeTag(tag));
            }
            catch (ArgumentException e)
            {
                return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, $"tags: {e.Message}");
            }
        }

        if (tagList.Count > BasketWire.MaxTags)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, $"at most {BasketWire.MaxTags} tags");
        }

        string mode = tagQueryMode?.Trim().ToLowerInvariant() ?? "any";
        if (mode is not ("any" or "all"))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "tagQueryMode is any or all");
        }

        bool spent = false;
        if (includeSpent is not null && !bool.TryParse(includeSpent, out spent))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "includeSpent is true or false");
        }

        bool reserved = false;
        if (includeReserved is not null && !bool.TryParse(includeReserved, out reserved))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "includeReserved is true or false");
        }

        int max = services.Options.Value.MaxResults;
        int? take = null;
        if (limit is not null)
        {
            if (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int l) || l < 1 || l > max)
            {
                return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, $"limit is 1 to {max}");
            }

            take = l;
        }

        int skip = 0;
        if (offset is not null && !int.TryParse(offset, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out skip))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "offset is a number of outputs to skip, 0 or more");
        }

        try
        {
            return TypedResults.Ok(await Manager(services, name).List(new ListRequest(tagList, mode, spent, take, skip, reserved)).ConfigureAwait(false));
        }
        catch (Exception e) when (Actors.IsCallFailure(e))
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, Problems.ServiceUnavailable, $"basket {name} did not answer: {Actors.ErrorMessage(e)}");
        }
    }

    /// <summary>
    /// <c>POST /v1/baskets/{basket}/operations</c> <c>{operations: [...], idempotencyKey?}</c>: every operation applies,
    /// or none does (409 with <c>BASKET_OPERATION_REJECTED</c>).
    /// </summary>
    internal static async Task<Results<Ok<ApplyResult>, ProblemHttpResult>> ApplyBasketOperationsAsync(
        string basket, HttpRequest request, [AsParameters] BasketsApiServices services, CancellationToken cancellationToken)
    {
        if (Basket(basket, out string name) is ProblemHttpResult badBasket)
        {
            return badBasket;
        }

        (ApplyRequest? batch, ProblemHttpResult? problem) = await Requests.ReadJsonAsync<ApplyRequest>(request, services.Options.Value, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            _ = BasketWire.ToOperations(batch!.Operations, services.Options.Value.MaxBasketOperations);
            if (batch.IdempotencyKey is not null)
            {
                _ = BasketManagerActor.CheckKey(batch.IdempotencyKey);
            }
        }
        catch (BasketOperationException e)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, e.Message);
        }

        try
        {
            ApplyResult applied = await Manager(services, name).Apply(batch).ConfigureAwait(false);
            if (applied.Applied && services.Audit is { } audit)
            {
                string? identity = services.Context.User.FindFirst(BsvAuthDefaults.IdentityKeyClaim)?.Value;
                foreach (BasketOperationRequest operation in batch.Operations!)
                {
                    audit.Append($"basket.{operation.Op}", $"{name}/{operation.Outpoint}", batch.IdempotencyKey ?? "", identity);
                }
            }

            return TypedResults.Ok(applied);
        }
        catch (Exception e) when (Actors.ErrorType(e) == typeof(BasketOperationException).FullName)
        {
            return Problems.Of(StatusCodes.Status409Conflict, Problems.BasketOperationRejected, $"nothing was applied: {Actors.ErrorMessage(e)}");
        }
        catch (Exception e) when (Actors.IsCallFailure(e))
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, Problems.ServiceUnavailable, $"basket {name} did not answer: {Actors.ErrorMessage(e)}");
        }
    }

    /// <summary><c>DELETE /v1/baskets/{basket}/outputs/{txid.vout}</c>: stop tracking the output (BRC-100 <c>relinquishOutput</c>).</summary>
    internal static async Task<Results<NoContent, ProblemHttpResult>> RelinquishBasketOutputAsync(
        string basket, string outpoint, [AsParameters] BasketsApiServices services, CancellationToken cancellationToken)
    {
        if (Basket(basket, out string name) is ProblemHttpResult badBasket)
        {
            return badBasket;
        }

        if (!Outpoints.TryParse(outpoint, out _, out string normalized))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "an outpoint is txid.vout: 64 hex characters, a dot, the output index");
        }

        RelinquishResult result;
        try
        {
            result = await Manager(services, name).Relinquish(new RelinquishRequest(normalized)).ConfigureAwait(false);
        }
        catch (Exception e) when (Actors.IsCallFailure(e))
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, Problems.ServiceUnavailable, $"basket {name} did not answer: {Actors.ErrorMessage(e)}");
        }

        if (result.Relinquished)
        {
            services.Audit?.Append("basket.relinquish", $"{name}/{normalized}", "", services.Context.User.FindFirst(BsvAuthDefaults.IdentityKeyClaim)?.Value);
        }

        return result.Relinquished
            ? TypedResults.NoContent()
            : Problems.Of(StatusCodes.Status404NotFound, Problems.NotFound, $"basket {name} holds no output {normalized}");
    }

    /// <summary>The normalized basket name of a route value, or the problem saying what is wrong with it.</summary>
    private static ProblemHttpResult? Basket(string basket, out string name)
    {
        try
        {
            name = BasketNames.Normalize(basket);
            return null;
        }
        catch (ArgumentException e)
        {
            name = string.Empty;
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, e.Message);
        }
    }

    private static IBasketManager Manager(BasketsApiServices services, string name) =>
        services.Actors.CreateActorProxy<IBasketManager>(new ActorId(name), IBasketManager.TypeName);
}

/// <summary>What the basket routes need.</summary>
public sealed class BasketsApiServices(
    [FromServices] IActorProxyFactory actors, [FromServices] IOptions<OverlayOptions> options, HttpContext context, [FromServices] AuditLog? audit = null)
{
    public HttpContext Context { get; } = context;

    /// <summary>Where applied operations are recorded (<c>basket.{op}</c>), when this process keeps the audit log.</summary>
    public AuditLog? Audit { get; } = audit;

    public IActorProxyFactory Actors { get; } = actors;

    public IOptions<OverlayOptions> Options { get; } = options;
}
