using System.Threading.Channels;
using Atomic.Services.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// The hooks' side of the audit log: an entry to append is written to the journal (<see cref="AuditOptions.JournalPath"/>),
/// then queued on a bounded channel and never waited for; <see cref="AuditWriter"/>, this process's one writer, chains
/// and saves them, and rebuilds at start-up the entries an earlier process journaled but never saved.
/// </summary>
public sealed partial class AuditLog : IDisposable
{
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private int journalFailed;

    public AuditLog(IOptions<AuditOptions> options, TimeProvider time, ILogger<AuditLog>? logger = null)
    {
        this.time = time;
        this.logger = logger ?? (ILogger)NullLogger.Instance;
        queue = Channel.CreateBounded<AuditDraft>(new BoundedChannelOptions(options.Value.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite never waits: it answers false when full (DropWrite would answer true and drop silently)
        });
        if (options.Value.JournalPath is { Length: > 0 } path)
        {
            try
            {
                Journal = AuditJournal.Open(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogNoJournal(this.logger, e, path);
            }
        }
    }

    private readonly Channel<AuditDraft> queue;

    /// <summary><c>atomic.audit.dropped</c>: entries a hook could not queue (an alert-worthy gap in the trail).</summary>
    internal static readonly System.Diagnostics.Metrics.Counter<long> DroppedEntries = Telemetry.Meter.CreateCounter<long>(
        "atomic.audit.dropped", "{entry}", "audit entries dropped because the writer's queue was full");

    private long dropped;

    internal ChannelReader<AuditDraft> Reader => queue.Reader;

    /// <summary>This process's journal, or null (none configured, or another process holds it).</summary>
    internal AuditJournal? Journal { get; }

    /// <summary>Entries dropped because the queue was full (the writer fell behind, or the store is down).</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Journals and queues an entry; false (and counted) when the queue is full.</summary>
    public bool Append(string kind, string subject, string detail = "", string? identity = null)
    {
        var draft = new AuditDraft(time.GetUtcNow(), kind, subject, identity, detail);
        if (Journal is { } journal)
        {
            try
            {
                draft = draft with { JournalBytes = journal.Write(draft) };
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or UnauthorizedAccessException)
            {
                if (Interlocked.Exchange(ref journalFailed, 1) == 0)
                {
                    LogJournalFailed(logger, e, journal.Path);
                }
            }
        }

        if (queue.Writer.TryWrite(draft))
        {
            return true;
        }

        Journal?.Consumed(draft.JournalBytes, head: null);
        Interlocked.Increment(ref dropped);
        DroppedEntries.Add(1, new KeyValuePair<string, object?>("kind", kind));
        return false;
    }

    /// <summary>A record's move (or its acceptance): <c>tx.received</c>, <c>tx.verified</c>, … with the code, if any.</summary>
    public void Moved(string txid, TxStatus to, string? code = null) => Append(Kind(to), txid, code ?? "");

    internal void Complete() => queue.Writer.TryComplete();

    public void Dispose() => Journal?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The audit journal {Path} cannot be taken (another process holds it, or it cannot be written): entries queued at a kill -9 of this process will not be rebuilt")]
    private static partial void LogNoJournal(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing the audit journal {Path} failed; entries not journaled are lost if the process is killed before they are saved")]
    private static partial void LogJournalFailed(ILogger logger, Exception exception, string path);

    private static string Kind(TxStatus status) => status switch
    {
        TxStatus.Received => "tx.received",
        TxStatus.Verified => "tx.verified",
        TxStatus.Rejected => "tx.rejected",
        TxStatus.Broadcast => "tx.broadcast",
        TxStatus.Mined => "tx.mined",
        TxStatus.Failed => "tx.failed",
        _ => "tx." + status.ToString().ToLowerInvariant(),
    };
}

/// <summary>An entry before the writer gives it its seq, prev and hash; <see cref="JournalBytes"/>: its length in the journal.</summary>
internal readonly record struct AuditDraft(DateTimeOffset At, string Kind, string Subject, string? Identity, string Detail, int JournalBytes = 0);
