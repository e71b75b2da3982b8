using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;

namespace Atomic.Overlay;

/// <summary>
/// PushDrop locking scripts, as <c>@bsv/sdk</c>'s <c>PushDrop</c> template writes them: a P2PK lock and data fields
/// that the script drops, <c>&lt;pubkey&gt; OP_CHECKSIG &lt;field&gt;… OP_2DROP… [OP_DROP]</c> (lock before), or the
/// fields first and the lock last (lock after). Fields are minimally pushed as the SDK pushes them, so a one-byte 1..16 field is OP_1..OP_16.
/// </summary>
public static class PushDrop
{
    /// <summary>The most fields a decoded script may carry (bounds what a hostile script can make us allocate).</summary>
    public const int MaxFields = 64;

    /// <summary>The lock-before script for <paramref name="fields"/> locked to <paramref name="owner"/>.</summary>
    public static Script Lock(PublicKey owner, IReadOnlyList<byte[]> fields)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0 || fields.Count > MaxFields)
        {
            throw new ArgumentException($"a PushDrop script carries 1 to {MaxFields} fields", nameof(fields));
        }

        var writer = new BsvWriter();
        Script.WritePushData(writer, owner.ToBytes());
        writer.WriteByte((byte)OpCode.OP_CHECKSIG);
        foreach (byte[] field in fields)
        {
            WriteField(writer, field);
        }

        int remaining = fields.Count;
        for (; remaining > 1; remaining -= 2)
        {
            writer.WriteByte((byte)OpCode.OP_2DROP);
        }

        if (remaining == 1)
        {
            writer.WriteByte((byte)OpCode.OP_DROP);
        }

        return new Script(writer.ToArray());
    }

    /// <summary>
    /// As <c>@bsv/sdk</c> writes a field: an empty field and a single zero byte both become OP_0 (which reads back as a
    /// single zero byte, as the SDK reads it), 1..16 become OP_1..OP_16, 0x81 becomes OP_1NEGATE, the rest a push.
    /// </summary>
    private static void WriteField(BsvWriter writer, byte[] field)
    {
        if (field.Length == 0 || (field.Length == 1 && field[0] == 0))
        {
            writer.WriteByte((byte)OpCode.OP_0);
        }
        else
        {
            Script.WriteMinimalPush(writer, field);
        }
    }

    /// <summary>Reads a PushDrop script of either shape; false for anything else (never throws on script bytes).</summary>
    public static bool TryDecode(Script script, out PushDropFields decoded)
    {
        ArgumentNullException.ThrowIfNull(script);
        decoded = default;
        var chunks = new List<(byte Op, byte[] Data)>();
        var reader = new ScriptReader(script.Span);
        while (!reader.IsAtEnd)
        {
            if (!reader.TryRead(out byte op, out ReadOnlySpan<byte> data, out bool malformed) || malformed || chunks.Count > (MaxFields * 2) + 4)
            {
                return false;
            }

            chunks.Add((op, data.ToArray()));
        }

        return TryLockBefore(chunks, out decoded) || TryLockAfter(chunks, out decoded);
    }

    private static bool TryLockBefore(List<(byte Op, byte[] Data)> chunks, out PushDropFields decoded)
    {
        decoded = default;
        if (chunks.Count < 4 || !IsKey(chunks[0]) || chunks[1].Op != (byte)OpCode.OP_CHECKSIG)
        {
            return false;
        }

        return TryFieldsThenDrops(chunks, 2, chunks.Count, chunks[0].Data, out decoded);
    }

    private static bool TryLockAfter(List<(byte Op, byte[] Data)> chunks, out PushDropFields decoded)
    {
        decoded = default;
        int n = chunks.Count;
        if (n < 4 || chunks[n - 1].Op != (byte)OpCode.OP_CHECKSIG || !IsKey(chunks[n - 2]))
        {
            return false;
        }

        return TryFieldsThenDrops(chunks, 0, n - 2, chunks[n - 2].Data, out decoded);
    }

    /// <summary>Fields in [start, end) are pushes followed by exactly enough OP_2DROP/OP_DROP to remove them.</summary>
    private static bool TryFieldsThenDrops(List<(byte Op, byte[] Data)> chunks, int start, int end, byte[] key, out PushDropFields decoded)
    {
        decoded = default;
        var fields = new List<byte[]>();
        int i = start;
        for (; i < end && IsPush(chunks[i].Op); i++)
        {
            fields.Add(FieldValue(chunks[i]));
        }

        int dropped = 0;
        for (; i < end; i++)
        {
            dropped += chunks[i].Op switch
            {
                (byte)OpCode.OP_2DROP => 2,
                (byte)OpCode.OP_DROP => 1,
                _ => int.MinValue / 2,
            };
        }

        if (fields.Count == 0 || fields.Count > MaxFields || dropped != fields.Count)
        {
            return false;
        }

        PublicKey owner;
        try
        {
            owner = PublicKey.FromBytes(key);
        }
        catch (ArgumentException)
        {
            return false;
        }

        decoded = new PushDropFields(owner, fields);
        return true;
    }

    private static bool IsKey((byte Op, byte[] Data) chunk) => chunk.Data.Length is 33 or 65 && chunk.Op == chunk.Data.Length;

    private static bool IsPush(byte op) => op <= (byte)OpCode.OP_PUSHDATA4 || op == (byte)OpCode.OP_1NEGATE || op is >= (byte)OpCode.OP_1 and <= (byte)OpCode.OP_16;

    private static byte[] FieldValue((byte Op, byte[] Data) chunk) => chunk.Op switch
    {
        (byte)OpCode.OP_0 => [0],
        (byte)OpCode.OP_1NEGATE => [0x81],
        >= (byte)OpCode.OP_1 and <= (byte)OpCode.OP_16 => [(byte)(chunk.Op - (byte)OpCode.OP_1 + 1)],
        _ => chunk.Data,
    };
}

/// <summary>A decoded PushDrop script: who may spend it, and its data fields in order.</summary>
public readonly record struct PushDropFields(PublicKey Owner, IReadOnlyList<byte[]> Fields);
