using Atomic.Services.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// Asks ARC every <see cref="BroadcasterOptions.PollInterval"/> about the watched transactions, a few at a time: ARC's
/// callbacks are the main way to learn of a block, and this catches the ones that never arrive.
/// </summary>
public sealed class MinedPoller(
    ArcClient arc, BroadcasterOptions options, IOptions<PipelineOptions> stages, WatchIndex watched, MinedRecorder recorder, TimeProvider time, ILogger<MinedPoller> logger)
    : BackgroundService
{
    private long _pollCursor;

    /// <summary>
    /// Asks the endpoints about every watched transaction once; MINED ones are recorded. The watched ones come from the
    /// <see cref="WatchIndex"/>, not from listing keys, so this works on Dapr's state API too.
    /// </summary>
    public async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> ids = await watched.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (ids.Count == 0)
        {
            return;
        }

        // At most MaxPollsPerTick status calls a tick, taking turns through the watched transactions: ARC's callbacks
        // are the main way to learn of a block, and polling thousands of transactions every tick would starve the rest.
        int count = Math.Min(ids.Count, Math.Max(1, options.MaxPollsPerTick));
        int start = (int)((Interlocked.Add(ref _pollCursor, count) - count) % ids.Count);
        for (int i = 0; i < count; i++)
        {
            string txid = ids[(start + i) % ids.Count];
            foreach (ArcEndpoint endpoint in options.Endpoints)
            {
                ArcOutcome outcome = await arc.StatusAsync(endpoint, txid, cancellationToken).ConfigureAwait(false);
                if (outcome.Response is { TxStatus: "MINED", MerklePath: { Length: > 0 } path } response)
                {
                    await recorder.MarkMinedAsync(txid, path, response.BlockHash ?? string.Empty, response.BlockHeight ?? 0, cancellationToken).ConfigureAwait(false);
                    break;
                }
            }
        }
    }

    /// <summary>Polls every <see cref="BroadcasterOptions.PollInterval"/> until stopped.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!stages.Value.Broadcaster)
        {
            return; // this app does not broadcast
        }

        using var timer = new PeriodicTimer(options.PollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await PollOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "polling ARC for mined transactions failed; trying again next tick");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }
}
