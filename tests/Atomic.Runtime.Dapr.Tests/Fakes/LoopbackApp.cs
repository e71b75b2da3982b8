using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atomic.Runtime.Dapr.Tests.Fakes;

/// <summary>The app side of a test: Kestrel on a free loopback port (HTTP/1.1, as daprd calls apps), no logging.</summary>
public static class LoopbackApp
{
    /// <summary>Builds the app with <paramref name="services"/>, maps it with <paramref name="map"/>, starts it and answers its address (ending in <c>/</c>).</summary>
    public static async Task<(WebApplication App, Uri Address)> StartAsync(Action<IServiceCollection> services, Action<WebApplication> map)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1));
        builder.Logging.ClearProviders();
        services(builder.Services);
        WebApplication app = builder.Build();
        map(app);
        await app.StartAsync();
        return (app, new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/"));
    }
}
