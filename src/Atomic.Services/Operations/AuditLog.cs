using System.Threading.Channels;
using Atomic.Services.Pipeline;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// The hooks' side of the audit log: an entry to append is queued on a bounded channel and never waited for;
/// <see cref="AuditWriter"/>, this process's one writer, chains and saves them.
/// </summary>
public sealed class AuditLog(IOptions<AuditOptions> options, TimeProvider time)
{
    private readonly Channel<AuditDraft> queue = Channel.CreateBounded<AuditDraft>(new BoundedChannelOptions(options.Value.QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait, // TryWrite never waits: it answers false when full (DropWrite would answer true and drop silently)
    });

    /// <summary><c>atomic.audit.dropped</c>: entries a hook could not queue (an alert-worthy gap in the trail).</summary>
    internal static readonly System.Diagnostics.Metrics.Counter<long> DroppedEntries = Telemetry.Meter.CreateCounter<long>(
        "atomic.audit.dropped", "{entry}", "audit entries dropped because the writer's queue was full");

    private long dropped;

    internal ChannelReader<AuditDraft> Reader => queue.Reader;

    /// <summary>Entries dropped because the queue was full (the writer fell behind, or the store is down).</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Queues an entry; false (and counted) when the queue is full.</summary>
    public bool Append(string kind, string subject, string detail = "", string? identity = null)
    {
        if (queue.Writer.TryWrite(new AuditDraft(time.GetUtcNow(), kind, subject, identity, detail)))
        {
            return true;
        }

        Interlocked.Increment(ref dropped);
        DroppedEntries.Add(1, new KeyValuePair<string, object?>("kind", kind));
        return false;
    }

    /// <summary>A record's move (or its acceptance): <c>tx.received</c>, <c>tx.verified</c>, … with the code, if any.</summary>
    public void Moved(string txid, TxStatus to, string? code = null) => Append(Kind(to), txid, code ?? "");

    internal void Complete() => queue.Writer.TryComplete();

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

/// <summary>An entry before the writer gives it its seq, prev and hash.</summary>
internal readonly record struct AuditDraft(DateTimeOffset At, string Kind, string Subject, string? Identity, string Detail);
