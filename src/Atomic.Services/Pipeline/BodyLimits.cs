using Atomic.Bsv.Primitives;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atomic.Services.Pipeline;

/// <summary>
/// A request the server itself refuses while its body is read (Kestrel's <c>MaxRequestBodySize</c>, a malformed
/// body) answers as problem+json in every environment, never the developer exception page: 413
/// <c>LIMIT_EXCEEDED</c> past a body limit, else the exception's status with <c>REQUEST_INVALID</c>.
/// </summary>
public static class BodyLimits
{
    /// <summary>Adds the middleware; place it before any middleware that reads bodies (CloudEvents) and the routes.</summary>
    public static IApplicationBuilder UseRequestProblems(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e) when (!context.Response.HasStarted)
            {
                context.Response.Clear();
                IResult problem = e.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? Problems.Of(StatusCodes.Status413PayloadTooLarge, ReasonCodes.LimitExceeded, $"the request body exceeds this server's limit ({e.Message})")
                    : Problems.Of(e.StatusCode, Problems.RequestInvalid, $"the request cannot be read: {e.Message}");
                await problem.ExecuteAsync(context).ConfigureAwait(false);
            }
        });
    }
}
