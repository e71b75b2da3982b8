using System.Text.Json.Serialization;
using Atomic.Services.Identity;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Atomic.Services.Operations;

/// <summary><c>POST /v1/check</c>: runs the consistency check now and answers its report.</summary>
public static class ConsistencyApi
{
    public const string Route = "/v1/check";

    public static IEndpointRouteBuilder MapConsistencyApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.RequireBsvAuthWhen(BsvAuthExtensions.RequireForOperationsKey, BsvAuthExtensions.OperationsPolicyKey, app.MapPost(Route, CheckAsync));
        return app;
    }

    /// <summary>200 with the report, consistent or not; an optional body <c>{"txids": [...]}</c> adds records to look at.</summary>
    public static async Task<Results<Ok<ConsistencyReport>, ProblemHttpResult>> CheckAsync(
        ConsistencyChecker checker, HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checker);
        ArgumentNullException.ThrowIfNull(request);
        CheckRequest? body = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            if (!request.HasJsonContentType())
            {
                return TypedResults.Problem("the body, when there is one, must be application/json: {\"txids\": [...]}", statusCode: StatusCodes.Status400BadRequest,
                    extensions: new Dictionary<string, object?> { ["code"] = Problems.RequestInvalid });
            }

            try
            {
                body = await request.ReadFromJsonAsync<CheckRequest>(cancellationToken).ConfigureAwait(false);
            }
            catch (System.Text.Json.JsonException e)
            {
                return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest, extensions: new Dictionary<string, object?> { ["code"] = Problems.RequestInvalid });
            }
        }

        if (body?.TxIds?.FirstOrDefault(t => !Outpoints.IsTxId(t)) is string bad)
        {
            return TypedResults.Problem($"'{bad}' is not a txid", statusCode: StatusCodes.Status400BadRequest, extensions: new Dictionary<string, object?> { ["code"] = Problems.RequestInvalid });
        }

        return TypedResults.Ok(await checker.CheckAsync(body?.TxIds, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The optional body of <c>POST /v1/check</c>.</summary>
    public sealed record CheckRequest([property: JsonPropertyName("txids")] IReadOnlyList<string>? TxIds);
}
