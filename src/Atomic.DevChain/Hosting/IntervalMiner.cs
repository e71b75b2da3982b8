using Atomic.DevChain.Chain;
using Microsoft.Extensions.Options;

namespace Atomic.DevChain.Hosting;

/// <summary>Mines a block every <see cref="DevChainOptions.MineInterval"/> (when set) while the mempool holds transactions.</summary>
public sealed partial class IntervalMiner(
    LocalChain chain, IOptions<DevChainOptions> options, TimeProvider time, ILogger<IntervalMiner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.MineInterval is not TimeSpan interval || interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    if (options.Value.MineEmptyBlocks || chain.MempoolCount > 0)
                    {
                        chain.Mine();
                    }
                }
                catch (ObjectDisposedException)
                {
                    return; // the host is shutting down
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogMiningFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "interval mining failed")]
    private static partial void LogMiningFailed(ILogger logger, Exception exception);
}
