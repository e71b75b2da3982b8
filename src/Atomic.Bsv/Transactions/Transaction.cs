using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;

namespace Atomic.Bsv.Transactions;

/// <summary>A reference to an output of a previous transaction.</summary>
public readonly record struct OutPoint(Hash256 TxId, uint Index)
{
    public bool IsNull => TxId.IsZero && Index == uint.MaxValue;

    public override string ToString() => $"{TxId}:{Index}";
}

/// <summary>A transaction input: the outpoint it spends, its unlocking script and its sequence number.</summary>
public sealed record TxInput(OutPoint PrevOut, Script UnlockingScript, uint Sequence = TxInput.FinalSequence)
{
    public const uint FinalSequence = 0xffff_ffff;
}

/// <summary>A transaction output: an amount in satoshis locked by a script.</summary>
public sealed record TxOutput(ulong Satoshis, Script LockingScript);

/// <summary>An immutable Bitcoin transaction in the node's wire format, with its txid computed once.</summary>
public sealed class Transaction
{
    /// <summary>Upper bound on inputs and outputs per transaction read from the wire (far above any real block).</summary>
    public const int MaxItems = 10_000_000;

    private const int MinInputSize = 32 + 4 + 1 + 4;
    private const int MinOutputSize = 8 + 1;

    private readonly TxInput[] _inputs;
    private readonly TxOutput[] _outputs;
    private Hash256? _id;
    private ReadOnlyMemory<byte>? _bytes;

    public Transaction(int version, IEnumerable<TxInput> inputs, IEnumerable<TxOutput> outputs, uint lockTime)
    {
        Version = version;
        _inputs = [.. inputs];
        _outputs = [.. outputs];
        LockTime = lockTime;
    }

    public int Version { get; }

    public IReadOnlyList<TxInput> Inputs => _inputs;

    public IReadOnlyList<TxOutput> Outputs => _outputs;

    public uint LockTime { get; }

    /// <summary>The txid: double SHA-256 of the serialization.</summary>
    public Hash256 Id => _id ??= new Hash256(Hashes.Hash256(ToBytesCached().Span));

    public bool IsCoinbase => _inputs.Length == 1 && _inputs[0].PrevOut.IsNull;

    public int Size => ToBytesCached().Length;

    public static Transaction FromHex(string hex) => FromBytes(Hex.Decode(hex));

    /// <summary>Parses exactly one transaction; trailing bytes are an error.</summary>
    public static Transaction FromBytes(ReadOnlySpan<byte> bytes)
    {
        var reader = new BsvReader(bytes);
        Transaction tx = Read(ref reader);
        reader.EnsureAtEnd(ReasonCodes.TxMalformed, "transaction");

        return tx;
    }

    /// <summary>Parses exactly one transaction that references <paramref name="bytes"/> instead of copying it.</summary>
    public static Transaction FromMemory(ReadOnlyMemory<byte> bytes)
    {
        var reader = new BsvReader(bytes.Span);
        Transaction tx = Read(ref reader, bytes);
        reader.EnsureAtEnd(ReasonCodes.TxMalformed, "transaction");

        return tx;
    }

    /// <summary>Reads one transaction; every count and length is checked against the bytes left before allocating.</summary>
    /// <param name="reader">The reader, positioned at the transaction.</param>
    /// <param name="source">
    /// The memory <paramref name="reader"/> reads, when the caller can promise it will not change: the transaction
    /// and its scripts then slice it instead of copying their bytes.
    /// </param>
    public static Transaction Read(ref BsvReader reader, ReadOnlyMemory<byte> source = default)
    {
        int start = reader.Offset;
        int version = reader.ReadInt32LE();
        int inputCount = reader.ReadCount(MinInputSize, MaxItems, "input");
        var inputs = new TxInput[inputCount];
        // Scripts are first recorded as ranges, then sliced from one copy of the transaction's bytes.
        var ranges = new (int Start, int Length)[inputCount];
        var prevouts = new (Hash256 TxId, uint Index, uint Sequence)[inputCount];
        for (int i = 0; i < inputCount; i++)
        {
            var txid = new Hash256(reader.ReadBytes(32));
            uint index = reader.ReadUInt32LE();
            int length = reader.ReadVarBytes("unlocking script").Length;
            ranges[i] = (reader.Offset - length - start, length);
            prevouts[i] = (txid, index, reader.ReadUInt32LE());
        }

        int outputCount = reader.ReadCount(MinOutputSize, MaxItems, "output");
        var outputRanges = new (ulong Satoshis, int Start, int Length)[outputCount];
        for (int i = 0; i < outputCount; i++)
        {
            ulong satoshis = reader.ReadUInt64LE();
            int length = reader.ReadVarBytes("locking script").Length;
            outputRanges[i] = (satoshis, reader.Offset - length - start, length);
        }

        uint lockTime = reader.ReadUInt32LE();
        ReadOnlyMemory<byte> memory = source.IsEmpty
            ? reader.Buffer[start..reader.Offset].ToArray()
            : source[start..reader.Offset];
        for (int i = 0; i < inputCount; i++)
        {
            inputs[i] = new TxInput(new OutPoint(prevouts[i].TxId, prevouts[i].Index), new Script(memory.Slice(ranges[i].Start, ranges[i].Length)), prevouts[i].Sequence);
        }

        var outputs = new TxOutput[outputCount];
        for (int i = 0; i < outputCount; i++)
        {
            outputs[i] = new TxOutput(outputRanges[i].Satoshis, new Script(memory.Slice(outputRanges[i].Start, outputRanges[i].Length)));
        }

        return new Transaction(version, inputs, outputs, lockTime) { _bytes = memory };
    }

    public void Write(BsvWriter writer)
    {
        if (_bytes is ReadOnlyMemory<byte> bytes)
        {
            writer.WriteBytes(bytes.Span);
            return;
        }

        writer.WriteInt32LE(Version);
        writer.WriteVarInt((ulong)_inputs.Length);
        Span<byte> txid = stackalloc byte[32];
        foreach (TxInput input in _inputs)
        {
            input.PrevOut.TxId.CopyTo(txid);
            writer.WriteBytes(txid).WriteUInt32LE(input.PrevOut.Index).WriteVarBytes(input.UnlockingScript.Span).WriteUInt32LE(input.Sequence);
        }

        writer.WriteVarInt((ulong)_outputs.Length);
        foreach (TxOutput output in _outputs)
        {
            writer.WriteUInt64LE(output.Satoshis).WriteVarBytes(output.LockingScript.Span);
        }

        writer.WriteUInt32LE(LockTime);
    }

    public byte[] ToBytes() => ToBytesCached().ToArray();

    public string ToHex() => Hex.Encode(ToBytesCached().Span);

    /// <summary>The serialization, without copying.</summary>
    public ReadOnlySpan<byte> AsSpan() => ToBytesCached().Span;

    internal ReadOnlyMemory<byte> SerializedMemory => ToBytesCached();

    /// <summary>Sum of output amounts; throws <see cref="OverflowException"/> past ulong.</summary>
    public ulong TotalOutputSatoshis()
    {
        ulong total = 0;
        foreach (TxOutput o in _outputs)
        {
            total = checked(total + o.Satoshis);
        }

        return total;
    }

    private ReadOnlyMemory<byte> ToBytesCached()
    {
        if (_bytes is null)
        {
            var w = new BsvWriter(256);
            Write(w);
            _bytes = w.ToArray();
        }

        return _bytes.Value;
    }

    public override string ToString() => Id.ToDisplayHex();
}
