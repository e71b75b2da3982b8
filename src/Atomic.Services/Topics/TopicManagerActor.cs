using System.Diagnostics;
using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Overlay;
using Atomic.Services.Contracts;
using Atomic.Services.Pipeline;
using Dapr.Actors.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Topics;

/// <summary>
/// Actor type <c>TopicManager</c>, one per topic (id = topic name): hosts the topic's <see cref="Atomic.Overlay.ITopicManager"/> and
/// keeps what it admitted (BRC-22), and answers the topic's lookup services (BRC-24).
/// </summary>
/// <remarks>
/// State (one actor's keys; a turn commits them together):
/// <c>admission:{txid}</c> the STEAK entry given for a transaction, so a repeated <see cref="AdmitAsync"/> answers it again
/// and changes nothing; <c>output:{txid}.{vout}</c> an output the topic holds (spent ones stay, marked, while a lookup
/// service of the topic reports spent outputs); <c>beef:{txid}</c> the Atomic BEEF of a transaction with outputs held,
/// and which of them; <c>outpoints</c> the index of held outputs in admission order (actor state cannot be listed);
/// <c>notice:{txid}</c> a spend not yet taken by every <see cref="ITopicAdmissionObserver"/> of the topic, and
/// <c>notices</c> their txids, given again by the reminder <c>observers</c> until taken.
/// </remarks>
public sealed partial class TopicManagerActor : Actor, Contracts.ITopicManager, IRemindable
{
    public const string TypeName = Contracts.ITopicManager.TypeName;

    private const string AdmissionPrefix = "admission:";
    private const string OutputPrefix = "output:";
    private const string BeefPrefix = "beef:";
    private const string IndexKey = "outpoints";
    private const string NoticePrefix = "notice:";
    private const string NoticesKey = "notices";
    private const string NoticeReminder = "observers";

    private readonly TopicCatalog _catalog;
    private readonly OverlayOptions _options;
    private readonly IEnumerable<ITopicAdmissionObserver> _observers;

    public TopicManagerActor(ActorHost host, TopicCatalog catalog, IOptions<OverlayOptions> options, IEnumerable<ITopicAdmissionObserver> observers)
        : base(host)
    {
        _observers = observers ?? [];
        _catalog = catalog ?? throw new ArgumentNullException(nameof(catalog));
        _options = options?.Value ?? throw new ArgumentNullException(nameof(options));
    }

    private string Topic => Id.GetId();

    private Atomic.Overlay.ITopicManager Manager => _catalog.Manager(Topic) ?? throw new InvalidOperationException($"no topic manager serves '{Topic}'");

    /// <summary>
    /// Offers a verified transaction to the topic: the previous coins are the topic's unspent outputs its inputs spend;
    /// the manager's decision is applied (admitted outputs stored, previous coins marked spent, removed ones evicted)
    /// and answered as the topic's STEAK entry. A transaction seen before gets the same answer and changes nothing.
    /// </summary>
    public Task<AdmittanceInstructions> Admit(AdmitRequest request) => AdmitAsync(request, CancellationToken.None);

    /// <inheritdoc cref="Admit"/>
    internal async Task<AdmittanceInstructions> AdmitAsync(AdmitRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        Atomic.Overlay.ITopicManager manager = Manager;
        if (!Outpoints.IsTxId(request.TxId))
        {
            throw new ArgumentException("txid must be 64 hex characters", nameof(request));
        }

        string txid = request.TxId.ToLowerInvariant();
        ConditionalValue<AdmittanceInstructions> done = await StateManager.TryGetStateAsync<AdmittanceInstructions>(AdmissionPrefix + txid, cancellationToken).ConfigureAwait(false);
        if (done.HasValue)
        {
            return done.Value;
        }

        Beef beef = Beef.FromMemory(Convert.FromBase64String(request.Beef ?? throw new ArgumentException("beef is required", nameof(request))));
        Hash256 id = Hash256.FromDisplayHex(txid);
        Transaction tx = beef.Find(id)?.Transaction ?? throw new ArgumentException($"the BEEF does not hold transaction {txid}", nameof(request));

        var coins = new List<PreviousCoin>();
        var coinStates = new Dictionary<int, TopicOutputState>();
        for (int i = 0; i < tx.Inputs.Count; i++)
        {
            OutPoint spent = tx.Inputs[i].PrevOut;
            ConditionalValue<TopicOutputState> held = await StateManager.TryGetStateAsync<TopicOutputState>(OutputPrefix + Outpoints.Format(spent), cancellationToken).ConfigureAwait(false);
            if (held.HasValue && held.Value.SpentBy is null)
            {
                coins.Add(new PreviousCoin(i, spent, held.Value.ToTxOutput()));
                coinStates[i] = held.Value;
            }
        }

        TopicAdmission admission = manager.IdentifyAdmissibleOutputs(tx, coins);
        var admit = admission.OutputsToAdmit.Where(v => v >= 0 && v < tx.Outputs.Count).Distinct().Order().ToList();
        var retain = admission.CoinsToRetain.Where(coinStates.ContainsKey).Distinct().Order().ToList();
        var removed = admission.CoinsRemoved.Where(coinStates.ContainsKey).Distinct().Order().ToList();

        List<string> index = await IndexAsync(cancellationToken).ConfigureAwait(false);
        int indexCount = index.Count;
        bool keepSpent = _catalog.Lookups.Any(l => l.Topic == Topic && l.IncludesSpent);
        foreach ((int input, TopicOutputState coin) in coinStates)
        {
            string outpoint = Outpoints.Format(coin.TxId, coin.OutputIndex);
            if (removed.Contains(input) && !keepSpent)
            {
                await StateManager.RemoveStateAsync(OutputPrefix + outpoint, cancellationToken).ConfigureAwait(false);
                index.Remove(outpoint);
                await ReleaseBeefAsync(coin.TxId, coin.OutputIndex, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await StateManager.SetStateAsync(OutputPrefix + outpoint, coin with { SpentBy = txid }, cancellationToken).ConfigureAwait(false);
            }
        }

        var admitted = new List<uint>(admit.Count);
        foreach (int vout in admit)
        {
            string outpoint = Outpoints.Format(txid, (uint)vout);
            TxOutput output = tx.Outputs[vout];
            if (await StateManager.TryAddStateAsync(OutputPrefix + outpoint, new TopicOutputState(txid, (uint)vout, output.Satoshis, output.LockingScript.ToHex(), null), cancellationToken).ConfigureAwait(false))
            {
                index.Add(outpoint);
                admitted.Add((uint)vout);
            }
        }

        if (admitted.Count > 0)
        {
            string atomic = Convert.ToBase64String(beef.ToAtomicBytes(id));
            await StateManager.SetStateAsync(BeefPrefix + txid, new TopicBeefState(atomic, admitted), cancellationToken).ConfigureAwait(false);
        }

        if (index.Count != indexCount || removed.Count > 0)
        {
            await StateManager.SetStateAsync(IndexKey, index, cancellationToken).ConfigureAwait(false);
        }

        var instructions = new AdmittanceInstructions(admit, retain, removed);
        await StateManager.SetStateAsync(AdmissionPrefix + txid, instructions, cancellationToken).ConfigureAwait(false);
        if (removed.Count > 0 && _observers.Any(o => o.Observes(Topic)))
        {
            // The notice is saved with the admission, and the reminder registered before either: killed after the save,
            // the reminder still gives the notice; an observer that throws gets it again at the next reminder.
            await RegisterReminderAsync(NoticeReminder, null, _options.ObserverRetry, _options.ObserverRetry).ConfigureAwait(false);
            var notice = new TopicNotice(tx.ToHex(), [.. removed.Select(input => new TopicNoticeCoin(input, coinStates[input]))]);
            await StateManager.SetStateAsync(NoticePrefix + txid, notice, cancellationToken).ConfigureAwait(false);
            List<string> notices = await NoticesAsync(cancellationToken).ConfigureAwait(false);
            notices.Add(txid);
            await StateManager.SetStateAsync(NoticesKey, notices, cancellationToken).ConfigureAwait(false);
            await StateManager.SaveStateAsync(cancellationToken).ConfigureAwait(false);
            await GiveNoticesAsync(cancellationToken).ConfigureAwait(false);
        }

        Telemetry.TopicAdmissions.Add(1, new TagList { { "topic", Topic }, { "outcome", admit.Count > 0 ? "admitted" : "none" } });
        return instructions;
    }

    /// <summary>The reminder <c>observers</c>: the notices not yet taken are given again.</summary>
    public Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period) =>
        reminderName == NoticeReminder ? GiveNoticesAsync(CancellationToken.None) : Task.CompletedTask;

    /// <summary>
    /// Gives every pending notice to the topic's observers; a notice every observer took is deleted, and with none left
    /// the reminder goes. An observer that throws is logged and keeps its notice pending.
    /// </summary>
    private async Task GiveNoticesAsync(CancellationToken cancellationToken)
    {
        List<string> pending = await NoticesAsync(cancellationToken).ConfigureAwait(false);
        var left = new List<string>(pending.Count);
        foreach (string txid in pending)
        {
            ConditionalValue<TopicNotice> notice = await StateManager.TryGetStateAsync<TopicNotice>(NoticePrefix + txid, cancellationToken).ConfigureAwait(false);
            if (!notice.HasValue)
            {
                continue;
            }

            (Transaction tx, List<PreviousCoin> spent) = notice.Value.Read();
            bool taken = true;
            foreach (ITopicAdmissionObserver observer in _observers)
            {
                if (!observer.Observes(Topic))
                {
                    continue;
                }

                try
                {
                    await observer.CoinsRemovedAsync(Topic, tx, spent, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    taken = false;
                    LogNoticeRefused(Logger, e, Topic, txid, observer.GetType().Name);
                }
            }

            if (taken)
            {
                await StateManager.RemoveStateAsync(NoticePrefix + txid, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                left.Add(txid);
            }
        }

        if (left.Count == pending.Count && pending.Count > 0)
        {
            return; // nothing taken: nothing to save, the reminder stays
        }

        if (left.Count > 0)
        {
            await StateManager.SetStateAsync(NoticesKey, left, cancellationToken).ConfigureAwait(false);
            await StateManager.SaveStateAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        await StateManager.TryRemoveStateAsync(NoticesKey, cancellationToken).ConfigureAwait(false);
        await StateManager.SaveStateAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await UnregisterReminderAsync(NoticeReminder).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Not registered (an earlier turn removed it), or the sidecar is down: the next firing finds nothing and tries again.
            LogReminderKept(Logger, e, Topic);
        }
    }

    private async Task<List<string>> NoticesAsync(CancellationToken cancellationToken)
    {
        ConditionalValue<List<string>> notices = await StateManager.TryGetStateAsync<List<string>>(NoticesKey, cancellationToken).ConfigureAwait(false);
        return notices.HasValue ? notices.Value : [];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Topic {Topic}: {Observer} did not take the spend {TxId}; it is given again at the next reminder")]
    private static partial void LogNoticeRefused(ILogger logger, Exception exception, string topic, string txId, string observer);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Topic {Topic}: the observers' reminder could not be removed now")]
    private static partial void LogReminderKept(ILogger logger, Exception exception, string topic);

    /// <summary>
    /// Answers a lookup: the held outputs the service matches (spent ones only when the service reports them), oldest
    /// first, at most <see cref="LookupRequest.Limit"/> (bounded by <see cref="OverlayOptions.MaxResults"/>), each with its
    /// transaction's Atomic BEEF. A query the service cannot read is a <see cref="LookupQueryException"/>.
    /// </summary>
    public Task<LookupResult> Lookup(LookupRequest request) => LookupAsync(request, CancellationToken.None);

    /// <inheritdoc cref="Lookup"/>
    internal async Task<LookupResult> LookupAsync(LookupRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ILookupService service = _catalog.Lookup(request.Service) is { } s && s.Topic == Topic
            ? s
            : throw new LookupQueryException(request.Service, $"not a lookup service of topic {Topic}");
        int limit = Math.Clamp(request.Limit ?? _options.MaxResults, 1, _options.MaxResults);

        // The query is judged once up front, so a malformed one is refused even when the topic holds nothing.
        _ = service.Matches(request.Query, new AdmittedOutput(Topic, default, new TxOutput(0, Script.Empty)));

        var outputs = new List<LookupOutput>();
        var beefs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string outpoint in await IndexAsync(cancellationToken).ConfigureAwait(false))
        {
            if (outputs.Count == limit)
            {
                break;
            }

            ConditionalValue<TopicOutputState> held = await StateManager.TryGetStateAsync<TopicOutputState>(OutputPrefix + outpoint, cancellationToken).ConfigureAwait(false);
            if (!held.HasValue || (held.Value.SpentBy is not null && !service.IncludesSpent))
            {
                continue;
            }

            TopicOutputState o = held.Value;
            var admitted = new AdmittedOutput(Topic, new OutPoint(Hash256.FromDisplayHex(o.TxId), o.OutputIndex), o.ToTxOutput(), o.SpentBy);
            if (!service.Matches(request.Query, admitted))
            {
                continue;
            }

            if (!beefs.TryGetValue(o.TxId, out string? beef))
            {
                beef = (await StateManager.GetStateAsync<TopicBeefState>(BeefPrefix + o.TxId, cancellationToken).ConfigureAwait(false)).Beef;
                beefs[o.TxId] = beef;
            }

            outputs.Add(new LookupOutput(o.TxId, (int)o.OutputIndex, beef, o.SpentBy));
        }

        return new LookupResult(outputs);
    }

    /// <summary>Everything the topic holds, spent or not: its index as stored, each output it names, and their BEEFs.</summary>
    public async Task<TopicHoldings> Holdings()
    {
        List<string> index = await IndexAsync(CancellationToken.None).ConfigureAwait(false);
        var outputs = new List<HeldOutput>(index.Count);
        foreach (string outpoint in index.Distinct(StringComparer.Ordinal))
        {
            ConditionalValue<TopicOutputState> held = await StateManager.TryGetStateAsync<TopicOutputState>(OutputPrefix + outpoint).ConfigureAwait(false);
            if (held.HasValue)
            {
                TopicOutputState o = held.Value;
                outputs.Add(new HeldOutput(o.TxId, o.OutputIndex, o.Satoshis, o.LockingScript, o.SpentBy));
            }
        }

        var beefs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string txid in outputs.Select(o => o.TxId).Distinct(StringComparer.Ordinal))
        {
            ConditionalValue<TopicBeefState> kept = await StateManager.TryGetStateAsync<TopicBeefState>(BeefPrefix + txid).ConfigureAwait(false);
            if (kept.HasValue)
            {
                beefs[txid] = kept.Value.Beef;
            }
        }

        return new TopicHoldings(index, outputs, beefs);
    }

    private async Task<List<string>> IndexAsync(CancellationToken cancellationToken)
    {
        ConditionalValue<List<string>> index = await StateManager.TryGetStateAsync<List<string>>(IndexKey, cancellationToken).ConfigureAwait(false);
        return index.HasValue ? index.Value : [];
    }

    /// <summary>Forgets output <paramref name="vout"/> of <paramref name="txid"/>'s BEEF; the BEEF goes with its last output.</summary>
    private async Task ReleaseBeefAsync(string txid, uint vout, CancellationToken cancellationToken)
    {
        ConditionalValue<TopicBeefState> kept = await StateManager.TryGetStateAsync<TopicBeefState>(BeefPrefix + txid, cancellationToken).ConfigureAwait(false);
        if (!kept.HasValue)
        {
            return;
        }

        var outputs = kept.Value.Outputs.Where(v => v != vout).ToList();
        if (outputs.Count == 0)
        {
            await StateManager.RemoveStateAsync(BeefPrefix + txid, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await StateManager.SetStateAsync(BeefPrefix + txid, kept.Value with { Outputs = outputs }, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>An output a topic holds: <c>spentBy</c> is the spending txid once spent.</summary>
internal sealed record TopicOutputState(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("vout")] uint OutputIndex,
    [property: JsonPropertyName("satoshis")] ulong Satoshis,
    [property: JsonPropertyName("lockingScript")] string LockingScript,
    [property: JsonPropertyName("spentBy")] string? SpentBy)
{
    public TxOutput ToTxOutput() => new(Satoshis, Script.FromHex(LockingScript));
}

/// <summary>The Atomic BEEF (base64) of a transaction some of whose outputs the topic holds, and which ones.</summary>
internal sealed record TopicBeefState(
    [property: JsonPropertyName("beef")] string Beef,
    [property: JsonPropertyName("outputs")] IReadOnlyList<uint> Outputs);

/// <summary>A spend a topic's observers have not all taken yet: the transaction and the coins it removed, as the topic held them.</summary>
internal sealed record TopicNotice(
    [property: JsonPropertyName("rawTx")] string RawTx,
    [property: JsonPropertyName("coins")] List<TopicNoticeCoin> Coins)
{
    public (Transaction Tx, List<PreviousCoin> Spent) Read()
    {
        var spent = new List<PreviousCoin>(Coins.Count);
        foreach (TopicNoticeCoin c in Coins)
        {
            spent.Add(new PreviousCoin(c.InputIndex, new OutPoint(Hash256.FromDisplayHex(c.Coin.TxId), c.Coin.OutputIndex), c.Coin.ToTxOutput()));
        }

        return (Transaction.FromHex(RawTx), spent);
    }
}

/// <summary>One coin of a <see cref="TopicNotice"/>: the input that spent it and its state in the topic.</summary>
internal sealed record TopicNoticeCoin(
    [property: JsonPropertyName("input")] int InputIndex,
    [property: JsonPropertyName("coin")] TopicOutputState Coin);
