using System.Net.Http.Headers;
using System.Text;
using Atomic.DevChain.Chain;
using Microsoft.Extensions.Options;

namespace Atomic.DevChain.Hosting;

/// <summary>
/// Delivers the callbacks the chain queued (ARC's callback POSTs, with the bearer token) and retries failures with
/// a doubling delay up to <see cref="DevChainOptions.CallbackAttempts"/> tries. The queue lives in the chain's
/// database, so callbacks queued before a restart are delivered after it.
/// </summary>
public sealed partial class CallbackDispatcher(
    LocalChain chain, IHttpClientFactory httpClientFactory, IOptions<DevChainOptions> options, ILogger<CallbackDispatcher> logger)
    : BackgroundService
{
    public const string HttpClientName = "atomic-devchain-callbacks";

    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _wakeUp = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        chain.CallbacksQueued += WakeUp;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    IReadOnlyList<PendingCallback> due = chain.DueCallbacks();
                    if (due.Count > 0)
                    {
                        await Task.WhenAll(due.Select(c => DeliverAsync(c, stoppingToken))).ConfigureAwait(false);
                        continue;
                    }

                    TimeSpan wait = chain.NextCallbackAt is DateTimeOffset next
                        ? TimeSpan.FromTicks(Math.Clamp((next - DateTimeOffset.UtcNow).Ticks, TimeSpan.FromMilliseconds(10).Ticks, IdlePoll.Ticks))
                        : IdlePoll;
                    await _wakeUp.WaitAsync(wait, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException and not ObjectDisposedException)
                {
                    // A bug or a storage failure must not stop the host: note it and try again shortly.
                    LogLoopFailed(logger, e);
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: what is still queued is delivered after the next start.
        }
        catch (ObjectDisposedException)
        {
            // The chain was disposed with the host.
        }
        finally
        {
            chain.CallbacksQueued -= WakeUp;
        }
    }

    private void WakeUp()
    {
        if (_wakeUp.CurrentCount > 0)
        {
            return; // already signalled: no exception thrown and caught on a busy chain
        }

        try
        {
            _wakeUp.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    private async Task DeliverAsync(PendingCallback callback, CancellationToken stoppingToken)
    {
        HttpClient client = httpClientFactory.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, callback.Url)
        {
            Content = new StringContent(callback.Body, Encoding.UTF8, "application/json"),
        };
        if (!string.IsNullOrEmpty(callback.Token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", callback.Token);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(options.Value.CallbackTimeout);
        string failure;
        try
        {
            using HttpResponseMessage response = await client.SendAsync(request, timeout.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                chain.CompleteCallback(callback.Id);
                return;
            }

            failure = $"HTTP {(int)response.StatusCode}";
        }
        catch (HttpRequestException e)
        {
            failure = e.Message;
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            failure = "timed out";
        }

        bool retried = chain.FailCallback(callback);
        LogFailure(logger, callback.Url.GetLeftPart(UriPartial.Path), callback.Attempts + 1, failure, retried ? "will retry" : "dropped");
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "callback delivery failed; retrying in a second")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "callback to {Url} failed on attempt {Attempt} ({Failure}); {Outcome}")]
    private static partial void LogFailure(ILogger logger, string url, int attempt, string failure, string outcome);

    public override void Dispose()
    {
        _wakeUp.Dispose();
        base.Dispose();
    }
}
