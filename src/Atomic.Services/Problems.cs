using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Atomic.Services;

/// <summary>Errors as <c>application/problem+json</c> carrying a reason code from ARCHITECTURE.md in <c>code</c>.</summary>
public static class Problems
{
    /// <summary>Added codes: a request the service cannot read as asked (headers, content type, route values).</summary>
    public const string RequestInvalid = "REQUEST_INVALID";

    /// <summary>Added code: the thing asked for does not exist.</summary>
    public const string NotFound = "NOT_FOUND";

    /// <summary>Added code: a topic that no topic manager here serves.</summary>
    public const string TopicUnknown = "TOPIC_UNKNOWN";

    /// <summary>Added code: the caller did not present the credential the route requires.</summary>
    public const string Unauthorized = "UNAUTHORIZED";

    public static ProblemHttpResult Of(int status, string code, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: code, extensions: new Dictionary<string, object?> { ["code"] = code });
}
