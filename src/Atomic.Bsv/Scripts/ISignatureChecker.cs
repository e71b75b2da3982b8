using System.Numerics;

namespace Atomic.Bsv.Scripts;

/// <summary>What the interpreter asks of the spending transaction: signatures, lock times and the version.</summary>
public interface ISignatureChecker
{
    /// <summary>The spending transaction's version (OP_VER, OP_VERIF after Chronicle).</summary>
    int TxVersion { get; }

    /// <summary>Checks a signature (DER plus the sighash byte) against the digest of the spend; false on any failure.</summary>
    bool CheckSig(ReadOnlySpan<byte> signature, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> scriptCode, bool forkIdEnabled);

    bool CheckLockTime(BigInteger lockTime);

    bool CheckSequence(BigInteger sequence);
}

/// <summary>A checker for scripts evaluated without a transaction: every signature and lock time fails.</summary>
public sealed class NullSignatureChecker : ISignatureChecker
{
    public static readonly NullSignatureChecker Instance = new();

    public int TxVersion => 1;

    public bool CheckSig(ReadOnlySpan<byte> signature, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> scriptCode, bool forkIdEnabled) => false;

    public bool CheckLockTime(BigInteger lockTime) => false;

    public bool CheckSequence(BigInteger sequence) => false;
}
