using System.Buffers.Binary;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.DevChain.Chain;

/// <summary>
/// A submitted transaction in any of the three forms ARC takes: raw, Extended Format (BRC-30) or BEEF (BRC-62 V1,
/// BRC-96 V2, BRC-95 Atomic). The form is told by the first bytes: a BEEF or Atomic prefix, else the EF marker after
/// the version, else a raw transaction.
/// </summary>
public abstract record TxPayload
{
    /// <summary>The transaction the submitter asks about (a BEEF's subject).</summary>
    public abstract Hash256? SubjectTxId { get; }

    /// <summary>Parses exactly one payload; malformed bytes throw <see cref="BsvFormatException"/>.</summary>
    public static TxPayload Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 4 && IsBeefPrefix(BinaryPrimitives.ReadUInt32LittleEndian(bytes)))
        {
            return new BeefPayload(Beef.FromBytes(bytes)); // with the BEEF reason codes for truncation
        }

        var reader = new BsvReader(bytes);
        TxPayload payload = Read(ref reader);
        reader.EnsureAtEnd(ReasonCodes.TxMalformed, "transaction");
        return payload;
    }

    /// <summary>Reads one payload and leaves <paramref name="reader"/> after it (payloads may follow each other).</summary>
    public static TxPayload Read(ref BsvReader reader)
    {
        ReadOnlySpan<byte> rest = reader.Buffer[reader.Offset..];
        if (rest.Length >= 4 && IsBeefPrefix(BinaryPrimitives.ReadUInt32LittleEndian(rest)))
        {
            return new BeefPayload(Beef.Read(ref reader));
        }

        if (ExtendedTransaction.IsExtendedFormat(rest))
        {
            return new ExtendedPayload(ExtendedTransaction.Read(ref reader));
        }

        return new RawPayload(Transaction.Read(ref reader));
    }

    private static bool IsBeefPrefix(uint prefix) =>
        prefix is Beef.AtomicPrefix or (uint)BeefVersion.V1 or (uint)BeefVersion.V2;
}

/// <summary>A transaction alone: the chain supplies every input's source output.</summary>
public sealed record RawPayload(Transaction Transaction) : TxPayload
{
    public override Hash256? SubjectTxId => Transaction.Id;
}

/// <summary>
/// An Extended Format transaction. The chain validates against its own UTXO set, not the source outputs the EF
/// carries: a wrong one simply makes the signature check fail.
/// </summary>
public sealed record ExtendedPayload(ExtendedTransaction Extended) : TxPayload
{
    public override Hash256? SubjectTxId => Extended.Transaction.Id;
}

/// <summary>A BEEF: its unproven ancestors are accepted first, then its subject.</summary>
public sealed record BeefPayload(Beef Beef) : TxPayload
{
    public override Hash256? SubjectTxId => Beef.SubjectTxId;
}
