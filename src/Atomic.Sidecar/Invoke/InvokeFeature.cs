using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Atomic.Sidecar.Invoke;

/// <summary>
/// Service invocation by app id and to HTTPEndpoint resources: <c>/v1.0/invoke/{app-id}/method/{method}</c> with any
/// verb, and the <c>dapr-app-id</c> header on any other path (the path is the method).
/// </summary>
internal sealed class InvokeFeature : ISidecarFeature
{
    public void AddServices(IServiceCollection services, SidecarOptions options) => services.AddSingleton<Invoker>();

    public void Map(WebApplication app)
    {
        app.Map("/v1.0/invoke/{appId}/method/{**method}", (HttpContext context, string appId, string? method, Invoker invoker) =>
            invoker.ForwardAsync(context, Uri.UnescapeDataString(appId), method ?? string.Empty));
        app.Use(async (context, next) =>
        {
            // The header form: any path that is not the sidecar's own API, sent with dapr-app-id, is a method of that app.
            if (context.Request.Headers.TryGetValue("dapr-app-id", out Microsoft.Extensions.Primitives.StringValues target)
                && !context.Request.Path.StartsWithSegments("/v1.0") && !context.Request.Path.StartsWithSegments("/v1.0-alpha1")
                && !context.Request.Path.StartsWithSegments("/v1.0-beta1") && !context.Request.Path.StartsWithSegments("/dapr.proto.runtime.v1.Dapr"))
            {
                await context.RequestServices.GetRequiredService<Invoker>().ForwardAsync(context, target.ToString(), context.Request.Path.Value ?? "/");
                return;
            }

            await next(context);
        });
    }

    public Task StartAsync(IServiceProvider services, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask StopAsync(IServiceProvider services) => ValueTask.CompletedTask;
}
