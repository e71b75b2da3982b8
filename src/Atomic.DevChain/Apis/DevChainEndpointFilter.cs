using System.Security.Cryptography;
using System.Text;
using Atomic.DevChain.Chain;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Atomic.DevChain.Apis;

/// <summary>
/// Guards every dev chain route: the API key when one is configured (<c>Authorization: Bearer &lt;key&gt;</c>, except on
/// routes marked <see cref="IAllowAnonymous"/>), and a 500 problem instead of a dropped connection for a bug.
/// </summary>
internal sealed partial class DevChainEndpointFilter(IOptions<DevChainOptions> options, ILogger<DevChainEndpointFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        HttpContext http = context.HttpContext;
        string? apiKey = options.Value.ApiKey;
        if (!string.IsNullOrEmpty(apiKey) && http.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is null && !HasKey(http.Request, apiKey))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Problem(StatusCodes.Status401Unauthorized, DevChainCodes.Unauthorized, "this route needs Authorization: Bearer <API key>");
        }

        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            LogUnexpected(logger, http.Request.Method, http.Request.Path, e);
            return Problems.Problem(StatusCodes.Status500InternalServerError, DevChainCodes.InternalError, $"the dev chain failed: {e.Message}", "Internal error");
        }
    }

    private static bool HasKey(HttpRequest request, string apiKey)
    {
        string? header = request.Headers.Authorization;
        const string Scheme = "Bearer ";
        if (header is null || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim()), Encoding.UTF8.GetBytes(apiKey));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "dev chain route {Method} {Path} failed")]
    private static partial void LogUnexpected(ILogger logger, string method, string path, Exception exception);
}
