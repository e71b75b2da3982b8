using Atomic.Bsv.Primitives;
using Atomic.DevChain.Chain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Atomic.DevChain.Apis;

/// <summary>
/// Error answers as <c>application/problem+json</c> carrying a reason <c>code</c>. On ARC routes the body also has
/// ARC's error fields (<c>type</c>, <c>title</c>, <c>status</c> and <c>detail</c> as ARC words them, the specific
/// reason in <c>extraInfo</c>, the <c>txid</c>), so ARC clients read it unchanged.
/// </summary>
internal static class Problems
{
    public static ProblemHttpResult Problem(int status, string code, string detail, string? title = null) =>
        TypedResults.Problem(Details(status, code, detail, title));

    public static ProblemDetails Details(int status, string code, string detail, string? title = null)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = title ?? DefaultTitle(status),
            Detail = detail,
        };
        problem.Extensions["code"] = code;
        return problem;
    }

    public static ProblemHttpResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, DevChainCodes.BadRequest, detail);

    public static ProblemHttpResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, DevChainCodes.NotFound, detail);

    /// <summary>An ARC error body for <paramref name="status"/>, the specific reason in <c>extraInfo</c>.</summary>
    public static ProblemDetails Arc(int status, string code, string extraInfo, Hash256? txid = null)
    {
        var problem = new ProblemDetails
        {
            Type = ArcStatus.Type(status),
            Title = ArcStatus.Title(status),
            Status = status,
            Detail = ArcStatus.Detail(status),
        };
        problem.Extensions["txid"] = txid?.ToDisplayHex();
        problem.Extensions["extraInfo"] = extraInfo;
        problem.Extensions["code"] = code;
        return problem;
    }

    /// <summary>The ARC error body for a rejected submission; a double spend also names its <c>txStatus</c> and <c>competingTxs</c>.</summary>
    public static ProblemDetails Arc(SubmitResult result)
    {
        ProblemDetails problem = Arc(result.Status, result.Code!, result.Detail ?? string.Empty, result.TxId);
        if (result.Record is TxRecord record)
        {
            problem.Extensions["txStatus"] = record.Status.ToArc();
        }

        if (result.CompetingTxs.Count > 0)
        {
            problem.Extensions["competingTxs"] = result.CompetingTxs.Select(t => t.ToDisplayHex()).ToArray();
        }

        return problem;
    }

    public static ProblemHttpResult ArcBadRequest(string extraInfo) =>
        TypedResults.Problem(Arc(StatusCodes.Status400BadRequest, DevChainCodes.BadRequest, extraInfo));

    private static string DefaultTitle(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "Bad request",
        StatusCodes.Status401Unauthorized => "Unauthorized",
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status413PayloadTooLarge => "Payload too large",
        StatusCodes.Status503ServiceUnavailable => "Service unavailable",
        _ => "Error",
    };
}
