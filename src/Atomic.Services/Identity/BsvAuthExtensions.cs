using Atomic.Bsv.Primitives.Keys;
using Atomic.Identity.Auth;
using Atomic.Identity.Wallet;
using Dapr.Client;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Identity;

/// <summary>Registration of BRC-103/104 mutual authentication: <c>AddBsvAuth</c>, <c>UseBsvAuth</c>, <c>RequireBsvAuth</c>.</summary>
public static partial class BsvAuthExtensions
{
    /// <summary>
    /// "Atomic:Auth:RequireForBaskets" (default false): when true, a basket's operations and relinquish routes answer
    /// only signed requests, and the server registers <c>AddBsvAuth</c> and <c>UseBsvAuth</c>.
    /// </summary>
    public const string RequireForBasketsKey = "Atomic:Auth:RequireForBaskets";

    /// <summary>
    /// "Atomic:Auth:BasketsPolicy" (default none): with <see cref="RequireForBasketsKey"/>, the authorization policy
    /// (e.g. a certificate policy of <c>Atomic:Identity:Trust:Policies</c>, "basket-writer") those routes also require.
    /// </summary>
    public const string BasketsPolicyKey = "Atomic:Auth:BasketsPolicy";

    /// <summary>
    /// "Atomic:Auth:CertifierPolicy" (default none): the authorization policy a caller of the certifier's
    /// <c>POST /v1/certifier/signCertificate</c> must also meet (e.g. an onboarding certificate from another
    /// organisation's certifier); revocation stays open to the certificate's subject and the certifier's admins.
    /// </summary>
    public const string CertifierPolicyKey = "Atomic:Auth:CertifierPolicy";

    /// <summary>
    /// The server's identity (<see cref="BsvAuthOptions"/>, section <c>Atomic:Identity</c>), its sessions, and the
    /// "BsvAuth" authentication scheme (the default scheme unless another was chosen), with authorization.
    /// </summary>
    public static IServiceCollection AddBsvAuth(this IServiceCollection services, Action<BsvAuthOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<BsvAuthOptions> options = services.AddOptions<BsvAuthOptions>().BindConfiguration(BsvAuthOptions.Section);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options
            .Validate(o => o.SessionLifetime > TimeSpan.Zero, $"{BsvAuthOptions.Section}:SessionLifetime must be positive")
            .Validate(o => o.MaxSessions > 0, $"{BsvAuthOptions.Section}:MaxSessions must be positive")
            .Validate<IHostEnvironment>(
                (o, env) => BsvAuthOptions.ParseKey(o.ServerPrivateKey) is not null
                    || (string.IsNullOrWhiteSpace(o.ServerPrivateKey) && env.IsDevelopment()),
                $"{BsvAuthOptions.Section}:ServerPrivateKey must be a private key in hex (64 digits) or WIF "
                    + "(only Development may leave it out)")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            BsvAuthOptions o = sp.GetRequiredService<IOptions<BsvAuthOptions>>().Value;
            PrivateKey? key = BsvAuthOptions.ParseKey(o.ServerPrivateKey);
            if (key is null)
            {
                key = PrivateKey.Random();
                LogRandomKey(sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BsvAuthExtensions)), key.PublicKey.ToHex());
            }

            var sessions = new AuthSessionManager(
                o.SessionLifetime, sp.GetRequiredService<TimeProvider>(), AuthSessionManager.DefaultMaxNoncesPerSession, o.MaxSessions);
            return new AuthServer(new ProtoWallet(key), sessions);
        });
        services.TryAddSingleton<BsvAuthVerifier>();
        services.AddOptions<BsvTrustOptions>().BindConfiguration(BsvTrustOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BsvTrustOptions>, BsvTrustOptionsValidator>());
        services.TryAddSingleton<CertificateRevocations>();

        // Revocations (and the certifier's issued certificates) in statestore when the host talks to Dapr, read back at start.
        services.TryAddSingleton<ICertificateStore>(sp =>
            sp.GetService<DaprClient>() is { } dapr ? new CertificateLedger(dapr) : new MemoryCertificateStore());
        services.AddHostedService<CertificateRevocationsLoader>();
        services.TryAddSingleton<BsvTrust>();
        services.TryAddSingleton<CertificateRevoker>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Topics.ITopicAdmissionObserver, RevocationMonitor>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, BsvCertificateRequirementHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<AuthorizationOptions>, BsvCertificatePolicies>());
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, BsvCertificateResultHandler>();
        services.AddAuthentication(a => a.DefaultScheme ??= BsvAuthDefaults.Scheme)
            .AddScheme<AuthenticationSchemeOptions, BsvAuthenticationHandler>(BsvAuthDefaults.Scheme, null);
        services.AddAuthorization();
        return services;
    }

    /// <summary>Serves the handshake and signs the answers to signed requests; put it before the endpoints.</summary>
    public static IApplicationBuilder UseBsvAuth(this IApplicationBuilder app) => app.UseMiddleware<BsvAuthMiddleware>();

    /// <summary>"Atomic:Auth:RequireForSubmit" (default false): <c>POST /v1/beef</c> and BRC-22 <c>POST /submit</c> answer only BRC-104 signed requests.</summary>
    public const string RequireForSubmitKey = "Atomic:Auth:RequireForSubmit";

    /// <summary>"Atomic:Auth:SubmitPolicy": with <see cref="RequireForSubmitKey"/>, the authorization policy the submission routes also require.</summary>
    public const string SubmitPolicyKey = "Atomic:Auth:SubmitPolicy";

    /// <summary>
    /// "Atomic:Auth:RequireForOperations" (default false): the operations endpoints (<c>GET /v1/status</c>,
    /// <c>GET /dashboard</c>, <c>POST /v1/check</c>, <c>GET</c>/<c>POST /v1/funding</c>) answer only BRC-104 signed requests.
    /// </summary>
    public const string RequireForOperationsKey = "Atomic:Auth:RequireForOperations";

    /// <summary>"Atomic:Auth:OperationsPolicy": with <see cref="RequireForOperationsKey"/>, the authorization policy the operations endpoints also require.</summary>
    public const string OperationsPolicyKey = "Atomic:Auth:OperationsPolicy";

    /// <summary>Whether any of the <c>Atomic:Auth:RequireFor…</c> switches is on (the host then needs <see cref="AddBsvAuth"/>).</summary>
    public static bool AnyRequired(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.GetValue<bool>(RequireForBasketsKey) || configuration.GetValue<bool>(Operations.AuditOptions.RequireForAuditKey)
            || configuration.GetValue<bool>(RequireForSubmitKey) || configuration.GetValue<bool>(RequireForOperationsKey);
    }

    /// <summary>
    /// When <paramref name="requireKey"/> is true in the app's configuration, <paramref name="routes"/> answer only BRC-104
    /// signed requests, and also require the policy <paramref name="policyKey"/> names, if any. Throws when the switch
    /// is on and the app has no BRC-103/104 (<see cref="AddBsvAuth"/>).
    /// </summary>
    public static void RequireBsvAuthWhen(this IEndpointRouteBuilder app, string requireKey, string policyKey, params IEndpointConventionBuilder[] routes)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(routes);
        IConfiguration configuration = app.ServiceProvider.GetRequiredService<IConfiguration>();
        if (!configuration.GetValue<bool>(requireKey))
        {
            return;
        }

        _ = app.ServiceProvider.GetService<BsvAuthVerifier>()
            ?? throw new InvalidOperationException($"{requireKey} is true: register AddBsvAuth() and use UseBsvAuth()");
        string? policy = configuration[policyKey] is { Length: > 0 } p ? p : null;
        foreach (IEndpointConventionBuilder route in routes)
        {
            route.RequireBsvAuth();
            if (policy is not null)
            {
                route.RequireAuthorization(policy);
            }
        }
    }

    /// <summary>The route (or group) answers only BRC-104 signed requests, as the "BsvAuth" scheme's identity.</summary>
    public static TBuilder RequireBsvAuth<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = BsvAuthDefaults.Scheme });

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Atomic:Identity:ServerPrivateKey is not set: this Development server's BRC-103 identity is a random key, {IdentityKey}")]
    private static partial void LogRandomKey(ILogger logger, string identityKey);
}
