using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Baskets;
using Atomic.Services.Contracts;
using Atomic.Services.Pipeline;
using Dapr.Actors.Runtime;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Baskets;

/// <summary>
/// Actor type <c>BasketManager</c>, one per BRC-46 basket (id = the normalized basket name): the basket's outputs with
/// tags, custom instructions and a spendable flag, changed only by whole batches (<see cref="BasketRules.Apply"/>).
/// </summary>
/// <remarks>
/// State: <c>output:{txid}.{vout}</c> one output; <c>outpoints</c> the index of the basket's outputs in insertion
/// order; <c>batch:{key}</c> the answer to a batch applied under an idempotency key (a transaction's batch uses
/// <c>batch:tx:{txid}</c>, a caller's key <c>batch:key:{key}</c>), so a repeated batch changes nothing.
/// </remarks>
public sealed class BasketManagerActor : Actor, IBasketManager
{
    public const string TypeName = IBasketManager.TypeName;

    private const string OutputPrefix = "output:";
    private const string BatchPrefix = "batch:";
    private const string IndexKey = "outpoints";

    private readonly OverlayOptions _options;
    private readonly BasketCatalog? _catalog;

    public BasketManagerActor(ActorHost host, IOptions<OverlayOptions> options, BasketCatalog? catalog = null)
        : base(host)
    {
        _options = options?.Value ?? throw new ArgumentNullException(nameof(options));
        _catalog = catalog;
    }

    /// <summary>
    /// Applies a batch entirely, or throws <see cref="BasketOperationException"/> and changes nothing. A batch already
    /// applied under its idempotency key answers <c>applied: false</c> and changes nothing.
    /// </summary>
    public Task<ApplyResult> Apply(ApplyRequest request) => ApplyAsync(request, CancellationToken.None);

    /// <inheritdoc cref="Apply"/>
    internal async Task<ApplyResult> ApplyAsync(ApplyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        IReadOnlyList<BasketOperation> operations = BasketWire.ToOperations(request.Operations, _options.MaxBasketOperations);
        return await ApplyAsync(operations, request.IdempotencyKey is null ? null : "key:" + CheckKey(request.IdempotencyKey), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Applies a verified transaction as one batch: every input spending an output of the basket marks it spent, and
    /// every output not yet in the basket joins it (no tags). Applying the same transaction again changes nothing.
    /// </summary>
    public Task<ApplyResult> ApplyTransaction(ApplyTransactionRequest request) => ApplyTransactionAsync(request, CancellationToken.None);

    /// <inheritdoc cref="ApplyTransaction"/>
    internal async Task<ApplyResult> ApplyTransactionAsync(ApplyTransactionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Outpoints.IsTxId(request.TxId))
        {
            throw new ArgumentException("txid must be 64 hex characters", nameof(request));
        }

        string txid = request.TxId.ToLowerInvariant();
        string key = "tx:" + txid;
        if (await StateManager.TryGetStateAsync<ApplyResult>(BatchPrefix + key, cancellationToken).ConfigureAwait(false) is { HasValue: true } done)
        {
            return done.Value with { Applied = false };
        }

        Beef beef = Beef.FromMemory(Convert.FromBase64String(request.Beef ?? throw new ArgumentException("beef is required", nameof(request))));
        Transaction tx = beef.Find(Hash256.FromDisplayHex(txid))?.Transaction ?? throw new ArgumentException($"the BEEF does not hold transaction {txid}", nameof(request));
        var operations = new List<BasketOperation>();
        foreach (TxInput input in tx.Inputs)
        {
            string outpoint = Outpoints.Format(input.PrevOut);
            if (await StateManager.TryGetStateAsync<BasketOutput>(OutputPrefix + outpoint, cancellationToken).ConfigureAwait(false) is { HasValue: true, Value.Spendable: true })
            {
                operations.Add(new BasketOperation.Spend(outpoint, txid));
            }
        }

        for (int i = 0; i < tx.Outputs.Count; i++)
        {
            string outpoint = Outpoints.Format(txid, (uint)i);
            if (!await StateManager.ContainsStateAsync(OutputPrefix + outpoint, cancellationToken).ConfigureAwait(false))
            {
                operations.Add(new BasketOperation.Insert(new BasketOutput(outpoint, tx.Outputs[i].Satoshis, tx.Outputs[i].LockingScript.ToHex(), [], null)));
            }
        }

        return await ApplyAsync(operations, key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The basket's outputs with any (<c>tagQueryMode: any</c>, the default) or all of the tags: spendable ones unless
    /// <c>includeSpent</c>, and not held by a reservation unless <c>includeReserved</c>.
    /// </summary>
    public Task<ListResult> List(ListRequest request) => ListAsync(request, CancellationToken.None);

    /// <inheritdoc cref="List"/>
    internal async Task<ListResult> ListAsync(ListRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        bool all = (request.TagQueryMode?.Trim().ToLowerInvariant() ?? "any") switch
        {
            "any" => false,
            "all" => true,
            _ => throw new BasketOperationException($"tagQueryMode must be any or all (got '{request.TagQueryMode}')"),
        };
        var tags = new HashSet<string>(StringComparer.Ordinal);
        foreach (string tag in request.Tags ?? [])
        {
            tags.Add(Normalize(tag));
        }

        int limit = Math.Clamp(request.Limit ?? _options.MaxResults, 1, _options.MaxResults);
        int offset = Math.Max(0, request.Offset);
        int total = 0;
        var page = new List<BasketOutputView>();
        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach (string outpoint in await IndexAsync(cancellationToken).ConfigureAwait(false))
        {
            BasketOutput output = await StateManager.GetStateAsync<BasketOutput>(OutputPrefix + outpoint, cancellationToken).ConfigureAwait(false);
            string? holder = output.HolderAt(now);
            if ((!output.Spendable && !request.IncludeSpent)
                || (holder is not null && !request.IncludeReserved)
                || (tags.Count > 0 && (all ? !tags.All(output.Tags.Contains) : !tags.Any(output.Tags.Contains))))
            {
                continue;
            }

            if (total++ >= offset && page.Count < limit)
            {
                page.Add(new BasketOutputView(output.Outpoint, output.Satoshis, output.LockingScript, output.Spendable, output.Tags, output.CustomInstructions,
                    holder, holder is null ? null : output.ReservedUntil));
            }
        }

        return new ListResult(total, page);
    }

    /// <summary>Stops tracking an output (BRC-100 <c>relinquishOutput</c>); <c>relinquished: false</c> when the basket does not hold it.</summary>
    public Task<RelinquishResult> Relinquish(RelinquishRequest request) => RelinquishAsync(request, CancellationToken.None);

    /// <inheritdoc cref="Relinquish"/>
    internal async Task<RelinquishResult> RelinquishAsync(RelinquishRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Outpoints.TryParse(request.Outpoint, out _, out string outpoint)
            || !await StateManager.ContainsStateAsync(OutputPrefix + outpoint, cancellationToken).ConfigureAwait(false))
        {
            return new RelinquishResult(false);
        }

        await ApplyAsync([new BasketOperation.Relinquish(outpoint)], null, cancellationToken).ConfigureAwait(false);
        return new RelinquishResult(true);
    }

    private async Task<ApplyResult> ApplyAsync(IReadOnlyList<BasketOperation> operations, string? key, CancellationToken cancellationToken)
    {
        if (key is not null && await StateManager.TryGetStateAsync<ApplyResult>(BatchPrefix + key, cancellationToken).ConfigureAwait(false) is { HasValue: true } done)
        {
            return done.Value with { Applied = false };
        }

        // BasketRules.Apply reads only the outputs the operations name: load those, apply, write back the difference.
        var named = new HashSet<string>(StringComparer.Ordinal);
        var current = new Dictionary<string, BasketOutput>(StringComparer.Ordinal);
        foreach (BasketOperation operation in operations)
        {
            string outpoint = operation.Target;
            if (named.Add(outpoint) && await StateManager.TryGetStateAsync<BasketOutput>(OutputPrefix + outpoint, cancellationToken).ConfigureAwait(false) is { HasValue: true } held)
            {
                current[outpoint] = held.Value;
            }
        }

        Dictionary<string, BasketOutput> next = BasketRules.Apply(current, operations);
        List<string> index = await IndexAsync(cancellationToken).ConfigureAwait(false);
        bool indexChanged = false;
        foreach (string outpoint in named)
        {
            bool had = current.TryGetValue(outpoint, out BasketOutput? before);
            if (next.TryGetValue(outpoint, out BasketOutput? after))
            {
                if (!ReferenceEquals(before, after))
                {
                    await StateManager.SetStateAsync(OutputPrefix + outpoint, after, cancellationToken).ConfigureAwait(false);
                }

                if (!had)
                {
                    if (!indexChanged && _catalog is not null)
                    {
                        await _catalog.AddAsync(Id.GetId(), cancellationToken).ConfigureAwait(false); // named before its first output is saved
                    }

                    index.Add(outpoint);
                    indexChanged = true;
                }
            }
            else if (had)
            {
                await StateManager.RemoveStateAsync(OutputPrefix + outpoint, cancellationToken).ConfigureAwait(false);
                index.Remove(outpoint);
                indexChanged = true;
            }
        }

        if (indexChanged)
        {
            await StateManager.SetStateAsync(IndexKey, index, cancellationToken).ConfigureAwait(false);
        }

        var result = new ApplyResult(true, index.Count);
        if (key is not null)
        {
            await StateManager.SetStateAsync(BatchPrefix + key, result, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    private async Task<List<string>> IndexAsync(CancellationToken cancellationToken)
    {
        ConditionalValue<List<string>> index = await StateManager.TryGetStateAsync<List<string>>(IndexKey, cancellationToken).ConfigureAwait(false);
        return index.HasValue ? index.Value : [];
    }

    private static string Normalize(string? tag)
    {
        try
        {
            return BasketNames.NormalizeTag(tag!);
        }
        catch (ArgumentException e)
        {
            throw new BasketOperationException(e.Message);
        }
    }

    /// <summary>An idempotency key becomes part of a state key: 1 to 128 characters of letters, digits and <c>.:_-</c>.</summary>
    internal static string CheckKey(string key) =>
        key.Length is > 0 and <= 128 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or ':' or '_' or '-')
            ? key
            : throw new BasketOperationException("idempotencyKey must be 1 to 128 letters, digits or .:_-");
}
