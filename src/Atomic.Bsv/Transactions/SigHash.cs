using System.Buffers.Binary;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;

namespace Atomic.Bsv.Transactions;

/// <summary>Signature hash types and the bits that modify them.</summary>
public static class SigHashType
{
    public const uint All = 0x01;
    public const uint None = 0x02;
    public const uint Single = 0x03;

    /// <summary>Chronicle: with FORKID, selects the original digest (node v1.2.0).</summary>
    public const uint Chronicle = 0x20;
    public const uint ForkId = 0x40;
    public const uint AnyoneCanPay = 0x80;

    public static uint BaseType(uint hashType) => hashType & 0x1f;
}

/// <summary>
/// The two signature digests: the FORKID digest (BIP143 shape, what BSV signs) and the original digest, which
/// pre-fork signatures and Chronicle's OTDA signatures use.
/// </summary>
public static class SigHash
{
    /// <summary>
    /// The digest the node verifies a signature against: FORKID when <paramref name="forkIdEnabled"/> and the type has
    /// FORKID without the Chronicle bit, else the original digest. Written in internal byte order.
    /// </summary>
    public static void Compute(
        Transaction tx, int inputIndex, ReadOnlySpan<byte> scriptCode, ulong amount, uint hashType, bool forkIdEnabled,
        SigHashCache? cache, Span<byte> digest)
    {
        if (forkIdEnabled && (hashType & SigHashType.ForkId) != 0 && (hashType & SigHashType.Chronicle) == 0)
        {
            ComputeForkId(tx, inputIndex, scriptCode, amount, hashType, cache, digest);
        }
        else
        {
            ComputeOriginal(tx, inputIndex, scriptCode, hashType, digest);
        }
    }

    /// <summary>The FORKID digest (BIP143 layout) with per-transaction hashes taken from <paramref name="cache"/>.</summary>
    public static void ComputeForkId(
        Transaction tx, int inputIndex, ReadOnlySpan<byte> scriptCode, ulong amount, uint hashType, SigHashCache? cache, Span<byte> digest)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(inputIndex, tx.Inputs.Count);
        cache ??= new SigHashCache(tx);
        uint baseType = SigHashType.BaseType(hashType);
        bool anyoneCanPay = (hashType & SigHashType.AnyoneCanPay) != 0;

        ReadOnlySpan<byte> zero = stackalloc byte[32];
        ReadOnlySpan<byte> hashPrevouts = anyoneCanPay ? zero : cache.HashPrevouts;
        ReadOnlySpan<byte> hashSequence = anyoneCanPay || baseType == SigHashType.Single || baseType == SigHashType.None
            ? zero
            : cache.HashSequence;
        Span<byte> singleOutput = stackalloc byte[32];
        scoped ReadOnlySpan<byte> hashOutputs;
        if (baseType != SigHashType.Single && baseType != SigHashType.None)
        {
            hashOutputs = cache.HashOutputs;
        }
        else if (baseType == SigHashType.Single && inputIndex < tx.Outputs.Count)
        {
            TxOutput o = tx.Outputs[inputIndex];
            var w = new BsvWriter(8 + 9 + o.LockingScript.Length);
            w.WriteUInt64LE(o.Satoshis).WriteVarBytes(o.LockingScript.Span);
            Hashes.Hash256(w.WrittenSpan, singleOutput);
            hashOutputs = singleOutput;
        }
        else
        {
            hashOutputs = zero;
        }

        TxInput input = tx.Inputs[inputIndex];
        int size = 4 + 32 + 32 + 36 + VarInt.SizeOf((ulong)scriptCode.Length) + scriptCode.Length + 8 + 4 + 32 + 4 + 4;
        byte[]? rented = null;
        Span<byte> preimage = size <= 1024 ? stackalloc byte[size] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(size)).AsSpan(0, size);
        int p = 0;
        BinaryPrimitives.WriteInt32LittleEndian(preimage[p..], tx.Version);
        p += 4;
        hashPrevouts.CopyTo(preimage[p..]);
        p += 32;
        hashSequence.CopyTo(preimage[p..]);
        p += 32;
        input.PrevOut.TxId.CopyTo(preimage[p..]);
        p += 32;
        BinaryPrimitives.WriteUInt32LittleEndian(preimage[p..], input.PrevOut.Index);
        p += 4;
        p += VarInt.Write((ulong)scriptCode.Length, preimage[p..]);
        scriptCode.CopyTo(preimage[p..]);
        p += scriptCode.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(preimage[p..], amount);
        p += 8;
        BinaryPrimitives.WriteUInt32LittleEndian(preimage[p..], input.Sequence);
        p += 4;
        hashOutputs.CopyTo(preimage[p..]);
        p += 32;
        BinaryPrimitives.WriteUInt32LittleEndian(preimage[p..], tx.LockTime);
        p += 4;
        BinaryPrimitives.WriteUInt32LittleEndian(preimage[p..], hashType);
        Hashes.Hash256(preimage, digest);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The original digest: a modified copy of the transaction hashed whole, OP_CODESEPARATORs removed from the
    /// script code. SIGHASH_SINGLE without a matching output yields the node's constant 1 (its historical bug).
    /// </summary>
    public static void ComputeOriginal(Transaction tx, int inputIndex, ReadOnlySpan<byte> scriptCode, uint hashType, Span<byte> digest)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(inputIndex, tx.Inputs.Count);
        uint baseType = SigHashType.BaseType(hashType);
        if (baseType == SigHashType.Single && inputIndex >= tx.Outputs.Count)
        {
            digest.Clear();
            digest[0] = 1;
            return;
        }

        bool anyoneCanPay = (hashType & SigHashType.AnyoneCanPay) != 0;
        bool hashSingle = baseType == SigHashType.Single;
        bool hashNone = baseType == SigHashType.None;
        ReadOnlySpan<byte> code = Script.RemoveCodeSeparators(scriptCode);

        var w = new BsvWriter(tx.Size + code.Length + 16);
        w.WriteInt32LE(tx.Version);
        Span<byte> txid = stackalloc byte[32];
        int inputCount = anyoneCanPay ? 1 : tx.Inputs.Count;
        w.WriteVarInt((ulong)inputCount);
        for (int k = 0; k < inputCount; k++)
        {
            int i = anyoneCanPay ? inputIndex : k;
            TxInput input = tx.Inputs[i];
            input.PrevOut.TxId.CopyTo(txid);
            w.WriteBytes(txid).WriteUInt32LE(input.PrevOut.Index);
            if (i == inputIndex)
            {
                w.WriteVarBytes(code);
            }
            else
            {
                w.WriteVarInt(0);
            }

            w.WriteUInt32LE(i != inputIndex && (hashSingle || hashNone) ? 0 : input.Sequence);
        }

        int outputCount = hashNone ? 0 : hashSingle ? inputIndex + 1 : tx.Outputs.Count;
        w.WriteVarInt((ulong)outputCount);
        for (int i = 0; i < outputCount; i++)
        {
            if (hashSingle && i != inputIndex)
            {
                w.WriteUInt64LE(ulong.MaxValue).WriteVarInt(0);
            }
            else
            {
                TxOutput o = tx.Outputs[i];
                w.WriteUInt64LE(o.Satoshis).WriteVarBytes(o.LockingScript.Span);
            }
        }

        w.WriteUInt32LE(tx.LockTime);
        w.WriteUInt32LE(hashType);
        Hashes.Hash256(w.WrittenSpan, digest);
    }
}

/// <summary>
/// The three per-transaction hashes of the FORKID digest, each computed once on first use, so signing or verifying
/// every input of an n-input transaction costs O(n) rather than O(n²). Safe to share across threads.
/// </summary>
public sealed class SigHashCache
{
    private readonly Transaction _tx;
    private byte[]? _prevouts;
    private byte[]? _sequence;
    private byte[]? _outputs;

    public SigHashCache(Transaction tx) => _tx = tx ?? throw new ArgumentNullException(nameof(tx));

    public Transaction Transaction => _tx;

    public ReadOnlySpan<byte> HashPrevouts => _prevouts ??= ComputePrevouts(_tx);

    public ReadOnlySpan<byte> HashSequence => _sequence ??= ComputeSequence(_tx);

    public ReadOnlySpan<byte> HashOutputs => _outputs ??= ComputeOutputs(_tx);

    // Each hash is written into a pooled buffer and hashed in place: no intermediate writer or copy.
    private static byte[] ComputePrevouts(Transaction tx)
    {
        int size = tx.Inputs.Count * 36;
        return HashPooled(size, tx, static (t, buffer) =>
        {
            int p = 0;
            foreach (TxInput input in t.Inputs)
            {
                input.PrevOut.TxId.CopyTo(buffer[p..]);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[(p + 32)..], input.PrevOut.Index);
                p += 36;
            }
        });
    }

    private static byte[] ComputeSequence(Transaction tx) =>
        HashPooled(tx.Inputs.Count * 4, tx, static (t, buffer) =>
        {
            for (int i = 0; i < t.Inputs.Count; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[(i * 4)..], t.Inputs[i].Sequence);
            }
        });

    private static byte[] ComputeOutputs(Transaction tx)
    {
        int size = 0;
        foreach (TxOutput o in tx.Outputs)
        {
            size += 8 + VarInt.SizeOf((ulong)o.LockingScript.Length) + o.LockingScript.Length;
        }

        return HashPooled(size, tx, static (t, buffer) =>
        {
            int p = 0;
            foreach (TxOutput o in t.Outputs)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(buffer[p..], o.Satoshis);
                p += 8;
                p += VarInt.Write((ulong)o.LockingScript.Length, buffer[p..]);
                o.LockingScript.Span.CopyTo(buffer[p..]);
                p += o.LockingScript.Length;
            }
        });
    }

    private delegate void Fill(Transaction tx, Span<byte> buffer);

    private static byte[] HashPooled(int size, Transaction tx, Fill fill)
    {
        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        try
        {
            Span<byte> buffer = rented.AsSpan(0, size);
            fill(tx, buffer);
            return Hashes.Hash256(buffer);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
