using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Spv;

/// <summary>
/// Extended Format (BRC-30): a transaction whose inputs also carry the satoshis (8 bytes) and locking script of the
/// output they spend, marked by 00 00 00 00 00 EF after the version, so a broadcaster can validate it alone.
/// </summary>
public sealed class ExtendedTransaction
{
    private static ReadOnlySpan<byte> Marker => [0x00, 0x00, 0x00, 0x00, 0x00, 0xEF];

    public ExtendedTransaction(Transaction transaction, IReadOnlyList<TxOutput> sourceOutputs)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(sourceOutputs);
        if (sourceOutputs.Count != transaction.Inputs.Count)
        {
            throw new ArgumentException($"{transaction.Inputs.Count} inputs need as many source outputs, got {sourceOutputs.Count}", nameof(sourceOutputs));
        }

        Transaction = transaction;
        SourceOutputs = sourceOutputs;
    }

    public Transaction Transaction { get; }

    /// <summary>The output each input spends, in input order.</summary>
    public IReadOnlyList<TxOutput> SourceOutputs { get; }

    /// <summary>True when the bytes start with a version and the EF marker.</summary>
    public static bool IsExtendedFormat(ReadOnlySpan<byte> bytes) => bytes.Length >= 10 && bytes.Slice(4, 6).SequenceEqual(Marker);

    public static ExtendedTransaction FromHex(string hex) => FromBytes(Hex.Decode(hex));

    public static ExtendedTransaction FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new BsvReader(bytes);
        ExtendedTransaction ef = Read(ref reader);
        reader.EnsureAtEnd(ReasonCodes.TxMalformed, "transaction");

        return ef;
    }

    public static ExtendedTransaction Read(ref BsvReader reader)
    {
        int version = reader.ReadInt32LE();
        if (!reader.ReadBytes(6).SequenceEqual(Marker))
        {
            reader.ThrowFormat(ReasonCodes.TxMalformed, "missing the Extended Format marker 0000000000EF");
        }

        // An EF input is at least 32 + 4 + 1 + 4 + 8 + 1 bytes.
        int inputCount = reader.ReadCount(50, Transaction.MaxItems, "input");
        var inputs = new TxInput[inputCount];
        var sources = new TxOutput[inputCount];
        for (int i = 0; i < inputCount; i++)
        {
            var txid = new Hash256(reader.ReadBytes(32));
            uint index = reader.ReadUInt32LE();
            var unlocking = new Script(reader.ReadVarBytes("unlocking script").ToArray());
            uint sequence = reader.ReadUInt32LE();
            ulong satoshis = reader.ReadUInt64LE();
            var locking = new Script(reader.ReadVarBytes("source locking script").ToArray());
            inputs[i] = new TxInput(new OutPoint(txid, index), unlocking, sequence);
            sources[i] = new TxOutput(satoshis, locking);
        }

        int outputCount = reader.ReadCount(9, Transaction.MaxItems, "output");
        var outputs = new TxOutput[outputCount];
        for (int i = 0; i < outputCount; i++)
        {
            ulong satoshis = reader.ReadUInt64LE();
            outputs[i] = new TxOutput(satoshis, new Script(reader.ReadVarBytes("locking script").ToArray()));
        }

        uint lockTime = reader.ReadUInt32LE();
        return new ExtendedTransaction(new Transaction(version, inputs, outputs, lockTime), sources);
    }

    public void Write(BsvWriter writer)
    {
        Transaction tx = Transaction;
        writer.WriteInt32LE(tx.Version).WriteBytes(Marker).WriteVarInt((ulong)tx.Inputs.Count);
        Span<byte> txid = stackalloc byte[32];
        for (int i = 0; i < tx.Inputs.Count; i++)
        {
            TxInput input = tx.Inputs[i];
            input.PrevOut.TxId.CopyTo(txid);
            writer.WriteBytes(txid).WriteUInt32LE(input.PrevOut.Index).WriteVarBytes(input.UnlockingScript.Span).WriteUInt32LE(input.Sequence);
            writer.WriteUInt64LE(SourceOutputs[i].Satoshis).WriteVarBytes(SourceOutputs[i].LockingScript.Span);
        }

        writer.WriteVarInt((ulong)tx.Outputs.Count);
        foreach (TxOutput o in tx.Outputs)
        {
            writer.WriteUInt64LE(o.Satoshis).WriteVarBytes(o.LockingScript.Span);
        }

        writer.WriteUInt32LE(tx.LockTime);
    }

    public byte[] ToBytes()
    {
        var w = new BsvWriter(Transaction.Size + (SourceOutputs.Count * 40));
        Write(w);
        return w.ToArray();
    }

    public string ToHex() => Hex.Encode(ToBytes());

    /// <summary>The EF of a BEEF's transaction (default: its subject); every input's parent must be in the BEEF in full.</summary>
    public static ExtendedTransaction FromBeef(Beef beef, Hash256? txid = null)
    {
        ArgumentNullException.ThrowIfNull(beef);
        Hash256 id = txid ?? beef.SubjectTxId ?? throw new BsvFormatException(ReasonCodes.BeefMalformed, 0, "the BEEF holds no transaction");
        Transaction tx = beef.Find(id)?.Transaction
            ?? throw new BsvFormatException(ReasonCodes.BeefMissingInput, 0, $"transaction {id} is not in the BEEF in full");
        var sources = new TxOutput[tx.Inputs.Count];
        for (int i = 0; i < sources.Length; i++)
        {
            OutPoint prev = tx.Inputs[i].PrevOut;
            Transaction parent = beef.Find(prev.TxId)?.Transaction
                ?? throw new BsvFormatException(ReasonCodes.BeefMissingInput, 0, $"input {i} spends {prev}, whose transaction is not in the BEEF");
            if (prev.Index >= parent.Outputs.Count)
            {
                throw new BsvFormatException(ReasonCodes.BeefMissingInput, 0, $"input {i} spends {prev}, which has {parent.Outputs.Count} outputs");
            }

            sources[i] = parent.Outputs[(int)prev.Index];
        }

        return new ExtendedTransaction(tx, sources);
    }
}
