using System.Security.Claims;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Services.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Tests.Identity;

/// <summary>A minimal Kestrel host on 127.0.0.1 with <c>AddBsvAuth</c>, <c>UseBsvAuth</c> and a few routes, on a clock the test moves.</summary>
internal sealed class BsvAuthHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BsvAuthHost(WebApplication app, PrivateKey serverKey, ManualClock clock)
    {
        _app = app;
        ServerKey = serverKey;
        Clock = clock;
        BaseAddress = new Uri(app.Urls.First());
    }

    public PrivateKey ServerKey { get; }

    public ManualClock Clock { get; }

    public Uri BaseAddress { get; }

    public static async Task<BsvAuthHost> StartAsync()
    {
        var serverKey = PrivateKey.Random();
        var clock = new ManualClock();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddBsvAuth(o =>
        {
            o.ServerPrivateKey = serverKey.ToWif();
            o.SessionLifetime = TimeSpan.FromMinutes(10);
            o.MaxBodyBytes = 4096;
        });
        WebApplication app = builder.Build();
        app.UseBsvAuth();
        app.MapGet("/protected", (ClaimsPrincipal user, string? q) => new { identityKey = user.FindFirstValue(BsvAuthDefaults.IdentityKeyClaim), q })
            .RequireBsvAuth();
        app.MapPost("/echo", async (HttpRequest request, ClaimsPrincipal user) =>
        {
            using var reader = new StreamReader(request.Body);
            string body = await reader.ReadToEndAsync();
            return Results.Text($"{user.FindFirstValue(BsvAuthDefaults.IdentityKeyClaim)} {body}", "text/plain", statusCode: 201);
        }).RequireBsvAuth();
        app.MapGet("/any-scheme", (ClaimsPrincipal user) => user.Identity!.AuthenticationType).RequireAuthorization();
        app.MapGet("/open", () => "open");
        app.MapPut("/note", (HttpResponse response) =>
        {
            response.Headers.Append("X-Bsv-Note", "signed");
            response.Headers.Append("X-Bsv-Note", "twice");
            return Results.NoContent();
        }).RequireBsvAuth();
        await app.StartAsync();
        return new BsvAuthHost(app, serverKey, clock);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
