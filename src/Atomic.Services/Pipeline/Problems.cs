using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Atomic.Services.Pipeline;

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

    /// <summary>Added code: a BRC-24 lookup service that this deployment does not serve.</summary>
    public const string LookupServiceUnknown = "LOOKUP_SERVICE_UNKNOWN";

    /// <summary>Added code: a lookup query that its service cannot read.</summary>
    public const string LookupQueryInvalid = "LOOKUP_QUERY_INVALID";

    /// <summary>Added code: a basket batch that cannot apply as a whole (nothing of it was applied).</summary>
    public const string BasketOperationRejected = "BASKET_OPERATION_REJECTED";

    /// <summary>Added code: a dependency (chain tracker, actor runtime) did not answer; the same request may succeed later.</summary>
    public const string ServiceUnavailable = "SERVICE_UNAVAILABLE";

    /// <summary>Added code: the client made more requests than its rate limit allows (<c>Retry-After</c> says when to try again).</summary>
    public const string RateLimited = "RATE_LIMITED";

    public static ProblemHttpResult Of(int status, string code, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: code, extensions: new Dictionary<string, object?> { ["code"] = code });
}
