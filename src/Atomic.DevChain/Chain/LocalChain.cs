using System.Globalization;
using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.DevChain.Chain;

/// <summary>
/// A real local BSV chain: a UTXO set and mempool that accept transactions only after full validation (our script
/// interpreter under the standard flags, no overspend, the policy's mining fee, coinbase maturity, the node's finality
/// rule for lock times, first-seen double-spend protection), blocks mined on demand with real headers and BRC-74
/// merkle paths, a faucet, and ARC callbacks queued for delivery. Every change is committed to a
/// <see cref="ChainStore"/> before it is visible, so the chain restarts where it stopped. All members are
/// thread-safe (one operation at a time).
/// </summary>
public sealed class LocalChain : IDisposable
{
    private static readonly byte[] CoinbaseTag = "atomic-devchain"u8.ToArray();

    private readonly object _gate = new();
    private readonly ChainStore _store;
    private readonly DevChainOptions _options;
    private readonly TimeProvider _time;
    private readonly PrivateKey _devKey;
    private readonly byte[] _devScript;
    private bool _disposed;

    /// <summary>At most this many submissions go in one commit of <see cref="SubmitAsync"/>.</summary>
    private const int MaxSubmitBatch = 128;

    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingSubmit> _submits = new();
    private int _submitting;

    /// <summary>Whether a callback was queued since <see cref="TakeCallbacksQueued"/> was last called (under the lock).</summary>
    private bool _callbacksQueued;

    /// <summary>The tip the last median time past was computed for, and that median (under the lock).</summary>
    private (Hash256 Tip, uint Median)? _medianTimePast;

    private LocalChain(ChainStore store, DevChainOptions options, TimeProvider time)
    {
        _store = store;
        _options = options;
        _time = time;
        _devKey = PrivateKey.FromHex(options.DevKey);
        _devScript = P2pkh.LockingScript(_devKey.PublicKey).ToBytes();
    }

    /// <summary>Raised after a change queued callbacks for delivery (outside the chain's lock).</summary>
    public event Action? CallbacksQueued;

    public DevChainOptions Options => _options;

    /// <summary>The key every coinbase pays and the faucet spends (well known unless configured).</summary>
    public PrivateKey DevKey => _devKey;

    /// <summary>
    /// Opens the chain stored at <paramref name="options"/>' data path (in memory when none), creating it when new:
    /// a genesis block whose coinbase pays <see cref="DevChainOptions.GenesisSatoshis"/> to the dev key, then enough
    /// empty blocks for that coinbase to mature, so the faucet works at once. A relative data path is taken from
    /// <paramref name="baseDirectory"/> (default: the current directory).
    /// </summary>
    public static LocalChain Open(DevChainOptions options, TimeProvider? time = null, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        string? path = null;
        if (!options.IsInMemory)
        {
            path = Path.GetFullPath(options.DataPath!.Trim(), Path.GetFullPath(baseDirectory ?? Environment.CurrentDirectory));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }

        ChainStore store = ChainStore.Open(path);
        try
        {
            var chain = new LocalChain(store, options, time ?? TimeProvider.System);
            chain.EnsureGenesis();
            return chain;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    // ---- queries

    public BlockRecord Tip
    {
        get
        {
            lock (_gate)
            {
                return _store.Tip()!;
            }
        }
    }

    public BlockRecord? BlockAt(uint height)
    {
        lock (_gate)
        {
            return _store.BlockAt(height);
        }
    }

    public BlockRecord? BlockByHash(Hash256 hash)
    {
        lock (_gate)
        {
            return _store.BlockByHash(hash);
        }
    }

    /// <summary>Up to <paramref name="count"/> blocks from <paramref name="height"/> up.</summary>
    public IReadOnlyList<BlockRecord> Blocks(uint height, int count)
    {
        lock (_gate)
        {
            return _store.Blocks(height, count);
        }
    }

    /// <summary>The txids of the block at <paramref name="height"/>, coinbase first.</summary>
    public IReadOnlyList<Hash256> BlockTxids(uint height)
    {
        lock (_gate)
        {
            return _store.BlockTxids(height);
        }
    }

    public TxRecord? GetTransaction(Hash256 txid)
    {
        TxRecord? record;
        bool queued;
        lock (_gate)
        {
            ExpireOrphans();
            record = _store.GetTx(txid);
            queued = TakeCallbacksQueued();
        }

        if (queued)
        {
            RaiseCallbacksQueued();
        }

        return record;
    }

    public Transaction? GetRawTransaction(Hash256 txid)
    {
        lock (_gate)
        {
            return _store.GetRaw(txid) is byte[] raw ? Transaction.FromBytes(raw) : null;
        }
    }

    /// <summary>True when <paramref name="root"/> is the merkle root of this chain's block at <paramref name="height"/>.</summary>
    public bool IsValidRoot(Hash256 root, uint height)
    {
        lock (_gate)
        {
            return _store.BlockAt(height)?.Header.MerkleRoot == root;
        }
    }

    public int MempoolCount
    {
        get
        {
            lock (_gate)
            {
                return _store.MempoolCount();
            }
        }
    }

    /// <summary>The unspent outputs, mempool outputs included.</summary>
    public int UnspentCount
    {
        get
        {
            lock (_gate)
            {
                return _store.UnspentCount();
            }
        }
    }

    /// <summary>The output at <paramref name="outPoint"/> if the chain created it and nobody spent it yet (mempool included).</summary>
    public TxOutput? GetUnspentOutput(OutPoint outPoint)
    {
        lock (_gate)
        {
            StoredOutput? output = _store.GetOutput(outPoint);
            return output is { SpentBy: null } ? output.ToTxOutput() : null;
        }
    }

    // ---- submitting

    public SubmitResult Submit(Transaction tx, SubmitOptions? options = null) => Submit(new RawPayload(tx), options);

    /// <summary>
    /// Validates and accepts a transaction into the mempool; a BEEF's unproven ancestors are accepted first (each when
    /// valid), its proven ones must be in this chain. An Extended Format transaction whose parent the chain has not seen
    /// is held in the orphan mempool (<c>SEEN_IN_ORPHAN_MEMPOOL</c>) until that parent is accepted. A transaction the
    /// chain already knows answers its current status, and registers the callback if one is given.
    /// </summary>
    public SubmitResult Submit(TxPayload payload, SubmitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        options ??= SubmitOptions.Default;
        SubmitResult result;
        bool queued;
        lock (_gate)
        {
            ThrowIfDisposed();
            ExpireOrphans();
            result = SubmitLocked(payload, options);
            queued = TakeCallbacksQueued();
        }

        if (queued)
        {
            RaiseCallbacksQueued();
        }

        return result;
    }

    /// <summary>
    /// <see cref="Submit(TxPayload, SubmitOptions?)"/>, committed in one SQL transaction with the submissions made at
    /// the same time (ARC's <c>POST /v1/tx</c> from concurrent clients): each is judged in turn, seeing the ones before
    /// it, under a savepoint of its own, and every answer waits for the commit. A commit costs about as much for one
    /// transaction as for ten (its WAL frames hold the pages they share once).
    /// </summary>
    public Task<SubmitResult> SubmitAsync(TxPayload payload, SubmitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var pending = new PendingSubmit(payload, options ?? SubmitOptions.Default);
        _submits.Enqueue(pending);
        if (Interlocked.CompareExchange(ref _submitting, 1, 0) == 0)
        {
            // At the back of the thread pool's global queue: the requests queued before it bring the rest of the batch.
            ThreadPool.UnsafeQueueUserWorkItem(static chain => chain.DrainSubmits(), this, preferLocal: false);
        }

        return pending.Done.Task;
    }

    private void DrainSubmits()
    {
        var batch = new List<PendingSubmit>(MaxSubmitBatch);
        while (true)
        {
            while (!_submits.IsEmpty)
            {
                batch.Clear();
                while (batch.Count < MaxSubmitBatch && _submits.TryDequeue(out PendingSubmit? pending))
                {
                    batch.Add(pending);
                }

                SubmitAll(batch);
            }

            Volatile.Write(ref _submitting, 0);
            if (_submits.IsEmpty || Interlocked.CompareExchange(ref _submitting, 1, 0) != 0)
            {
                return; // nothing left, or another drain took over
            }
        }
    }

    /// <summary>One SQL transaction for the batch; a submission that throws undoes only its own changes and fails alone.</summary>
    private void SubmitAll(List<PendingSubmit> batch)
    {
        var outcomes = new (SubmitResult? Result, Exception? Error)[batch.Count];
        bool queued;
        try
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                ExpireOrphans();
                _store.InTransaction(() =>
                {
                    for (int i = 0; i < batch.Count; i++)
                    {
                        PendingSubmit pending = batch[i];
                        try
                        {
                            outcomes[i] = (_store.InSavepoint(() => SubmitLocked(pending.Payload, pending.Options)), null);
                        }
                        catch (Exception e) when (_store.InOpenTransaction) // else the error took the whole batch with it
                        {
                            outcomes[i] = (null, e);
                        }
                    }
                });
                queued = TakeCallbacksQueued();
            }
        }
        catch (Exception e)
        {
            // Nothing of the batch was committed: every submission of it fails.
            foreach (PendingSubmit pending in batch)
            {
                pending.Done.TrySetException(e);
            }

            return;
        }

        for (int i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Error is Exception error)
            {
                batch[i].Done.TrySetException(error);
            }
            else
            {
                batch[i].Done.TrySetResult(outcomes[i].Result!);
            }
        }

        if (queued)
        {
            try
            {
                RaiseCallbacksQueued();
            }
            catch (Exception)
            {
                // This runs as a pool work item, where an exception would end the process. The answers are given, and
                // a dispatcher that missed its wake-up finds the callbacks at its next poll.
            }
        }
    }

    /// <summary>Judges one submission (under the lock, inside a transaction or not).</summary>
    private SubmitResult SubmitLocked(TxPayload payload, SubmitOptions options) => payload switch
    {
        RawPayload raw => Accept(raw.Transaction, InputSource.Raw, options),
        ExtendedPayload ef => Accept(ef.Extended.Transaction, InputSource.Extended, options),
        BeefPayload beef => AcceptBeef(beef.Beef, options),
        _ => throw new ArgumentException($"unknown payload {payload.GetType().Name}", nameof(payload)),
    };

    private sealed record PendingSubmit(TxPayload Payload, SubmitOptions Options)
    {
        public TaskCompletionSource<SubmitResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private enum InputSource
    {
        Raw,
        Extended,
        Beef,

        /// <summary>A held orphan judged again once its parent was accepted: like <see cref="Extended"/>.</summary>
        Orphan,
    }

    private SubmitResult AcceptBeef(Beef beef, SubmitOptions options)
    {
        if (beef.SubjectTxId is not Hash256 subject)
        {
            return SubmitResult.Rejected(ArcStatus.Malformed, null, ReasonCodes.BeefMalformed, "the BEEF holds no transaction");
        }

        if (_store.GetTx(subject) is TxRecord known && !IsJudgedAgain(known))
        {
            return Known(known, options);
        }

        Beef ancestry;
        try
        {
            ValidateBeefStructure(beef);
            beef.SortTopologically();
            ancestry = beef.AncestryOf(subject);
            if (beef.IsAtomic && ancestry.Transactions.Count != beef.Transactions.Count)
            {
                return SubmitResult.Rejected(ArcStatus.Malformed, subject, ReasonCodes.BeefNotAtomic, $"the Atomic BEEF holds transactions that are not ancestors of its subject {subject}");
            }
        }
        catch (BsvFormatException e)
        {
            int status = e.Code == ReasonCodes.BeefBadBumpIndex ? ArcStatus.CalculatingMerkleRoots : ArcStatus.Malformed;
            return SubmitResult.Rejected(status, subject, e.Code, e.Reason);
        }

        SubmitResult? subjectResult = null;
        foreach (BeefTx entry in ancestry.Transactions)
        {
            if (entry.BumpIndex is int b)
            {
                MerklePath bump = ancestry.Bumps[b];
                Hash256 root = bump.ComputeRoot(entry.TxId);
                if (_store.BlockAt(bump.BlockHeight)?.Header.MerkleRoot != root)
                {
                    return SubmitResult.Rejected(ArcStatus.ValidatingMerkleRoots, subject, ReasonCodes.SpvRootUnknown,
                        $"merkle root {root} of transaction {entry.TxId} is not the root of block {bump.BlockHeight} of this chain");
                }

                continue;
            }

            bool isSubject = entry.TxId == subject;
            if (entry.IsTxIdOnly)
            {
                if (!_store.HasTx(entry.TxId))
                {
                    return SubmitResult.Rejected(ArcStatus.MinedAncestorsNotFound, subject, ReasonCodes.BeefMissingInput,
                        $"transaction {entry.TxId} is given by txid only and this chain does not know it");
                }

                continue;
            }

            if (!isSubject && _store.GetTx(entry.TxId) is TxRecord ancestor && !IsJudgedAgain(ancestor))
            {
                continue;
            }

            SubmitResult result = Accept(entry.Transaction!, InputSource.Beef, isSubject ? options : options with { Callback = null });
            if (isSubject)
            {
                subjectResult = result;
            }
            else if (result.IsRejectedByNode && ancestry.Find(subject)?.Transaction is Transaction subjectTx)
            {
                // The node would hold the subject as an orphan of a parent it refused: rejected, as SettleOrphans does.
                return RejectByNode(subjectTx, result.Code!, $"its ancestor {entry.TxId} was rejected: {result.Detail}", options);
            }
            else if (!result.IsAccepted)
            {
                return result with { TxId = subject, Detail = $"ancestor {entry.TxId}: {result.Detail}" };
            }
        }

        if (subjectResult is not null)
        {
            return subjectResult;
        }

        // A proven subject: its BUMP leads to one of this chain's roots, so the chain holds it.
        return _store.GetTx(subject) is TxRecord mined
            ? Known(mined, options)
            : SubmitResult.Rejected(ArcStatus.MinedAncestorsNotFound, subject, ReasonCodes.BeefMissingInput, $"transaction {subject} is proven but not known to this chain");
    }

    /// <summary>The structure checks of <see cref="Beef.Validate"/> but for inputs missing from the BEEF, which the chain may hold.</summary>
    private static void ValidateBeefStructure(Beef beef)
    {
        try
        {
            beef.Validate(allowTxIdOnly: true);
        }
        catch (BsvFormatException e) when (e.Code == ReasonCodes.BeefMissingInput)
        {
            // Resolved against the chain when the transaction is accepted.
        }
    }

    private SubmitResult Known(TxRecord record, SubmitOptions options)
    {
        if (options.Callback is CallbackRegistration callback)
        {
            _store.AddCallback(record.TxId, callback);
        }

        return record.Status is TxStatus.DoubleSpendAttempted or TxStatus.Rejected ? Conflict(record) : SubmitResult.Accepted(record);
    }

    private static SubmitResult Conflict(TxRecord record) => new(
        ArcStatus.Conflict, record.TxId, record, ReasonCodes.DoubleSpend,
        record.ExtraInfo.Length > 0 ? record.ExtraInfo : "double spend attempted", record.CompetingTxs);

    /// <summary>
    /// A transaction refused after it was held as an orphan (its parent never arrived) is judged anew when submitted
    /// again, since the parent may be there now; a refused double spend stays refused.
    /// </summary>
    private static bool IsJudgedAgain(TxRecord record) => record is { Status: TxStatus.Rejected, CompetingTxs.Count: 0 };

    /// <summary>Judges one transaction, then every orphan that waited for it (<see cref="SettleOrphans"/>).</summary>
    private SubmitResult Accept(Transaction tx, InputSource source, SubmitOptions options)
    {
        SubmitResult result = AcceptOne(tx, source, options);
        if (_store.HasOrphansOf(tx.Id))
        {
            SettleOrphans(tx.Id);
        }

        return result;
    }

    private SubmitResult AcceptOne(Transaction tx, InputSource source, SubmitOptions options)
    {
        Hash256 txid = tx.Id;
        if (_store.GetTx(txid) is TxRecord known)
        {
            if (!IsJudgedAgain(known))
            {
                return Known(known, options);
            }

            _store.ReleaseOrphan(txid, deleteTx: true);
        }

        SubmitResult? policy = CheckPolicy(tx);
        if (policy is not null)
        {
            return policy;
        }

        // The node's mempool check, before it looks at inputs (so a non-final orphan is refused, not held): final in
        // the next block at tip + 1, time locks measured against the tip's median time past (BIP113).
        BlockRecord tip = _store.Tip()!;
        uint nextHeight = tip.Height + 1;
        uint medianTimePast = MedianTimePast(tip);
        if (!IsFinal(tx, nextHeight, medianTimePast))
        {
            return RejectByNode(tx, DevChainCodes.TxNonFinal, NonFinalReason(tx, nextHeight, medianTimePast), options);
        }

        var sources = new TxOutput[tx.Inputs.Count];
        var competing = new List<Hash256>();
        UInt128 totalIn = 0;
        for (int i = 0; i < sources.Length; i++)
        {
            OutPoint prev = tx.Inputs[i].PrevOut;
            StoredOutput? output = _store.GetOutput(prev);
            if (output is null)
            {
                return source is InputSource.Extended or InputSource.Orphan && _store.GetTx(prev.TxId) is null or { Status: TxStatus.SeenInOrphanMempool }
                    ? HoldOrphan(tx, i, options)
                    : UnknownInput(tx, i, source);
            }

            if (output.Coinbase && nextHeight - output.Height!.Value < (uint)_options.CoinbaseMaturity)
            {
                return SubmitResult.Rejected(ArcStatus.Inputs, txid, ReasonCodes.SpvCoinbaseImmature,
                    $"input {i} spends coinbase {prev.TxId} mined at {output.Height}, {nextHeight - output.Height} of {_options.CoinbaseMaturity} confirmations at height {nextHeight}");
            }

            if (output.SpentBy is Hash256 spender && !competing.Contains(spender))
            {
                competing.Add(spender);
            }

            sources[i] = output.ToTxOutput();
            totalIn += output.Satoshis;
        }

        UInt128 totalOut = 0;
        foreach (TxOutput o in tx.Outputs)
        {
            totalOut += o.Satoshis;
        }

        if (totalOut > totalIn)
        {
            return SubmitResult.Rejected(ArcStatus.Fees, txid, ReasonCodes.Overspend, $"outputs of {totalOut} satoshis exceed inputs of {totalIn}");
        }

        ulong fee = (ulong)(totalIn - totalOut);
        ulong required = RequiredFee(tx.Size);
        if (!options.SkipFeeValidation && fee < required)
        {
            return SubmitResult.Rejected(ArcStatus.Fees, txid, ReasonCodes.FeeTooLow,
                $"transaction fee is too low: minimum expected fee {required}, actual fee {fee} ({tx.Size} bytes at {_options.MiningFeeSatoshis} satoshis per {_options.MiningFeeBytes} bytes)");
        }

        var cache = new SigHashCache(tx);
        for (int i = 0; i < sources.Length; i++)
        {
            // The process's signature cache: a transaction that SPV in this process has just verified is checked by every
            // rule again, but its ECDSA verifications are remembered, as a node's are between mempool and block.
            ScriptResult script = Spend.Validate(tx, i, sources[i], StandardScriptFlags.For(tx.Version), cache, signatures: SignatureCache.Shared);
            if (!script.IsSuccess)
            {
                return SubmitResult.Rejected(ArcStatus.UnlockingScripts, txid, ReasonCodes.ScriptFailed, $"input {i}: {script}");
            }
        }

        DateTimeOffset now = _time.GetUtcNow();
        if (competing.Count > 0)
        {
            string reason = $"double spend attempted: an input is already spent by {string.Join(", ", competing)}";
            _store.InTransaction(() =>
            {
                _store.InsertTx(tx, TxStatus.DoubleSpendAttempted, fee, reason, competing, now);
                Register(txid, options, notify: true, now);
            });
            return Conflict(_store.GetTx(txid)!);
        }

        _store.InTransaction(() =>
        {
            _store.InsertTx(tx, TxStatus.SeenOnNetwork, fee, string.Empty, [], now);
            foreach (TxInput input in tx.Inputs)
            {
                _store.Spend(input.PrevOut, txid);
            }

            _store.InsertOutputs(tx, height: null);
            Register(txid, options, notify: options.Callback?.FullStatusUpdates == true, now);
        });

        // The row just written, as GetTx would read it back (times are kept to the millisecond).
        return SubmitResult.Accepted(new TxRecord(txid, TxStatus.SeenOnNetwork, null, null, null, string.Empty, [], DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds())));
    }

    /// <summary>
    /// Keeps a transaction whose input <paramref name="input"/> spends a transaction this chain has not seen, as ARC's
    /// orphan mempool does: answered <c>SEEN_IN_ORPHAN_MEMPOOL</c>, never mined, judged again when that parent is
    /// accepted, refused when the parent is refused or has not arrived within <see cref="DevChainOptions.OrphanExpiry"/>.
    /// </summary>
    private SubmitResult HoldOrphan(Transaction tx, int input, SubmitOptions options)
    {
        Hash256 txid = tx.Id;
        OutPoint prev = tx.Inputs[input].PrevOut;
        DateTimeOffset now = _time.GetUtcNow();
        _store.InTransaction(() =>
        {
            _store.InsertTx(tx, TxStatus.SeenInOrphanMempool, 0, $"input {input} spends {prev}, whose transaction this chain has not seen yet", [], now);
            _store.AddOrphanParent(prev.TxId, txid);
            Register(txid, options, notify: options.Callback?.FullStatusUpdates == true, now);
        });
        return SubmitResult.Accepted(_store.GetTx(txid)!);
    }

    /// <summary>
    /// Refuses a transaction for a rule ARC leaves to the node, and answers as ARC relays the node's rejection: the
    /// transaction is recorded <c>REJECTED</c> with the reason in <c>extraInfo</c> (so <c>GET /v1/tx/{txid}</c> reports
    /// it), callbacks hear of it, and it is judged anew when submitted again (<see cref="IsJudgedAgain"/>).
    /// </summary>
    private SubmitResult RejectByNode(Transaction tx, string code, string reason, SubmitOptions options)
    {
        Hash256 txid = tx.Id;
        DateTimeOffset now = _time.GetUtcNow();
        _store.InTransaction(() =>
        {
            _store.ReleaseOrphan(txid, deleteTx: true);
            _store.InsertTx(tx, TxStatus.Rejected, 0, reason, [], now);
            if (options.Callback is CallbackRegistration callback)
            {
                _store.AddCallback(txid, callback);
            }

            Notify(txid, now);
        });
        return SubmitResult.RejectedByNode(_store.GetTx(txid)!, code);
    }

    /// <summary>
    /// After <paramref name="parent"/> was judged: its orphans are judged again when it was accepted, refused when it was
    /// refused (a double spend), and their own orphans in turn. Each orphan settles in one SQL transaction.
    /// </summary>
    private void SettleOrphans(Hash256 parent)
    {
        var judged = new Queue<Hash256>();
        judged.Enqueue(parent);
        while (judged.TryDequeue(out Hash256 next))
        {
            TxStatus? status = _store.GetTx(next)?.Status;
            if (status is not (TxStatus.SeenOnNetwork or TxStatus.Mined or TxStatus.DoubleSpendAttempted or TxStatus.Rejected))
            {
                continue; // still an orphan itself, or refused without a record: its orphans wait on
            }

            foreach (Transaction orphan in _store.OrphansOf(next))
            {
                Hash256 txid = orphan.Id;
                _store.InTransaction(() =>
                {
                    DateTimeOffset now = _time.GetUtcNow();
                    if (status is TxStatus.DoubleSpendAttempted or TxStatus.Rejected)
                    {
                        _store.ReleaseOrphan(txid, deleteTx: false);
                        _store.SetStatus(txid, TxStatus.Rejected, $"its parent {next} was not accepted ({status.Value.ToArc()})", now);
                        Notify(txid, now);
                        return;
                    }

                    _store.ReleaseOrphan(txid, deleteTx: true);
                    SubmitResult result = AcceptOne(orphan, InputSource.Orphan, SubmitOptions.Default);
                    if (result.Record is null)
                    {
                        _store.InsertTx(orphan, TxStatus.Rejected, 0, $"{result.Code}: {result.Detail}", [], now);
                        Notify(txid, now);
                    }
                    else if (result.Record.Status is TxStatus.SeenOnNetwork)
                    {
                        Notify(txid, now, fullStatusOnly: true);
                    }
                    else if (result.Record.Status is TxStatus.DoubleSpendAttempted)
                    {
                        Notify(txid, now);
                    }
                });
                judged.Enqueue(txid);
            }
        }
    }

    /// <summary>Refuses every orphan held longer than <see cref="DevChainOptions.OrphanExpiry"/>.</summary>
    private void ExpireOrphans()
    {
        if (_disposed)
        {
            return;
        }

        DateTimeOffset now = _time.GetUtcNow();
        IReadOnlyList<Hash256> expired = _store.OrphansSince(now - _options.OrphanExpiry);
        foreach (Hash256 txid in expired)
        {
            _store.InTransaction(() =>
            {
                string waited = _store.GetTx(txid)?.ExtraInfo ?? string.Empty;
                _store.ReleaseOrphan(txid, deleteTx: false);
                _store.SetStatus(txid, TxStatus.Rejected, $"orphan expired: no parent arrived within {_options.OrphanExpiry}: {waited}", now);
                Notify(txid, now);
            });
            SettleOrphans(txid);
        }
    }

    private void Register(Hash256 txid, SubmitOptions options, bool notify, DateTimeOffset now)
    {
        if (options.Callback is not CallbackRegistration callback)
        {
            return;
        }

        _store.AddCallback(txid, callback);
        if (notify)
        {
            EnqueueCallback(callback, ArcCallback.From(_store.GetTx(txid)!, now).ToJson(), now);
        }
    }

    private SubmitResult UnknownInput(Transaction tx, int index, InputSource source)
    {
        OutPoint prev = tx.Inputs[index].PrevOut;
        if (_store.GetTx(prev.TxId) is TxRecord parent && parent.Status != TxStatus.SeenInOrphanMempool)
        {
            string why = parent.Status is TxStatus.DoubleSpendAttempted or TxStatus.Rejected
                ? $"whose transaction was not accepted ({parent.Status.ToArc()})"
                : "which that transaction does not have";
            return SubmitResult.Rejected(ArcStatus.Inputs, tx.Id, DevChainCodes.InputUnknown, $"input {index} spends {prev}, {why}");
        }

        string message = $"input {index} spends {prev}, whose transaction this chain does not know";
        return source switch
        {
            InputSource.Raw => SubmitResult.Rejected(ArcStatus.TxFormat, tx.Id, DevChainCodes.InputUnknown, message),
            InputSource.Extended or InputSource.Orphan => SubmitResult.Rejected(ArcStatus.Inputs, tx.Id, DevChainCodes.InputUnknown, message),
            _ => SubmitResult.Rejected(ArcStatus.MinedAncestorsNotFound, tx.Id, ReasonCodes.BeefMissingInput, message + " and the BEEF does not hold"),
        };
    }

    /// <summary>Context-free checks: structure, size limits and output policy.</summary>
    private SubmitResult? CheckPolicy(Transaction tx)
    {
        Hash256 txid = tx.Id;
        if (tx.IsCoinbase)
        {
            return SubmitResult.Rejected(ArcStatus.Inputs, txid, ReasonCodes.TxMalformed, "a coinbase transaction is not relayed");
        }

        string? structure = TransactionChecks.CheckStructure(tx);
        if (structure is not null)
        {
            int status = structure is "bad-txns-vin-empty" or "bad-txns-vout-empty" or "bad-txns-prevout-null" or "bad-txns-inputs-duplicate"
                ? ArcStatus.Inputs
                : ArcStatus.Outputs;
            return SubmitResult.Rejected(status, txid, ReasonCodes.TxMalformed, structure);
        }

        if (tx.Size > _options.MaxTxSizePolicy)
        {
            return SubmitResult.Rejected(ArcStatus.Malformed, txid, ReasonCodes.LimitExceeded, $"transaction of {tx.Size} bytes exceeds maxtxsizepolicy {_options.MaxTxSizePolicy}");
        }

        for (int i = 0; i < tx.Inputs.Count; i++)
        {
            if (tx.Inputs[i].UnlockingScript.Length > _options.MaxScriptSizePolicy)
            {
                return SubmitResult.Rejected(ArcStatus.Malformed, txid, ReasonCodes.LimitExceeded, $"unlocking script of input {i} exceeds maxscriptsizepolicy {_options.MaxScriptSizePolicy}");
            }
        }

        for (int i = 0; i < tx.Outputs.Count; i++)
        {
            TxOutput output = tx.Outputs[i];
            if (output.LockingScript.Length > _options.MaxScriptSizePolicy)
            {
                return SubmitResult.Rejected(ArcStatus.Malformed, txid, ReasonCodes.LimitExceeded, $"locking script of output {i} exceeds maxscriptsizepolicy {_options.MaxScriptSizePolicy}");
            }

            bool data = IsData(output.LockingScript.Span);
            if (!data && output.Satoshis == 0)
            {
                return SubmitResult.Rejected(ArcStatus.Outputs, txid, DevChainCodes.OutputInvalid, $"output {i} has no satoshis and is not a data output");
            }

            if (data && output.Satoshis != 0)
            {
                return SubmitResult.Rejected(ArcStatus.Outputs, txid, DevChainCodes.OutputInvalid, $"data output {i} carries {output.Satoshis} satoshis");
            }
        }

        return null;
    }

    /// <summary>OP_RETURN or OP_FALSE OP_RETURN: an unspendable data output.</summary>
    private static bool IsData(ReadOnlySpan<byte> script) =>
        (script.Length > 0 && script[0] == (byte)OpCode.OP_RETURN)
        || (script.Length > 1 && script[0] == (byte)OpCode.OP_0 && script[1] == (byte)OpCode.OP_RETURN);

    /// <summary>Below this a lock time is a block height, from it on a Unix time (the node's <c>LOCKTIME_THRESHOLD</c>).</summary>
    private const uint LockTimeThreshold = 500_000_000;

    /// <summary>
    /// The node's <c>IsFinalTx(tx, nBlockHeight, nBlockTime)</c>: no lock time, a lock time below the block's height or
    /// time, or every input final (sequence <c>0xffffffff</c>).
    /// </summary>
    private static bool IsFinal(Transaction tx, uint height, uint time)
    {
        if (tx.LockTime == 0 || tx.LockTime < (tx.LockTime < LockTimeThreshold ? height : time))
        {
            return true;
        }

        return tx.Inputs.All(i => i.Sequence == TxInput.FinalSequence);
    }

    /// <summary>The node's reject reason, as ARC words a node's rejection, then which lock and which input.</summary>
    private static string NonFinalReason(Transaction tx, uint height, uint medianTimePast)
    {
        string lockTime = tx.LockTime < LockTimeThreshold
            ? $"lock time {tx.LockTime} is a block height, not below {height}, the next block's"
            : $"lock time {tx.LockTime} ({Iso(tx.LockTime)}) is a time, not below {medianTimePast} ({Iso(medianTimePast)}), "
                + "the median time of the last 11 blocks";
        int input = 0;
        while (tx.Inputs[input].Sequence == TxInput.FinalSequence)
        {
            input++;
        }

        uint sequence = tx.Inputs[input].Sequence;
        return $"invalid transaction: bad-txns-nonfinal: {lockTime}, and input {input} has sequence {sequence:x8}, not final";

        static string Iso(uint seconds) =>
            DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The node's <c>GetMedianTimePast</c> of <paramref name="tip"/>: the median time of it and the ten blocks before it.
    /// A block's time is the dev chain's clock when it was mined (and always above its parent's).
    /// </summary>
    private uint MedianTimePast(BlockRecord tip)
    {
        if (_medianTimePast is ({ } known, uint cached) && known == tip.Hash)
        {
            return cached; // the same tip as the last transaction's: its eleven blocks have not changed
        }

        uint from = tip.Height >= 10 ? tip.Height - 10 : 0;
        uint[] times = _store.Blocks(from, 11).Select(b => b.Header.Time).Order().ToArray();
        uint median = times[times.Length / 2];
        _medianTimePast = (tip.Hash, median);
        return median;
    }

    /// <summary>The policy's fee for <paramref name="size"/> bytes, rounded up, as ARC's SatoshisPerKilobyte model computes it.</summary>
    public ulong RequiredFee(int size) =>
        _options.MiningFeeSatoshis == 0 ? 0 : (ulong)((((UInt128)(ulong)size * _options.MiningFeeSatoshis) + _options.MiningFeeBytes - 1) / _options.MiningFeeBytes);

    // ---- mining

    /// <summary>Mines <paramref name="count"/> blocks: the first takes the whole mempool, the others are empty.</summary>
    public IReadOnlyList<BlockRecord> Mine(int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var blocks = new List<BlockRecord>(count);
        bool queued;
        lock (_gate)
        {
            ThrowIfDisposed();
            ExpireOrphans();
            for (int i = 0; i < count; i++)
            {
                blocks.Add(_store.InTransaction(() => MineBlock(i == 0 ? _store.Mempool() : [])));
            }

            queued = TakeCallbacksQueued();
        }

        if (queued)
        {
            RaiseCallbacksQueued();
        }

        return blocks;
    }

    /// <summary>Mines one block holding <paramref name="txs"/> (in order, parents first) after a coinbase paying subsidy and fees.</summary>
    private BlockRecord MineBlock(IReadOnlyList<(Hash256 TxId, ulong Fee)> txs)
    {
        BlockRecord tip = _store.Tip()!;
        uint height = tip.Height + 1;
        ulong fees = 0;
        foreach ((_, ulong fee) in txs)
        {
            fees += fee;
        }

        Transaction coinbase = Coinbase(height, _options.BlockSubsidy + fees);
        var txids = new List<Hash256>(txs.Count + 1) { coinbase.Id };
        txids.AddRange(txs.Select(t => t.TxId));
        var tree = new BlockTree(txids);
        uint now = (uint)_time.GetUtcNow().ToUnixTimeSeconds();
        BlockHeader header = new BlockHeader(BlockHeader.DefaultVersion, tip.Hash, tree.Root, Math.Max(now, tip.Header.Time + 1), BlockHeader.RegtestBits, 0).Solve();
        AppendBlock(height, header, coinbase, tree, txids);
        return new BlockRecord(height, header, header.Hash, txids.Count);
    }

    private void AppendBlock(uint height, BlockHeader header, Transaction coinbase, BlockTree tree, List<Hash256> txids)
    {
        DateTimeOffset now = _time.GetUtcNow();
        _store.InsertBlock(height, header, txids.Count);
        _store.InsertTx(coinbase, TxStatus.Mined, 0, string.Empty, [], now);
        _store.InsertOutputs(coinbase, height);
        for (int i = 0; i < txids.Count; i++)
        {
            _store.MarkMined(txids[i], height, i, tree.PathOf(height, i).ToBytes(), now);
            if (i > 0)
            {
                _store.ConfirmOutputs(txids[i], height);
                Notify(txids[i], now);
            }
        }

        var mined = txids.ToHashSet();
        foreach ((Hash256 attempt, IReadOnlyList<Hash256> competing) in _store.DoubleSpendAttempts())
        {
            foreach (Hash256 winner in competing.Where(mined.Contains).Take(1))
            {
                _store.SetStatus(attempt, TxStatus.Rejected, $"double spend: competing transaction {winner} was mined in block {height}", now);
                Notify(attempt, now);
            }
        }
    }

    /// <summary>Queues a callback of the transaction's status to those registered (to full-status ones only, when asked).</summary>
    private void Notify(Hash256 txid, DateTimeOffset now, bool fullStatusOnly = false)
    {
        IReadOnlyList<CallbackRegistration> callbacks = _store.CallbacksFor(txid);
        if (callbacks.Count == 0)
        {
            return;
        }

        string body = ArcCallback.From(_store.GetTx(txid)!, now).ToJson();
        foreach (CallbackRegistration callback in callbacks)
        {
            if (!fullStatusOnly || callback.FullStatusUpdates)
            {
                EnqueueCallback(callback, body, now);
            }
        }
    }

    private Transaction Coinbase(uint height, ulong satoshis)
    {
        // BIP34: the coinbase script starts with the height, which also makes every coinbase's txid unique.
        var script = new BsvWriter(32);
        Script.WriteMinimalPush(script, ScriptNum.Encode(height));
        Script.WritePushData(script, CoinbaseTag);
        var input = new TxInput(new OutPoint(Hash256.Zero, uint.MaxValue), new Script(script.ToArray()));
        return new Transaction(1, [input], [new TxOutput(satoshis, new Script(_devScript))], 0);
    }

    private void EnsureGenesis()
    {
        lock (_gate)
        {
            if (_store.Tip() is not null)
            {
                return;
            }

            _store.InTransaction(() =>
            {
                Transaction coinbase = Coinbase(0, _options.GenesisSatoshis);
                var tree = new BlockTree([coinbase.Id]);
                uint now = (uint)_time.GetUtcNow().ToUnixTimeSeconds();
                BlockHeader header = new BlockHeader(BlockHeader.DefaultVersion, Hash256.Zero, tree.Root, now, BlockHeader.RegtestBits, 0).Solve();
                AppendBlock(0, header, coinbase, tree, [coinbase.Id]);
                for (int i = 0; i < _options.CoinbaseMaturity; i++)
                {
                    MineBlock([]);
                }
            });
        }
    }

    // ---- faucet

    /// <summary>
    /// Pays <paramref name="satoshis"/> to <paramref name="lockingScript"/> from the dev key's largest matured output
    /// (change back to the dev key) and mines a block holding only that transaction, so the answer is an Atomic BEEF
    /// (BEEF V1 inside) of one proven transaction. Throws <see cref="FaucetException"/> when it cannot.
    /// </summary>
    public FaucetResult Faucet(Script lockingScript, ulong satoshis)
    {
        ArgumentNullException.ThrowIfNull(lockingScript);
        if (satoshis == 0 || satoshis > _options.FaucetMaxSatoshis)
        {
            throw new FaucetException(ArcStatus.BadRequest, DevChainCodes.BadRequest, $"satoshis must be 1..{_options.FaucetMaxSatoshis}");
        }

        FaucetResult result;
        bool queued;
        lock (_gate)
        {
            ThrowIfDisposed();
            BlockRecord tip = _store.Tip()!;
            var payee = new TxOutput(satoshis, lockingScript);
            var change = new TxOutput(0, new Script(_devScript));
            var draft = new Transaction(1, [new TxInput(new OutPoint(Hash256.Zero, 0), Script.Empty)], [payee, change], 0);
            ulong fee = RequiredFee(draft.Size + P2pkh.MaxUnlockingScriptSize);
            long maturedUpTo = (long)tip.Height + 1 - _options.CoinbaseMaturity;
            StoredOutput funding = _store.FindSpendable(_devScript, satoshis + fee + 1, maturedUpTo)
                ?? throw new FaucetException(503, DevChainCodes.FaucetEmpty, $"the dev key holds no matured output of {satoshis + fee + 1} satoshis or more");
            var unsigned = new Transaction(
                1,
                [new TxInput(funding.OutPoint, Script.Empty)],
                [payee, change with { Satoshis = funding.Satoshis - satoshis - fee }],
                0);
            Transaction tx = P2pkh.Sign(unsigned, [funding.ToTxOutput()], _devKey);
            SubmitResult accepted = AcceptOne(tx, InputSource.Raw, SubmitOptions.Default);
            if (!accepted.IsAccepted)
            {
                throw new FaucetException(ArcStatus.BadRequest, accepted.Code!, accepted.Detail!);
            }

            BlockRecord block = _store.InTransaction(() => MineBlock([(tx.Id, fee)]));
            MerklePath path = MerklePath.FromHex(_store.GetTx(tx.Id)!.MerklePath!);
            var beef = new Beef(BeefVersion.V1, [path], [BeefTx.FromTransaction(tx, 0)]);
            result = new FaucetResult(tx.Id, 0, satoshis, beef.ToBytes(BeefVersion.V1, atomic: true), block.Height, block.Hash);
            queued = TakeCallbacksQueued();
        }

        if (queued)
        {
            RaiseCallbacksQueued();
        }

        return result;
    }

    // ---- callbacks (the dispatcher's side)

    /// <summary>Callbacks whose delivery is due now, oldest first.</summary>
    public IReadOnlyList<PendingCallback> DueCallbacks(int limit = 32)
    {
        lock (_gate)
        {
            return _disposed ? [] : _store.DueCallbacks(_time.GetUtcNow(), limit);
        }
    }

    /// <summary>When the next queued callback is due; null when none is queued.</summary>
    public DateTimeOffset? NextCallbackAt
    {
        get
        {
            lock (_gate)
            {
                return _disposed ? null : _store.NextCallbackAt();
            }
        }
    }

    public int QueuedCallbackCount
    {
        get
        {
            lock (_gate)
            {
                return _store.OutboxCount();
            }
        }
    }

    public void CompleteCallback(long id)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _store.CompleteCallback(id);
            }
        }
    }

    /// <summary>Schedules another try with a doubled delay, or drops the callback after the last attempt; true when it will be retried.</summary>
    public bool FailCallback(PendingCallback callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            int attempts = callback.Attempts + 1;
            if (attempts >= _options.CallbackAttempts)
            {
                _store.CompleteCallback(callback.Id);
                return false;
            }

            TimeSpan delay = _options.CallbackRetryDelay * Math.Pow(2, attempts - 1);
            _store.RetryCallback(callback.Id, attempts, _time.GetUtcNow() + delay);
            return true;
        }
    }

    /// <summary>Wakes the dispatcher; each change calls it after the lock, and only when it queued a callback.</summary>
    private void RaiseCallbacksQueued() => CallbacksQueued?.Invoke();

    /// <summary>Queues one callback for delivery and notes that the dispatcher has work (under the lock).</summary>
    private void EnqueueCallback(CallbackRegistration callback, string body, DateTimeOffset now)
    {
        _store.Enqueue(callback, body, now);
        _callbacksQueued = true;
    }

    /// <summary>Whether a callback was queued since the last call (under the lock).</summary>
    private bool TakeCallbacksQueued()
    {
        bool queued = _callbacksQueued;
        _callbacksQueued = false;
        return queued;
    }

    private static void Validate(DevChainOptions options)
    {
        if (options.MiningFeeBytes == 0)
        {
            throw new ArgumentException("DevChain:MiningFeeBytes must be at least 1", nameof(options));
        }

        if (options.CoinbaseMaturity < 0 || options.CallbackAttempts < 1 || options.MaxBlocksPerMine < 1)
        {
            throw new ArgumentException("DevChain:CoinbaseMaturity must be 0 or more, CallbackAttempts and MaxBlocksPerMine 1 or more", nameof(options));
        }

        if (options.GenesisSatoshis > TransactionChecks.MaxMoney || options.BlockSubsidy > TransactionChecks.MaxMoney)
        {
            throw new ArgumentException("DevChain:GenesisSatoshis and BlockSubsidy must not exceed 21 million coins", nameof(options));
        }

        if (!Hex.TryDecode(options.DevKey, out byte[] key) || key.Length != 32)
        {
            throw new ArgumentException("DevChain:DevKey must be a private key of 64 hex digits", nameof(options));
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    public void Dispose()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                _store.Dispose();
            }
        }
    }

    public override string ToString() => new StringBuilder("LocalChain(").Append(_options.IsInMemory ? "memory" : _options.DataPath).Append(')').ToString();
}
