using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Secp256k1;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Spv;

/// <summary>How strictly <see cref="SpvVerifier"/> judges a BEEF.</summary>
public sealed record SpvOptions
{
    public static SpvOptions Default { get; } = new();

    /// <summary>Script flags for every unproven transaction; null applies <see cref="StandardScriptFlags.For"/> its version.</summary>
    public ScriptFlags? Flags { get; init; }

    /// <summary>Minimum fee rate of unproven transactions in satoshis per 1000 bytes; null checks no fee.</summary>
    public ulong? MinFeeRatePerKb { get; init; }

    /// <summary>Confirmations a coinbase output needs before it may be spent (the node's COINBASE_MATURITY).</summary>
    public int CoinbaseMaturity { get; init; } = 100;

    /// <summary>Inputs of one BEEF validated at once; 1 when the caller already parallelizes across BEEFs.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    public ISecp256k1? Secp256k1 { get; init; }

    /// <summary>
    /// Where the ECDSA checks that succeed are remembered, so a transaction checked again (an unmined ancestor in the
    /// next BEEF of its descendants, or the same BEEF submitted twice) costs no second verification; null checks every one.
    /// </summary>
    public SignatureCache? Signatures { get; init; } = SignatureCache.Shared;

    public ScriptLimits? ScriptLimits { get; init; }

    public BeefLimits? BeefLimits { get; init; }
}

/// <summary>The verdict on one BEEF: valid, or the reason code with the failing transaction and input.</summary>
public sealed record SpvResult(
    bool IsValid, Hash256? TxId, string? Code, string? Reason, Hash256? FailingTxId = null, int? FailingInput = null, ScriptResult? Script = null)
{
    public static SpvResult Valid(Hash256 txid) => new(true, txid, null, null);

    /// <summary>"CODE: reason" for failures, null when valid.</summary>
    public string? Error => IsValid ? null : $"{Code}: {Reason}";

    public override string ToString() => IsValid ? $"valid {TxId}" : $"invalid {TxId}: {Error}";
}

/// <summary>
/// Decides, without a node, whether a BEEF's subject transaction is valid: well-formed, every needed ancestor
/// present, every merkle root confirmed by the chain tracker (all roots of one BEEF in one batch), coinbase outputs
/// mature, no overspend, an optional fee rate, and every input of every unproven ancestor valid under the script
/// rules (inputs in parallel).
/// </summary>
public sealed class SpvVerifier
{
    private readonly IChainTracker _chainTracker;
    private readonly SpvOptions _options;

    public SpvVerifier(IChainTracker chainTracker, SpvOptions? options = null)
    {
        _chainTracker = chainTracker ?? throw new ArgumentNullException(nameof(chainTracker));
        _options = options ?? SpvOptions.Default;
    }

    /// <summary>
    /// Parses and verifies; malformed input yields a result with its reason code, never an exception. The bytes are
    /// referenced, not copied, so they must not change until the call completes.
    /// </summary>
    public async Task<SpvResult> VerifyAsync(ReadOnlyMemory<byte> beefBytes, CancellationToken cancellationToken = default)
    {
        Beef beef;
        try
        {
            beef = Parse(beefBytes);
        }
        catch (BsvFormatException e)
        {
            return new SpvResult(false, null, e.Code, e.Message);
        }

        return await VerifyAsync(beef, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Parses a BEEF under this verifier's limits, for a caller that verifies it with <see cref="VerifyAsync(Beef, CancellationToken)"/>
    /// and goes on using it; malformed input throws <see cref="BsvFormatException"/> with its reason code.
    /// </summary>
    public Beef Parse(ReadOnlyMemory<byte> beefBytes) => Beef.FromMemory(beefBytes, _options.BeefLimits);

    /// <summary>Verifies the BEEF's subject (the declared one for Atomic BEEF, otherwise the last transaction).</summary>
    public async Task<SpvResult> VerifyAsync(Beef beef, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(beef);
        Hash256? subjectId = beef.SubjectTxId;
        if (subjectId is null)
        {
            return new SpvResult(false, null, ReasonCodes.BeefMalformed, "the BEEF holds no transaction");
        }

        Hash256 subject = subjectId.Value;
        try
        {
            beef.Validate();
        }
        catch (BsvFormatException e)
        {
            return new SpvResult(false, subject, e.Code, e.Reason);
        }

        var byId = new Lookup(beef);
        bool[] ancestry = beef.AncestryMask(beef.Index[subject]);
        var unproven = new List<BeefTx>();
        var roots = new List<(MerkleRootQuery Query, Hash256 TxId)>();
        for (int i = 0; i < ancestry.Length; i++)
        {
            if (!ancestry[i])
            {
                continue;
            }

            BeefTx entry = beef.Transactions[i];
            if (entry.BumpIndex is int b)
            {
                MerklePath bump = beef.Bumps[b];
                var query = new MerkleRootQuery(bump.ComputeRoot(entry.TxId), bump.BlockHeight);
                if (!roots.Exists(r => r.Query == query))
                {
                    roots.Add((query, entry.TxId));
                }
            }
            else
            {
                unproven.Add(entry);
            }
        }

        // Cheap, local checks first: structure, amounts, fees.
        foreach (BeefTx entry in unproven)
        {
            SpvResult? failure = CheckAmounts(entry.Transaction!, entry.TxId, byId, subject);
            if (failure is not null)
            {
                return failure;
            }
        }

        Task<SpvResult?> chain = CheckChainAsync(roots, unproven, byId, subject, cancellationToken);
        SpvResult? scripts = CheckScripts(unproven, byId, subject, cancellationToken);
        SpvResult? chainFailure = await chain.ConfigureAwait(false);
        return chainFailure ?? scripts ?? SpvResult.Valid(subject);
    }

    private SpvResult? CheckAmounts(Transaction tx, Hash256 txid, Lookup byId, Hash256 subject)
    {
        string? structure = TransactionChecks.CheckStructure(tx);
        if (structure is not null)
        {
            return new SpvResult(false, subject, ReasonCodes.BeefMalformed, $"transaction {txid} is invalid: {structure}", txid);
        }

        ulong inputs = 0;
        foreach (TxInput input in tx.Inputs)
        {
            inputs += SourceOf(byId, input.PrevOut).Satoshis; // each is at most MaxMoney, so no overflow for any real count
        }

        ulong outputs = tx.TotalOutputSatoshis();
        if (outputs > inputs)
        {
            return new SpvResult(false, subject, ReasonCodes.Overspend, $"transaction {txid} spends {outputs} satoshis from inputs of {inputs}", txid);
        }

        if (_options.MinFeeRatePerKb is ulong rate)
        {
            ulong required = (((ulong)tx.Size * rate) + 999) / 1000;
            if (inputs - outputs < required)
            {
                return new SpvResult(false, subject, ReasonCodes.FeeTooLow,
                    $"transaction {txid} pays {inputs - outputs} satoshis, {required} needed at {rate} sat/kB for {tx.Size} bytes", txid);
            }
        }

        return null;
    }

    private async Task<SpvResult?> CheckChainAsync(
        List<(MerkleRootQuery Query, Hash256 TxId)> roots, List<BeefTx> unproven, Lookup byId, Hash256 subject, CancellationToken ct)
    {
        if (roots.Count > 0)
        {
            IReadOnlyList<bool> answers = await _chainTracker.AreValidRootsAsync(roots.ConvertAll(r => r.Query), ct).ConfigureAwait(false);
            for (int i = 0; i < roots.Count; i++)
            {
                if (!answers[i])
                {
                    (MerkleRootQuery q, Hash256 txid) = roots[i];
                    return new SpvResult(false, subject, ReasonCodes.SpvRootUnknown,
                        $"merkle root {q.Root} of transaction {txid} is not the root of block {q.Height}", txid);
                }
            }
        }

        // A coinbase output may be spent only once the coinbase has CoinbaseMaturity confirmations. The spend would be
        // mined at the next height at the earliest.
        uint? tip = null;
        var coinbases = new Dictionary<Hash256, bool>();
        foreach (BeefTx entry in unproven)
        {
            foreach (TxInput input in entry.Transaction!.Inputs)
            {
                BeefTx parent = byId[input.PrevOut.TxId];
                if (parent.IsProven && IsCoinbase(parent, coinbases))
                {
                    tip ??= await _chainTracker.CurrentHeightAsync(ct).ConfigureAwait(false);
                    uint minedAt = roots.Find(r => r.TxId == parent.TxId).Query.Height;
                    long confirmations = (long)tip.Value + 1 - minedAt;
                    if (confirmations < _options.CoinbaseMaturity)
                    {
                        return new SpvResult(false, subject, ReasonCodes.SpvCoinbaseImmature,
                            $"transaction {entry.TxId} spends coinbase {parent.TxId} mined at {minedAt}, {confirmations} of {_options.CoinbaseMaturity} confirmations at tip {tip}", entry.TxId);
                    }
                }
            }
        }

        return null;
    }

    private static bool IsCoinbase(BeefTx proven, Dictionary<Hash256, bool> known)
    {
        if (!known.TryGetValue(proven.TxId, out bool coinbase))
        {
            coinbase = proven.Transaction is { IsCoinbase: true };
            known[proven.TxId] = coinbase;
        }

        return coinbase;
    }

    private SpvResult? CheckScripts(List<BeefTx> unproven, Lookup byId, Hash256 subject, CancellationToken ct)
    {
        ISecp256k1 secp = _options.Secp256k1 ?? Secp256k1Backends.Default;
        int degree = Math.Max(1, _options.MaxDegreeOfParallelism);
        var failures = new SpvResult?[unproven.Count];

        // One transaction's inputs share its SigHashCache, which lives only while that transaction is checked.
        SpvResult? CheckInput(Transaction tx, Hash256 txid, int input, SigHashCache cache)
        {
            TxOutput source = SourceOf(byId, tx.Inputs[input].PrevOut);
            ScriptResult result = Spend.Validate(tx, input, source, _options.Flags ?? StandardScriptFlags.For(tx.Version), cache, secp, _options.ScriptLimits, _options.Signatures);
            return result.IsSuccess
                ? null
                : new SpvResult(false, subject, ReasonCodes.ScriptFailed, $"transaction {txid} input {input}: {result}", txid, input, result);
        }

        void CheckTransaction(int t)
        {
            Transaction tx = unproven[t].Transaction!;
            var cache = new SigHashCache(tx);
            for (int i = 0; i < tx.Inputs.Count && failures[t] is null; i++)
            {
                failures[t] = CheckInput(tx, unproven[t].TxId, i, cache);
            }
        }

        if (degree == 1 || unproven.Count >= degree * 4)
        {
            if (degree == 1)
            {
                for (int t = 0; t < unproven.Count; t++)
                {
                    CheckTransaction(t);
                }
            }
            else
            {
                Parallel.For(0, unproven.Count, new ParallelOptions { MaxDegreeOfParallelism = degree, CancellationToken = ct }, CheckTransaction);
            }
        }
        else
        {
            // Few transactions, possibly with many inputs each: spread the inputs instead.
            var work = new List<(int Tx, int Input)>();
            var txs = new Transaction[unproven.Count];
            var caches = new SigHashCache[unproven.Count];
            for (int t = 0; t < unproven.Count; t++)
            {
                txs[t] = unproven[t].Transaction!;
                caches[t] = new SigHashCache(txs[t]);
                for (int i = 0; i < txs[t].Inputs.Count; i++)
                {
                    work.Add((t, i));
                }
            }

            var inputFailures = new SpvResult?[work.Count];
            Parallel.For(0, work.Count, new ParallelOptions { MaxDegreeOfParallelism = degree, CancellationToken = ct }, k =>
                inputFailures[k] = CheckInput(txs[work[k].Tx], unproven[work[k].Tx].TxId, work[k].Input, caches[work[k].Tx]));
            for (int k = 0; k < work.Count; k++)
            {
                failures[work[k].Tx] ??= inputFailures[k];
            }
        }

        foreach (SpvResult? failure in failures)
        {
            if (failure is not null)
            {
                return failure;
            }
        }

        return null;
    }

    private static TxOutput SourceOf(Lookup byId, OutPoint prev) =>
        byId[prev.TxId].Transaction!.Outputs[(int)prev.Index];

    /// <summary>Entries by txid through the BEEF's own index (structure is validated before any lookup).</summary>
    private readonly struct Lookup(Beef beef)
    {
        public BeefTx this[Hash256 txid] => beef.Transactions[beef.Index[txid]];
    }
}
