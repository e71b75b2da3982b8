using Microsoft.Extensions.Logging;

namespace Atomic.Sidecar.AppChannel;

/// <summary>
/// daprd's app health checks (operations/resiliency/health-checks/app-health in the Dapr docs): with
/// <see cref="SidecarOptions.EnableAppHealthCheck"/>, <c>GET {AppHealthCheckPath}</c> every probe interval, a 2xx
/// within the probe timeout being a success. The app is unhealthy until the first success, and again after
/// <see cref="SidecarOptions.AppHealthThreshold"/> failures in a row; one success makes it healthy. Without the
/// option the app counts as healthy throughout.
/// </summary>
public sealed partial class AppHealth : IAsyncDisposable
{
    private readonly SidecarOptions _options;
    private readonly ILogger<AppHealth> _logger;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _lock = new();
    private TaskCompletionSource _healthy = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _isHealthy;
    private Task _loop = Task.CompletedTask;

    public AppHealth(SidecarOptions options, ILogger<AppHealth> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false })
        {
            Timeout = Timeout.InfiniteTimeSpan, // per probe, through a token
        };
        if (!Enabled)
        {
            SetHealthy(true);
        }
    }

    /// <summary>Whether the app is probed (health checks enabled and an app to probe).</summary>
    public bool Enabled => _options.EnableAppHealthCheck && _options.AppAddress is not null;

    /// <summary>Whether work goes to the app now.</summary>
    public bool IsHealthy
    {
        get
        {
            lock (_lock)
            {
                return _isHealthy;
            }
        }
    }

    /// <summary>Starts probing (once the app's port is open); the first probe runs at once.</summary>
    public void Start()
    {
        if (Enabled)
        {
            _loop = Task.Run(() => ProbeLoopAsync(_stopping.Token));
        }
    }

    /// <summary>Completes when the app is healthy (at once when it is).</summary>
    public Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        Task healthy;
        lock (_lock)
        {
            healthy = _healthy.Task;
        }

        return healthy.IsCompleted ? Task.CompletedTask : healthy.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        _http.Dispose();
        _stopping.Dispose();
    }

    private async Task ProbeLoopAsync(CancellationToken stopping)
    {
        Uri probe = new(_options.AppAddress!.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + _options.AppHealthCheckPath.TrimStart('/'));
        int failures = 0;
        bool first = true;
        while (!stopping.IsCancellationRequested)
        {
            if (await ProbeAsync(probe, stopping).ConfigureAwait(false))
            {
                failures = 0;
                SetHealthy(true);
            }
            else if (++failures >= Math.Max(1, _options.AppHealthThreshold) || first)
            {
                // Before the first success the app is unhealthy already; the threshold counts from healthy.
                SetHealthy(false);
            }

            first = false;
            await Task.Delay(_options.AppHealthProbeInterval, _options.Time, stopping).ConfigureAwait(false);
        }
    }

    private async Task<bool> ProbeAsync(Uri probe, CancellationToken stopping)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(_options.AppHealthProbeTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, probe);
            if (_options.AppApiToken is { Length: > 0 } token)
            {
                request.Headers.TryAddWithoutValidation("dapr-api-token", token);
            }

            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            return (int)response.StatusCode is >= 200 and <= 299;
        }
        catch (HttpRequestException)
        {
            // Refused or cut off: a failed probe. While stopping too, since the app often goes first: the loop then ends
            // at its next check, and the error never escapes DisposeAsync.
            return false;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            return false; // the probe's own time limit
        }
    }

    private void SetHealthy(bool healthy)
    {
        lock (_lock)
        {
            if (healthy == _isHealthy && (healthy == _healthy.Task.IsCompleted))
            {
                return;
            }

            _isHealthy = healthy;
            if (healthy)
            {
                _healthy.TrySetResult();
            }
            else if (_healthy.Task.IsCompleted)
            {
                _healthy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        if (Enabled)
        {
            if (healthy)
            {
                LogHealthy(_logger, _options.AppId);
            }
            else
            {
                LogUnhealthy(_logger, _options.AppId, _options.AppHealthCheckPath);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "app {AppId} is healthy: deliveries and invocations go to it")]
    private static partial void LogHealthy(ILogger logger, string appId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "app {AppId} is unhealthy ({Path} failed): deliveries wait and invocations of it are refused")]
    private static partial void LogUnhealthy(ILogger logger, string appId, string path);
}
