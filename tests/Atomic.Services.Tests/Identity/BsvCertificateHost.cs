using System.Security.Claims;
using System.Security.Cryptography;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Services.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Tests.Identity;

/// <summary>
/// A Kestrel host on 127.0.0.1 trusting "employee" certificates from certifiers A and B (the field "role" becomes the
/// claim "role"), with the policy "auditor" (an employee certificate with role = auditor) on <c>/audit</c>.
/// </summary>
internal sealed class BsvCertificateHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BsvCertificateHost(WebApplication app, PrivateKey serverKey)
    {
        _app = app;
        ServerKey = serverKey;
        BaseAddress = new Uri(app.Urls.First());
    }

    public static string EmployeeType { get; } = Convert.ToBase64String(SHA256.HashData("atomic employee"u8));

    public static PrivateKey CertifierA { get; } = PrivateKey.Random();

    public static PrivateKey CertifierB { get; } = PrivateKey.Random();

    public PrivateKey ServerKey { get; }

    public Uri BaseAddress { get; }

    public CertificateRevocations Revocations => _app.Services.GetRequiredService<CertificateRevocations>();

    /// <param name="settings">More configuration (<c>Atomic:Identity:Trust:CertificateRequests</c>, say).</param>
    public static async Task<BsvCertificateHost> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var serverKey = PrivateKey.Random();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Atomic:Identity:ServerPrivateKey"] = serverKey.ToWif(),
            ["Atomic:Identity:Trust:Types:employee:Type"] = EmployeeType,
            ["Atomic:Identity:Trust:Types:employee:Certifiers:0"] = CertifierA.PublicKey.ToHex(),
            ["Atomic:Identity:Trust:Types:employee:Certifiers:1"] = CertifierB.PublicKey.ToHex(),
            ["Atomic:Identity:Trust:Types:employee:Claims:role"] = "role",
            ["Atomic:Identity:Trust:Policies:auditor:Certificate"] = "employee",
            ["Atomic:Identity:Trust:Policies:auditor:Require:role:0"] = "auditor",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Services.AddBsvAuth();
        WebApplication app = builder.Build();
        app.UseBsvAuth();
        app.MapGet("/audit", (ClaimsPrincipal user) => new
        {
            identityKey = user.FindFirstValue(BsvAuthDefaults.IdentityKeyClaim),
            role = user.FindFirstValue("role"),
            certifier = user.FindFirst("role")?.Issuer,
            certificate = user.FindFirstValue(BsvAuthDefaults.CertificateClaim),
            claims = user.Claims.Select(c => c.Type).ToArray(),
        }).RequireAuthorization("auditor");
        await app.StartAsync();
        return new BsvCertificateHost(app, serverKey);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
