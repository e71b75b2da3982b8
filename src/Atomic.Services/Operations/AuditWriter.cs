using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// This process's one writer of the audit log: takes queued entries in batches, chains them after the head and saves
/// each under first-write, then moves the head under its ETag, so two writers can never fork the chain.
/// </summary>
public sealed partial class AuditWriter(AuditLog log, AuditStore store, IOptions<AuditOptions> options, ILogger<AuditWriter> logger) : BackgroundService
{
    private readonly List<AuditDraft> batch = new(options.Value.BatchSize);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await log.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                while (batch.Count < options.Value.BatchSize && log.Reader.TryRead(out AuditDraft draft))
                {
                    batch.Add(draft);
                }

                await AppendWithRetryAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Appends what is queued now (tests, and an orderly stop).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (log.Reader.TryRead(out AuditDraft draft))
            {
                batch.Add(draft);
                if (batch.Count >= options.Value.BatchSize)
                {
                    await AppendAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            if (batch.Count > 0)
            {
                await AppendAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogAppendFailed(logger, e, batch.Count);
        }
    }

    private async Task AppendWithRetryAsync(CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await AppendAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogAppendFailed(logger, e, batch.Count);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5_000, 100 << Math.Min(attempt, 6))), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Chains and saves the batch; on a conflict (another writer appended) re-reads the head and chains again.</summary>
    private async Task AppendAsync(CancellationToken cancellationToken)
    {
        while (batch.Count > 0)
        {
            (AuditHead head, string? etag) = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);

            // Entries saved past the head by a writer stopped before it moved the head continue the chain.
            while (await store.GetAsync(head.Seq + 1, cancellationToken).ConfigureAwait(false) is { } orphan)
            {
                head = new AuditHead(orphan.Seq, orphan.Hash);
            }

            AuditHead tip = head;
            bool conflict = false;
            foreach (AuditDraft draft in batch)
            {
                AuditEntry entry = AuditEntry.Create(tip.Seq + 1, draft.At, draft.Kind, draft.Subject, draft.Identity, draft.Detail, tip.Hash);
                if (!await store.TryAddAsync(entry, cancellationToken).ConfigureAwait(false))
                {
                    conflict = true;
                    break;
                }

                tip = new AuditHead(entry.Seq, entry.Hash);
            }

            int appended = (int)(tip.Seq - head.Seq);
            if (appended > 0)
            {
                await MoveHeadForwardAsync(tip, etag, cancellationToken).ConfigureAwait(false);
                batch.RemoveRange(0, appended);
            }

            if (conflict)
            {
                LogConflict(logger, tip.Seq + 1);
            }
        }
    }

    /// <summary>
    /// Moves the head to <paramref name="tip"/> unless it is already there or past it. A refused ETag means another
    /// writer moved it meanwhile: read it again and go on, so the head never goes back and never stays behind the last
    /// entry this writer saved (a head left behind would hide entries from everyone who reads the head).
    /// </summary>
    private async Task MoveHeadForwardAsync(AuditHead tip, string? etag, CancellationToken cancellationToken)
    {
        while (!await store.TryMoveHeadAsync(tip, etag, cancellationToken).ConfigureAwait(false))
        {
            (AuditHead current, etag) = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
            if (current.Seq >= tip.Seq)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Appending {Count} audit entries failed; retrying")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit entry {Seq} was written by another writer; chaining after it")]
    private static partial void LogConflict(ILogger logger, long seq);
}
