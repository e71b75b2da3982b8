using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;
using Atomic.Services.Broadcaster;
using Atomic.Services.Contracts;
using Atomic.Services.Pipeline;
using Dapr.Actors;
using Dapr.Actors.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Operations;

/// <summary>
/// Checks the pipeline's invariants over what the stores hold (<see cref="Invariants"/>): every output a topic holds
/// belongs to an accepted transaction and is indexed once, no basket holds an output of a rejected or failed one (the
/// baskets named in <see cref="Baskets.BasketCatalog"/>), token amounts are conserved, every mined record's merkle
/// path is confirmed by the chain tracker, and no record stays unfinished too long. Read only: it reports, never repairs.
/// </summary>
/// <remarks>
/// Dapr's state API cannot list keys, so the records checked are those reachable from what is indexed: the
/// transactions of the outputs every topic holds (and their spenders), and the broadcast ones the MINED poller watches
/// (<see cref="WatchIndex"/>). A record that is in none of those (a transaction with no topic output that never reached
/// broadcast) is not seen; <c>POST /v1/check</c> takes extra txids to look at.
/// </remarks>
public sealed partial class ConsistencyChecker(
    TopicCatalog topics,
    Baskets.BasketCatalog baskets,
    IActorProxyFactory actors,
    TxRecords records,
    WatchIndex watched,
    IServiceProvider services,
    TimeProvider time,
    IOptions<ConsistencyOptions> options,
    ILogger<ConsistencyChecker> logger)
{
    /// <summary><c>atomic.consistency.violations</c>: violations found, tagged with the invariant.</summary>
    internal static readonly Counter<long> Violations = Telemetry.Meter.CreateCounter<long>(
        "atomic.consistency.violations", "{violation}", "consistency violations found, by invariant");

    private int lastViolations = -1;

    /// <summary>
    /// Adds 0 to each invariant's series, so that it exists before its first violation: Prometheus' <c>increase()</c>
    /// (the rule <c>AtomicConsistencyViolation</c>) sees nothing in a series whose first sample is already the count.
    /// </summary>
    public static void ExposeSeries()
    {
        foreach (string invariant in Invariants.All)
        {
            Violations.Add(0, new TagList { { "invariant", invariant } });
        }
    }

    /// <summary>Violations the last check found; null before the first (the alert rules read it).</summary>
    public int? LastViolations => Volatile.Read(ref lastViolations) is int n and >= 0 ? n : null;

    public async Task<ConsistencyReport> CheckAsync(IEnumerable<string>? txids = null, CancellationToken cancellationToken = default)
    {
        ExposeSeries();
        var violations = new List<ConsistencyViolation>();
        var held = new List<(string Topic, HeldOutput Output)>();
        var toRead = new HashSet<string>(StringComparer.Ordinal);
        foreach (string txid in txids ?? [])
        {
            toRead.Add(txid.ToLowerInvariant());
        }

        int topicCount = 0;
        foreach (string topic in topics)
        {
            topicCount++;
            TopicHoldings holdings = await actors.CreateActorProxy<ITopicManager>(new ActorId(topic), ITopicManager.TypeName)
                .Holdings().WaitAsync(cancellationToken).ConfigureAwait(false);
            foreach (IGrouping<string, string> twice in holdings.Index.GroupBy(o => o, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                violations.Add(new(Invariants.OutputAdmittedTwice, $"{topic}/{twice.Key}", $"topic {topic} indexes {twice.Key} {twice.Count()} times"));
            }

            foreach (HeldOutput output in holdings.Outputs)
            {
                held.Add((topic, output));
                toRead.Add(output.TxId);
                if (output.SpentBy is not null)
                {
                    toRead.Add(output.SpentBy);
                }
            }

            if (topic == TokenTopicManager.TopicName)
            {
                CheckTokens(holdings, violations);
            }
        }

        var inBaskets = new List<(string Basket, string Outpoint, string TxId)>();
        int basketCount = 0;
        foreach (string basket in await baskets.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            basketCount++;
            await ReadBasketAsync(basket, inBaskets, violations, cancellationToken).ConfigureAwait(false);
        }

        foreach ((_, _, string txid) in inBaskets)
        {
            toRead.Add(txid);
        }

        foreach (string txid in await watched.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            toRead.Add(txid);
        }

        var found = new Dictionary<string, TxRecord>(StringComparer.Ordinal);
        foreach (string txid in toRead.Where(Outpoints.IsTxId))
        {
            if (await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is { } record)
            {
                found[txid] = record.Record;
            }
        }

        foreach ((string topic, HeldOutput output) in held)
        {
            string outpoint = $"{output.TxId}.{output.OutputIndex}";
            if (!found.TryGetValue(output.TxId, out TxRecord? record))
            {
                violations.Add(new(Invariants.OutputOfUnacceptedTransaction, $"{topic}/{outpoint}", $"topic {topic} holds {outpoint} but no record of {output.TxId} exists"));
            }
            else if (record.Status is TxStatus.Rejected or TxStatus.Failed)
            {
                // Received is allowed: BRC-22's /submit verifies by SPV and admits before the verifier stage moves the
                // record; a record that then stays received is reported as stuck.
                violations.Add(new(Invariants.OutputOfUnacceptedTransaction, $"{topic}/{outpoint}", $"topic {topic} holds {outpoint} but {output.TxId} is {Status(record.Status)}"));
            }
        }

        foreach ((string basket, string outpoint, string txid) in inBaskets)
        {
            if (found.TryGetValue(txid, out TxRecord? record) && record.Status is TxStatus.Rejected or TxStatus.Failed)
            {
                violations.Add(new(Invariants.OutputOfUnacceptedTransaction, $"basket:{basket}/{outpoint}", $"basket {basket} holds {outpoint} but {txid} is {Status(record.Status)}"));
            }
        }

        DateTimeOffset now = time.GetUtcNow();
        foreach (TxRecord record in found.Values.OrderBy(r => r.TxId, StringComparer.Ordinal))
        {
            if (record.Status == TxStatus.Mined && await ProofProblemAsync(record, cancellationToken).ConfigureAwait(false) is string problem)
            {
                violations.Add(new(Invariants.MinedWithoutProof, record.TxId, problem));
            }

            TimeSpan age = now - record.UpdatedAt;
            if (record.Status is TxStatus.Received or TxStatus.Verified or TxStatus.Broadcast && age > options.Value.StuckAfter)
            {
                violations.Add(new(Invariants.RecordStuck, record.TxId, $"{Status(record.Status)} since {record.UpdatedAt:O} ({age.TotalMinutes:0} min, bound {options.Value.StuckAfter})"));
            }
        }

        foreach (ConsistencyViolation violation in violations)
        {
            Violations.Add(1, new TagList { { "invariant", violation.Invariant } });
            LogViolation(logger, violation.Invariant, violation.Subject, violation.Detail);
        }

        Volatile.Write(ref lastViolations, violations.Count);
        return new ConsistencyReport(violations.Count == 0, now, topicCount, basketCount, held.Count + inBaskets.Count, found.Count, violations);
    }

    /// <summary>A basket's unspent outputs (reserved ones included), page by page; an outpoint listed twice is a violation.</summary>
    private async Task ReadBasketAsync(string basket, List<(string Basket, string Outpoint, string TxId)> held, List<ConsistencyViolation> violations, CancellationToken cancellationToken)
    {
        const int Page = 500;
        IBasketManager manager = actors.CreateActorProxy<IBasketManager>(new ActorId(basket), IBasketManager.TypeName);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int offset = 0; ; offset += Page)
        {
            ListResult page = await manager.List(new ListRequest(Limit: Page, Offset: offset, IncludeReserved: true)).WaitAsync(cancellationToken).ConfigureAwait(false);
            foreach (BasketOutputView output in page.Outputs)
            {
                int dot = output.Outpoint.IndexOf('.', StringComparison.Ordinal);
                string txid = dot > 0 ? output.Outpoint[..dot] : string.Empty;
                if (!seen.Add(output.Outpoint))
                {
                    violations.Add(new(Invariants.OutputAdmittedTwice, $"basket:{basket}/{output.Outpoint}", $"basket {basket} lists {output.Outpoint} more than once"));
                }
                else if (Outpoints.IsTxId(txid))
                {
                    held.Add((basket, output.Outpoint, txid.ToLowerInvariant()));
                }
            }

            if (page.Outputs.Count < Page || offset + Page >= page.TotalOutputs)
            {
                return;
            }
        }
    }

    /// <summary>Why a mined record's merkle path does not prove it, or null when the chain tracker confirms it.</summary>
    private async Task<string?> ProofProblemAsync(TxRecord record, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(record.MerklePath))
        {
            return "mined without a merkle path";
        }

        MerklePath path;
        Hash256 root;
        try
        {
            path = MerklePath.FromHex(record.MerklePath);
            root = path.ComputeRoot(Hash256.FromDisplayHex(record.TxId));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or MerklePathException)
        {
            return $"its merkle path does not prove {record.TxId}: {e.Message}";
        }

        if (ChainTracker() is not { } chainTracker)
        {
            return null; // this app has no chain tracker: the path is checked against itself only
        }

        return await chainTracker.IsValidRootForHeightAsync(root, path.BlockHeight, cancellationToken).ConfigureAwait(false)
            ? null
            : $"the chain tracker does not know root {root.ToDisplayHex()} at height {path.BlockHeight}";
    }

    private int _noTrackerLogged;

    /// <summary>
    /// The app's chain tracker, resolved when first needed: a split app without one (the overlay app of a split
    /// deployment needs none for its own stage) still checks the other invariants, and says once that it cannot
    /// confirm merkle roots.
    /// </summary>
    private IChainTracker? ChainTracker()
    {
        try
        {
            return services.GetService<IChainTracker>();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (Interlocked.Exchange(ref _noTrackerLogged, 1) == 0)
            {
                logger.LogInformation("No chain tracker in this app ({Reason}): mined records' merkle roots are not confirmed by this checker", e.Message);
            }

            return null;
        }
    }

    /// <summary>
    /// Per transaction of the token topic: each asset's outputs add up to no more than the same asset's inputs (the
    /// inputs read from the BEEF the topic kept); an asset the transaction issues is exempt.
    /// </summary>
    private static void CheckTokens(TopicHoldings holdings, List<ConsistencyViolation> violations)
    {
        foreach ((string txid, string base64) in holdings.Beefs)
        {
            Beef beef;
            Transaction? tx;
            try
            {
                beef = Beef.FromBytes(Convert.FromBase64String(base64));
                tx = beef.Find(Hash256.FromDisplayHex(txid))?.Transaction;
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                violations.Add(new(Invariants.TokenAmountsNotConserved, txid, $"the topic's BEEF of {txid} cannot be read: {e.Message}"));
                continue;
            }

            if (tx is null)
            {
                continue;
            }

            var outputs = new Dictionary<string, ulong>(StringComparer.Ordinal);
            for (int i = 0; i < tx.Outputs.Count; i++)
            {
                var outpoint = new OutPoint(tx.Id, (uint)i);
                if (TokenTopicManager.Read(tx.Outputs[i].LockingScript, outpoint) is { } token && token.AssetId != TokenTopicManager.AssetIdOf(outpoint))
                {
                    outputs[token.AssetId] = outputs.GetValueOrDefault(token.AssetId) + token.Amount;
                }
            }

            var inputs = new Dictionary<string, ulong>(StringComparer.Ordinal);
            bool known = true;
            foreach (TxInput input in tx.Inputs)
            {
                if (beef.Find(input.PrevOut.TxId)?.Transaction is not { } source || input.PrevOut.Index >= source.Outputs.Count)
                {
                    known = false;
                    break;
                }

                Script locking = source.Outputs[(int)input.PrevOut.Index].LockingScript;
                if (TokenTopicManager.Read(locking, input.PrevOut) is { } token)
                {
                    inputs[token.AssetId] = inputs.GetValueOrDefault(token.AssetId) + token.Amount;
                }
            }

            foreach ((string asset, ulong amount) in known ? outputs : [])
            {
                ulong spent = inputs.GetValueOrDefault(asset);
                if (amount > spent)
                {
                    violations.Add(new(Invariants.TokenAmountsNotConserved, txid, $"{txid} outputs {amount} of asset {asset} but its inputs carry {spent}"));
                }
            }
        }
    }

    private static string Status(TxStatus status) => status.ToString().ToLowerInvariant();

    [LoggerMessage(Level = LogLevel.Warning, Message = "consistency violation {Invariant} at {Subject}: {Detail}")]
    private static partial void LogViolation(ILogger logger, string invariant, string subject, string detail);
}
