using Atomic.Runtime.Actors;
using Atomic.Runtime.Embedded.Actors;
using Atomic.Runtime.Embedded.Components;
using Atomic.Services;

namespace Atomic.Server.Hosting;

/// <summary>
/// Owns the embedded runtime: the components loaded from <c>components/</c> and the actor runtime over their actor
/// state store. Registered before the pipeline, so its actors are running before any subscription delivers, and
/// stopped after it, so the last deliveries still reach them; the stores close last, when the container disposes it.
/// </summary>
internal sealed class EmbeddedRuntimeHost(
    EmbeddedComponents components, ServerSettings settings, IServiceProvider services, TimeProvider time, ILogger<EmbeddedRuntimeHost> logger)
    : IHostedService, IAsyncDisposable
{
    private readonly TaskCompletionSource<EmbeddedActorRuntime> _runtime = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private EmbeddedActorRuntime? _started;
    private int _disposed;

    public EmbeddedComponents Components => components;

    /// <summary>The runtime's actor client, usable at once: calls made before the runtime has started wait for it.</summary>
    public IActorClient Client => new DeferredActorClient(_runtime.Task);

    public bool ActorsStarted => _started is not null;

    public IReadOnlyCollection<string> ActorTypes => _started?.ActorTypes ?? [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = new ActorRuntimeOptions { AppId = settings.AppId };
        options.Actors.AddPipelineActors(services);
        try
        {
            _started = await EmbeddedActorRuntime.StartAsync(options, components.ActorStateStore!, time, cancellationToken).ConfigureAwait(false);
            _runtime.TrySetResult(_started);
        }
        catch (Exception e)
        {
            _runtime.TrySetException(e);
            throw;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_started is not null)
        {
            logger.LogDebug("stopping the actor runtime: draining turns in flight");
            await _started.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _runtime.TrySetException(new ObjectDisposedException(nameof(EmbeddedActorRuntime)));
        if (_started is not null)
        {
            await _started.DisposeAsync().ConfigureAwait(false); // a no-op after StopAsync
        }

        await components.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Forwards to the runtime once it has started.</summary>
    private sealed class DeferredActorClient(Task<EmbeddedActorRuntime> runtime) : IActorClient
    {
        public async Task<ReadOnlyMemory<byte>> InvokeMethodAsync(string actorType, string actorId, string method, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
        {
            EmbeddedActorRuntime started = await runtime.WaitAsync(cancellationToken).ConfigureAwait(false);
            return await started.InvokeMethodAsync(actorType, actorId, method, body, cancellationToken).ConfigureAwait(false);
        }
    }
}
