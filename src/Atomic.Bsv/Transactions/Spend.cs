using Atomic.Bsv.Primitives.Secp256k1;
using Atomic.Bsv.Scripts;

namespace Atomic.Bsv.Transactions;

/// <summary>Validates one input of a transaction against the output it spends.</summary>
public static class Spend
{
    /// <summary>
    /// Runs the input's unlocking script and <paramref name="source"/>'s locking script under <paramref name="flags"/>
    /// (default: <see cref="StandardScriptFlags.For"/> the transaction's version).
    /// Pass one <paramref name="cache"/> for all inputs of a transaction to keep the digest work linear, and
    /// <paramref name="signatures"/> (e.g. <see cref="SignatureCache.Shared"/>) to remember the ECDSA checks that succeed.
    /// </summary>
    public static ScriptResult Validate(
        Transaction tx, int inputIndex, TxOutput source, ScriptFlags? flags = null,
        SigHashCache? cache = null, ISecp256k1? secp256k1 = null, ScriptLimits? limits = null, SignatureCache? signatures = null)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(source);
        var checker = new TransactionSignatureChecker(tx, inputIndex, source.Satoshis, cache, secp256k1, signatures);
        return ScriptInterpreter.Verify(tx.Inputs[inputIndex].UnlockingScript.Span, source.LockingScript.Span, flags ?? StandardScriptFlags.For(tx.Version), checker, limits);
    }

    /// <summary>As <see cref="Validate"/>, throwing <see cref="ScriptVerificationException"/> with the whole context on failure.</summary>
    public static void EnsureValid(
        Transaction tx, int inputIndex, TxOutput source, ScriptFlags? flags = null,
        SigHashCache? cache = null, ISecp256k1? secp256k1 = null, ScriptLimits? limits = null, SignatureCache? signatures = null)
    {
        ScriptResult result = Validate(tx, inputIndex, source, flags, cache, secp256k1, limits, signatures);
        if (!result.IsSuccess)
        {
            throw new ScriptVerificationException(tx.Id.ToDisplayHex(), inputIndex, result);
        }
    }
}

/// <summary>A script that failed, with the spending txid, input index, the node's error name, op index and stacks.</summary>
public sealed class ScriptVerificationException(string txid, int inputIndex, ScriptResult result)
    : Exception($"SCRIPT_FAILED: {txid} input {inputIndex}: {result}")
{
    public string TxId { get; } = txid;

    public int InputIndex { get; } = inputIndex;

    public ScriptResult Result { get; } = result;
}
