using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// This process's one writer of the audit log: takes queued entries in batches, chains them after the head and saves
/// them under first-write (the batch in one bulk save), then moves the head under its ETag, so two writers can never
/// fork the chain. At start it first rebuilds what earlier processes journaled and never saved (<see cref="AuditJournal"/>).
/// </summary>
public sealed partial class AuditWriter(AuditLog log, AuditStore store, IOptions<AuditOptions> options, ILogger<AuditWriter> logger) : BackgroundService
{
    /// <summary>The kind of the entry that follows entries rebuilt from a journal (subject the journal's file name, detail <c>{rebuilt} of {journaled}</c>).</summary>
    public const string RebuiltKind = "audit.rebuilt";

    private readonly List<AuditDraft> batch = new(options.Value.BatchSize);
    private long lastTip = -1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RebuildWithRetryAsync(stoppingToken).ConfigureAwait(false);
            while (await log.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                if (options.Value.Linger > TimeSpan.Zero && log.Reader.Count < options.Value.BatchSize)
                {
                    await Task.Delay(options.Value.Linger, stoppingToken).ConfigureAwait(false); // company for the batch
                }

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

            // Everything journaled is saved: the journal starts again empty.
            log.Journal?.Consumed(0, lastTip >= 0 ? lastTip : null, cutNow: true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogAppendFailed(logger, e, batch.Count);
        }
    }

    /// <summary>
    /// Names the head this process's journal starts from, then rebuilds from each journal an earlier process left:
    /// its drafts not found among the entries saved after the head it names are appended (with their own times), then
    /// an <see cref="RebuiltKind"/> entry, and the file is deleted. Retried while the store is unreachable.
    /// </summary>
    private async Task RebuildWithRetryAsync(CancellationToken cancellationToken)
    {
        if (log.Journal is not { } journal)
        {
            return;
        }

        for (int attempt = 0; ; attempt++)
        {
            try
            {
                (AuditHead head, _) = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
                journal.SetHead(head.Seq);
                foreach (string earlier in journal.Earlier)
                {
                    await RebuildAsync(earlier, cancellationToken).ConfigureAwait(false);
                }

                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                batch.Clear(); // the next attempt finds again what was saved
                LogRebuildFailed(logger, e);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5_000, 100 << Math.Min(attempt, 6))), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task RebuildAsync(string file, CancellationToken cancellationToken)
    {
        if (!File.Exists(file))
        {
            return; // rebuilt by an earlier attempt
        }

        (long since, List<AuditDraft> drafts) = AuditJournal.Read(file);
        int missing = 0;
        if (drafts.Count > 0)
        {
            // Every draft of the journal that was saved is after `since`, up to the last entry (past the head, too).
            (AuditHead head, _) = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
            long last = head.Seq;
            while (await store.GetAsync(last + 1, cancellationToken).ConfigureAwait(false) is not null)
            {
                last++;
            }

            var saved = new Dictionary<string, int>(StringComparer.Ordinal);
            for (long from = Math.Max(1, since + 1); from <= last; from += 1_000)
            {
                foreach ((long _, string? json) in await store.ReadAsync(from, Math.Min(last, from + 999), cancellationToken).ConfigureAwait(false))
                {
                    if (json is not null)
                    {
                        AuditEntry e = AuditEntry.FromJson(System.Text.Encoding.UTF8.GetBytes(json));
                        string key = Key(e.At, e.Kind, e.Subject, e.Identity, e.Detail);
                        saved[key] = saved.GetValueOrDefault(key) + 1;
                    }
                }
            }

            foreach (AuditDraft draft in drafts)
            {
                string key = Key(draft.At, draft.Kind, draft.Subject, draft.Identity, draft.Detail);
                if (saved.GetValueOrDefault(key) is int n and > 0)
                {
                    saved[key] = n - 1;
                }
                else
                {
                    batch.Add(draft with { JournalBytes = 0 });
                    missing++;
                }
            }

            if (missing > 0)
            {
                await AppendAsync(cancellationToken).ConfigureAwait(false);
                batch.Add(new AuditDraft(DateTimeOffset.UtcNow, RebuiltKind, Path.GetFileName(file), null,
                    string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{missing} of {drafts.Count}")));
                await AppendAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        LogRebuilt(logger, missing, drafts.Count, file);
        File.Delete(file);

        static string Key(DateTimeOffset at, string kind, string subject, string? identity, string detail) =>
            string.Join('\u001f', AuditEntry.FormatTime(at), kind, subject, identity ?? "\u0000", detail);
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

            var entries = new List<AuditEntry>(batch.Count);
            AuditHead chained = head;
            foreach (AuditDraft draft in batch)
            {
                AuditEntry entry = AuditEntry.Create(chained.Seq + 1, draft.At, draft.Kind, draft.Subject, draft.Identity, draft.Detail, chained.Hash);
                entries.Add(entry);
                chained = new AuditHead(entry.Seq, entry.Hash);
            }

            // The whole batch in one call; only when a key was taken does each entry go on its own, to find out which.
            AuditHead tip = head;
            bool conflict = false;
            if (await store.TryAddAllAsync(entries, cancellationToken).ConfigureAwait(false))
            {
                tip = chained;
            }
            else
            {
                foreach (AuditEntry entry in entries)
                {
                    if (!await store.TryAddAsync(entry, cancellationToken).ConfigureAwait(false)
                        && (await store.GetAsync(entry.Seq, cancellationToken).ConfigureAwait(false))?.Hash != entry.Hash)
                    {
                        conflict = true; // another writer's entry holds this seq (an entry of ours the bulk call saved goes on)
                        break;
                    }

                    tip = new AuditHead(entry.Seq, entry.Hash);
                }
            }

            int appended = (int)(tip.Seq - head.Seq);
            if (appended > 0)
            {
                await MoveHeadForwardAsync(tip, etag, cancellationToken).ConfigureAwait(false);
                long journaled = 0;
                for (int i = 0; i < appended; i++)
                {
                    journaled += batch[i].JournalBytes;
                }

                batch.RemoveRange(0, appended);
                lastTip = tip.Seq;
                log.Journal?.Consumed(journaled, tip.Seq);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rebuilding the audit entries of an earlier process's journal failed; retrying")]
    private static partial void LogRebuildFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rebuilt {Missing} audit entries of the {Journaled} in {File}, an earlier process's journal, and deleted it")]
    private static partial void LogRebuilt(ILogger logger, int missing, int journaled, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Appending {Count} audit entries failed; retrying")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit entry {Seq} was written by another writer; chaining after it")]
    private static partial void LogConflict(ILogger logger, long seq);
}
