using System.ComponentModel.DataAnnotations;

namespace Atomic.Services.Operations;

/// <summary>The audit log's settings (section <c>Atomic:Audit</c>).</summary>
public sealed class AuditOptions
{
    public const string Section = "Atomic:Audit";

    /// <summary>"Atomic:Auth:RequireForAudit" (default false): when true, <c>GET /v1/audit</c> answers only BRC-104 signed requests.</summary>
    public const string RequireForAuditKey = "Atomic:Auth:RequireForAudit";

    /// <summary>
    /// "Atomic:Auth:AuditPolicy" (default none): with <see cref="RequireForAuditKey"/>, the authorization policy (e.g. a
    /// certificate policy of <c>Atomic:Identity:Trust:Policies</c>, "auditor") <c>GET /v1/audit</c> also requires.
    /// </summary>
    public const string AuditPolicyKey = "Atomic:Auth:AuditPolicy";

    /// <summary>How many entries may wait for the writer; past that a hook drops its entry (counted and logged) rather than wait.</summary>
    [Range(16, 1_000_000, ErrorMessage = "Atomic:Audit:QueueCapacity must be between 16 and 1,000,000")]
    public int QueueCapacity { get; set; } = 65_536;

    /// <summary>
    /// How often the head is anchored on chain (<see cref="AuditAnchors"/>), paid from the server's coins
    /// (<c>Atomic:Funding</c>); zero: never. Runs only where the server has a funding key.
    /// </summary>
    public TimeSpan AnchorInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The journal file (<see cref="AuditJournal"/>): every entry is written there before it is queued, so entries a
    /// kill -9 leaves unsaved are rebuilt at the next start. The server sets <c>data/audit-{app}.journal</c> under its
    /// base directory; empty: none.
    /// </summary>
    public string? JournalPath { get; set; }

    /// <summary>
    /// How long the writer waits, once an entry arrives and fewer than <see cref="BatchSize"/> are queued, for others to
    /// join its batch. Each batch costs four calls to the sidecar (the head read, the walk past it, the bulk save, the
    /// head's move) whatever its size, so a busy pipeline's entries go in a few large batches instead of many small ones.
    /// Zero: no wait. Entries reach <c>GET /v1/audit</c> that much later; the journal covers them meanwhile.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10", ErrorMessage = "Atomic:Audit:Linger must be between 00:00:00 and 00:00:10")]
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>At most this many entries are appended under one write of the head.</summary>
    [Range(1, 10_000, ErrorMessage = "Atomic:Audit:BatchSize must be between 1 and 10,000")]
    public int BatchSize { get; set; } = 256;
}
