using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Services.Pipeline;

/// <summary>
/// How many submissions one client may make (section <c>Atomic:RateLimits</c>): <see cref="PermitLimit"/> per
/// <see cref="Window"/>, with up to <see cref="QueueLimit"/> more waiting for the next window; off when
/// <see cref="PermitLimit"/> is 0.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "Atomic:RateLimits";

    /// <summary>Submissions one client may make per window; 0 turns the limits off.</summary>
    public int PermitLimit { get; set; }

    /// <summary>The fixed window the permits are counted in.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Submissions past the limit that wait for the next window instead of being refused at once; 0: none wait.</summary>
    public int QueueLimit { get; set; }

    public bool Enabled => PermitLimit > 0;

    /// <summary>What is wrong with these settings, naming the key; null when they can be used.</summary>
    public string? Problem() =>
        PermitLimit < 0 ? $"{Section}:PermitLimit must be 0 (off) or a positive number of submissions per window, got {PermitLimit}"
        : QueueLimit < 0 ? $"{Section}:QueueLimit cannot be negative, got {QueueLimit}"
        : Enabled && Window <= TimeSpan.Zero ? $"{Section}:Window must be positive when {Section}:PermitLimit is set, got {Window}"
        : null;
}

/// <summary>
/// The rate limits of the submission routes (<c>POST /v1/beef</c>, BRC-22 <c>/submit</c>, the session routes), on
/// ASP.NET Core's rate limiter: one fixed window per client, counted across those routes. A refusal answers 429
/// <c>RATE_LIMITED</c> as problem+json with <c>Retry-After</c> in seconds.
/// </summary>
public static class RateLimits
{
    /// <summary>The policy the submission routes require (<c>RequireRateLimiting</c>).</summary>
    public const string Policy = "atomic-submit";

    /// <summary>Registers <see cref="Policy"/>: the limits of <paramref name="options"/>, or no limiter when they are off.</summary>
    public static IServiceCollection AddSubmitRateLimits(this IServiceCollection services, RateLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = OnRejectedAsync;
            limiter.AddPolicy(Policy, context => options.Enabled
                ? RateLimitPartition.GetFixedWindowLimiter(PartitionKey(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.PermitLimit,
                    Window = options.Window,
                    QueueLimit = options.QueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                    AutoReplenishment = true,
                })
                : RateLimitPartition.GetNoLimiter(string.Empty));
        });
        return services;
    }

    /// <summary>
    /// Whose budget a request spends: the identity key's when the request is BRC-104 signed (the server runs the
    /// authentication before the limiter), else the client's address as the connection shows it (behind a proxy, the
    /// proxy's, unless the host applies forwarded headers).
    /// </summary>
    public static string PartitionKey(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name })
        {
            return "identity:" + name;
        }

        return "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        HttpContext context = rejected.HttpContext;
        string detail = "too many submissions from this client: try again later";
        if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter))
        {
            long seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            detail = $"too many submissions from this client: try again in {seconds} s";
        }

        await Problems.Of(StatusCodes.Status429TooManyRequests, Problems.RateLimited, detail).ExecuteAsync(context).ConfigureAwait(false);
    }
}
