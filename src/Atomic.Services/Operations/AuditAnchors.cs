using System.Buffers.Binary;
using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Services.Funding;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>One anchor: the <paramref name="N"/>th, of entry <paramref name="Seq"/> whose hash is <paramref name="Hash"/>, in <paramref name="TxId"/>.</summary>
public sealed record AuditAnchor(
    [property: JsonPropertyName("n")] long N,
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("at")] DateTimeOffset At);

/// <summary>
/// The audit log's head on chain: a transaction paid from the server's coins (<see cref="FundingCoins"/>) whose output 0
/// is <c>OP_FALSE OP_RETURN "atomic.audit" seq(8 bytes, little-endian) hash(32 bytes)</c>, 0 satoshis, submitted
/// through our own pipeline (route <c>audit</c>). Anchors are kept in <c>txstore</c>: <c>audit|anchor|{n}</c> and
/// <c>audit|anchor|last</c> (<c>{n, seq, txids}</c>, the last anchors' txids). A head is anchored only when an entry
/// after the last anchored one is about something other than an anchor, so an idle log is not anchored again and again
/// for its anchors' own entries. Tampering with stored entries then shows against the chain: the recomputed hash at an
/// anchored seq differs from the one in the transaction (<c>atomic audit verify</c>).
/// </summary>
public sealed partial class AuditAnchors(
    DaprClient dapr, AuditStore store, AuditLog log, IServiceProvider services, TimeProvider time, ILogger<AuditAnchors> logger)
{
    public const string LastKey = "audit|anchor|last";

    /// <summary>The data output's tag.</summary>
    public static ReadOnlySpan<byte> Tag => "atomic.audit"u8;

    /// <summary>The audit entry an anchor adds to the log itself (subject its txid, detail <c>{seq} {hash}</c>).</summary>
    public const string AnchoredKind = "audit.anchored";

    private const int KeptTxIds = 16;

    public static string AnchorKey(long n) => $"audit|anchor|{n}";

    /// <summary>The anchor's data output script.</summary>
    public static Script DataScript(long seq, string hash)
    {
        byte[] digest = Convert.FromHexString(hash);
        if (digest.Length != 32)
        {
            throw new ArgumentException("an entry's hash is 32 bytes", nameof(hash));
        }

        byte[] script = new byte[2 + 1 + 12 + 1 + 8 + 1 + 32];
        script[0] = (byte)OpCode.OP_0;
        script[1] = (byte)OpCode.OP_RETURN;
        script[2] = 12;
        Tag.CopyTo(script.AsSpan(3));
        script[15] = 8;
        BinaryPrimitives.WriteInt64LittleEndian(script.AsSpan(16), seq);
        script[24] = 32;
        digest.CopyTo(script, 25);
        return new Script(script);
    }

    /// <summary>The seq and hash an anchor's data output carries; false for any other script.</summary>
    public static bool TryRead(ReadOnlySpan<byte> script, out long seq, out string hash)
    {
        seq = 0;
        hash = string.Empty;
        if (script.Length != 57 || script[0] != (byte)OpCode.OP_0 || script[1] != (byte)OpCode.OP_RETURN || script[2] != 12
            || !script.Slice(3, 12).SequenceEqual(Tag) || script[15] != 8 || script[24] != 32)
        {
            return false;
        }

        seq = BinaryPrimitives.ReadInt64LittleEndian(script.Slice(16, 8));
        hash = Convert.ToHexStringLower(script.Slice(25, 32));
        return true;
    }

    /// <summary>The last anchor's number and seq, and the txids of the last anchors.</summary>
    public sealed record Last(
        [property: JsonPropertyName("n")] long N,
        [property: JsonPropertyName("seq")] long Seq,
        [property: JsonPropertyName("txids")] IReadOnlyList<string> TxIds);

    /// <summary>
    /// Anchors the head now if something other than anchors happened since the last anchor; answers the anchor, or null
    /// when there was nothing to anchor. Throws <see cref="FundingException"/> when the coins cannot pay.
    /// </summary>
    public async Task<AuditAnchor?> AnchorAsync(CancellationToken cancellationToken)
    {
        FundingCoins funding = services.GetService<FundingCoins>() ?? throw new InvalidOperationException($"anchoring pays from the server's coins: set {FundingOptions.KeyKey}");
        (AuditHead head, _) = await store.GetHeadAsync(cancellationToken).ConfigureAwait(false);
        Last last = (await dapr.GetStateAsync<Last?>(Names.TxStore, LastKey, cancellationToken: cancellationToken).ConfigureAwait(false)) ?? new Last(0, 0, []);
        if (head.Seq <= last.Seq || !await SomethingElseAsync(last, head.Seq, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        TxRecords records = services.GetRequiredService<TxRecords>();
        (Transaction tx, _) = await funding.PayAsync([new TxOutput(0, DataScript(head.Seq, head.Hash))], async (t, beef, ct) =>
        {
            (_, string txid, var problem) = BeefIntake.Read(beef);
            if (problem is not null)
            {
                throw new InvalidOperationException($"the anchor's BEEF does not read: {problem.ProblemDetails.Detail}");
            }

            await BeefIntake.AcceptAsync(records, txid, beef, [], [], "audit", ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        string anchorTxId = tx.Id.ToDisplayHex();
        for (int attempt = 1; ; attempt++)
        {
            (Last? current, string etag) = await dapr.GetStateAndETagAsync<Last?>(Names.TxStore, LastKey, cancellationToken: cancellationToken).ConfigureAwait(false);
            current ??= new Last(0, 0, []);
            var anchor = new AuditAnchor(current.N + 1, head.Seq, head.Hash, anchorTxId, time.GetUtcNow());
            await dapr.SaveStateAsync(Names.TxStore, AnchorKey(anchor.N), anchor, cancellationToken: cancellationToken).ConfigureAwait(false);
            var next = new Last(anchor.N, Math.Max(current.Seq, head.Seq), [.. current.TxIds.TakeLast(KeptTxIds - 1), anchorTxId]);
            if (await dapr.TrySaveAsync(Names.TxStore, LastKey, next, etag, new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }, cancellationToken)
                .ConfigureAwait(false))
            {
                log.Append(AnchoredKind, anchorTxId, $"{head.Seq} {head.Hash}");
                LogAnchored(logger, head.Seq, head.Hash, anchorTxId);
                return anchor;
            }

            if (attempt >= 20)
            {
                throw new InvalidOperationException($"{LastKey} kept changing under 20 attempts");
            }
        }
    }

    /// <summary>Anchors from the <paramref name="from"/>th, at most <paramref name="max"/>.</summary>
    public async Task<IReadOnlyList<AuditAnchor>> ListAsync(long from, int max, CancellationToken cancellationToken)
    {
        Last? last = await dapr.GetStateAsync<Last?>(Names.TxStore, LastKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        var anchors = new List<AuditAnchor>();
        for (long n = Math.Max(1, from); last is not null && n <= last.N && anchors.Count < max; n++)
        {
            if (await dapr.GetStateAsync<AuditAnchor?>(Names.TxStore, AnchorKey(n), cancellationToken: cancellationToken).ConfigureAwait(false) is { } anchor)
            {
                anchors.Add(anchor);
            }
        }

        return anchors;
    }

    /// <summary>Whether an entry after <paramref name="last"/>'s seq is about something other than an anchor's transaction.</summary>
    private async Task<bool> SomethingElseAsync(Last last, long headSeq, CancellationToken cancellationToken)
    {
        var anchors = new HashSet<string>(last.TxIds, StringComparer.Ordinal);
        for (long from = last.Seq + 1; from <= headSeq; from += 100)
        {
            foreach ((long _, string? json) in await store.ReadAsync(from, Math.Min(headSeq, from + 99), cancellationToken).ConfigureAwait(false))
            {
                if (json is not null && !anchors.Contains(AuditEntry.FromJson(System.Text.Encoding.UTF8.GetBytes(json)).Subject))
                {
                    return true;
                }
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "audit entry {Seq} ({Hash}) anchored in transaction {TxId}")]
    private static partial void LogAnchored(ILogger logger, long seq, string hash, string txId);
}

/// <summary>Anchors the audit log's head every <c>Atomic:Audit:AnchorInterval</c> (never when zero).</summary>
public sealed partial class AuditAnchorService(AuditAnchors anchors, IOptions<AuditOptions> options, TimeProvider time, ILogger<AuditAnchorService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TimeSpan interval = options.Value.AnchorInterval;
        if (interval <= TimeSpan.Zero)
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
                    await anchors.AnchorAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogFailed(logger, e.Message); // no coins, the store down: the next tick tries again
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "the audit head could not be anchored, and will be at the next tick: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);
}
