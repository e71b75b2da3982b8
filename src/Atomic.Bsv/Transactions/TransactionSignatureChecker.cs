using System.Numerics;
using Atomic.Bsv.Primitives.Secp256k1;
using Atomic.Bsv.Scripts;

namespace Atomic.Bsv.Transactions;

/// <summary>Checks signatures and lock times of one input of a transaction, as the node's transaction checker does.</summary>
public sealed class TransactionSignatureChecker : ISignatureChecker
{
    private const uint LockTimeThreshold = 500_000_000;
    private const uint SequenceDisableFlag = 1u << 31;
    private const uint SequenceTypeFlag = 1u << 22;
    private const uint SequenceMask = 0x0000ffff;

    private readonly Transaction _tx;
    private readonly int _inputIndex;
    private readonly ulong _amount;
    private readonly SigHashCache _cache;
    private readonly ISecp256k1 _secp;
    private readonly SignatureCache? _signatures;

    /// <param name="signatures">Where ECDSA checks that succeeded are remembered and looked up; null checks every one.</param>
    public TransactionSignatureChecker(Transaction tx, int inputIndex, ulong amount, SigHashCache? cache = null, ISecp256k1? secp256k1 = null, SignatureCache? signatures = null)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentOutOfRangeException.ThrowIfNegative(inputIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(inputIndex, tx.Inputs.Count);
        _tx = tx;
        _inputIndex = inputIndex;
        _amount = amount;
        _cache = cache ?? new SigHashCache(tx);
        _secp = secp256k1 ?? Secp256k1Backends.Default;
        _signatures = signatures;
    }

    public int TxVersion => _tx.Version;

    public bool CheckSig(ReadOnlySpan<byte> signature, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> scriptCode, bool forkIdEnabled)
    {
        if (signature.IsEmpty)
        {
            return false;
        }

        Span<byte> compact = stackalloc byte[64];
        if (!DerSignature.TryParseLax(signature[..^1], compact))
        {
            return false;
        }

        Span<byte> digest = stackalloc byte[32];
        SigHash.Compute(_tx, _inputIndex, scriptCode, _amount, signature[^1], forkIdEnabled, _cache, digest);
        return _signatures is null ? _secp.Verify(digest, compact, publicKey) : _signatures.Verify(_secp, digest, compact, publicKey);
    }

    public bool CheckLockTime(BigInteger lockTime)
    {
        uint txLockTime = _tx.LockTime;
        // Both must be heights, or both times.
        if (!((txLockTime < LockTimeThreshold && lockTime < LockTimeThreshold) || (txLockTime >= LockTimeThreshold && lockTime >= LockTimeThreshold)))
        {
            return false;
        }

        if (lockTime > txLockTime)
        {
            return false;
        }

        // A final input would let the transaction bypass its lock time.
        return _tx.Inputs[_inputIndex].Sequence != TxInput.FinalSequence;
    }

    public bool CheckSequence(BigInteger sequence)
    {
        uint txSequence = _tx.Inputs[_inputIndex].Sequence;
        if ((uint)_tx.Version < 2 || (txSequence & SequenceDisableFlag) != 0)
        {
            return false;
        }

        uint mask = SequenceTypeFlag | SequenceMask;
        uint txMasked = txSequence & mask;
        long required = (long)(sequence & mask);
        if (!((txMasked < SequenceTypeFlag && required < SequenceTypeFlag) || (txMasked >= SequenceTypeFlag && required >= SequenceTypeFlag)))
        {
            return false;
        }

        return required <= txMasked;
    }
}
