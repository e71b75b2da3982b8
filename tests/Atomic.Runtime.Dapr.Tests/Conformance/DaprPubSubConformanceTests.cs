using Atomic.Runtime.Dapr.Tests.Fakes;
using Atomic.Runtime.PubSub;
using Atomic.Runtime.Tests.PubSub;

namespace Atomic.Runtime.Dapr.Tests.Conformance;

/// <summary>The pub/sub conformance suite, unchanged, against <see cref="PubSub.DaprPubSub"/> and the app callbacks through the fake sidecar.</summary>
public sealed class DaprPubSubConformanceTests : PubSubConformance, IAsyncLifetime
{
    private DaprTestApp? _app;

    protected override IPubSub CreatePubSub()
    {
        _app = DaprTestApp.StartAsync(new FakeSidecarOptions { ApiToken = "sidecar-token", AppApiToken = "app-token" }).GetAwaiter().GetResult();
        return _app.PubSub();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
