using System.Globalization;
using System.Numerics;
using System.Text;
using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Scripts;

/// <summary>An immutable script: its raw bytes, with the parsing and building helpers the interpreter and tests need.</summary>
public sealed class Script : IEquatable<Script>
{
    public static readonly Script Empty = new([]);

    private readonly ReadOnlyMemory<byte> _bytes;

    public Script(byte[] bytes) => _bytes = bytes ?? throw new ArgumentNullException(nameof(bytes));

    /// <summary>A script over a slice of a larger buffer (a parsed transaction's bytes) without copying it.</summary>
    public Script(ReadOnlyMemory<byte> bytes) => _bytes = bytes;

    public ReadOnlySpan<byte> Span => _bytes.Span;

    public ReadOnlyMemory<byte> Memory => _bytes;

    public int Length => _bytes.Length;

    public static Script FromHex(string hex) => new(Hex.Decode(hex));

    public static Script FromBytes(ReadOnlySpan<byte> bytes) => new(bytes.ToArray());

    public byte[] ToBytes() => _bytes.ToArray();

    public string ToHex() => Hex.Encode(_bytes.Span);

    /// <summary>True when every operation is a push (opcodes up to OP_16, as the node counts them) and none is malformed.</summary>
    public static bool IsPushOnly(ReadOnlySpan<byte> script)
    {
        var reader = new ScriptReader(script);
        while (reader.TryRead(out byte op, out _, out bool malformed))
        {
            if (malformed || op > (byte)OpCode.OP_16)
            {
                return false;
            }
        }

        return true;
    }

    public bool IsPushOnly() => IsPushOnly(_bytes.Span);

    /// <summary>The exact BIP16 template: OP_HASH160 0x14 &lt;20 bytes&gt; OP_EQUAL.</summary>
    public static bool IsPayToScriptHash(ReadOnlySpan<byte> script) =>
        script.Length == 23 && script[0] == (byte)OpCode.OP_HASH160 && script[1] == 0x14 && script[22] == (byte)OpCode.OP_EQUAL;

    /// <summary>OP_DUP OP_HASH160 &lt;20&gt; OP_EQUALVERIFY OP_CHECKSIG.</summary>
    public static bool IsPayToPublicKeyHash(ReadOnlySpan<byte> script) =>
        script.Length == 25 && script[0] == (byte)OpCode.OP_DUP && script[1] == (byte)OpCode.OP_HASH160 && script[2] == 0x14
        && script[23] == (byte)OpCode.OP_EQUALVERIFY && script[24] == (byte)OpCode.OP_CHECKSIG;

    /// <summary>The P2PKH locking script for a 20-byte public key hash.</summary>
    public static Script PayToPublicKeyHash(ReadOnlySpan<byte> pubKeyHash)
    {
        if (pubKeyHash.Length != 20)
        {
            throw new ArgumentException("a public key hash is 20 bytes", nameof(pubKeyHash));
        }

        byte[] s = new byte[25];
        s[0] = (byte)OpCode.OP_DUP;
        s[1] = (byte)OpCode.OP_HASH160;
        s[2] = 0x14;
        pubKeyHash.CopyTo(s.AsSpan(3));
        s[23] = (byte)OpCode.OP_EQUALVERIFY;
        s[24] = (byte)OpCode.OP_CHECKSIG;
        return new Script(s);
    }

    /// <summary>Appends the push of <paramref name="data"/> with the shortest length prefix (not the OP_n forms), as the node's <c>CScript &lt;&lt; vector</c>.</summary>
    public static void WritePushData(BsvWriter writer, ReadOnlySpan<byte> data)
    {
        if (data.Length < (int)OpCode.OP_PUSHDATA1)
        {
            writer.WriteByte((byte)data.Length);
        }
        else if (data.Length <= 0xff)
        {
            writer.WriteByte((byte)OpCode.OP_PUSHDATA1).WriteByte((byte)data.Length);
        }
        else if (data.Length <= 0xffff)
        {
            writer.WriteByte((byte)OpCode.OP_PUSHDATA2).WriteUInt16LE((ushort)data.Length);
        }
        else
        {
            writer.WriteByte((byte)OpCode.OP_PUSHDATA4).WriteUInt32LE((uint)data.Length);
        }

        writer.WriteBytes(data);
    }

    /// <summary>Appends the minimal push for data (OP_0, OP_1..OP_16, OP_1NEGATE where they apply).</summary>
    public static void WriteMinimalPush(BsvWriter writer, ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            writer.WriteByte((byte)OpCode.OP_0);
        }
        else if (data.Length == 1 && data[0] is >= 1 and <= 16)
        {
            writer.WriteByte((byte)((int)OpCode.OP_1 + data[0] - 1));
        }
        else if (data.Length == 1 && data[0] == 0x81)
        {
            writer.WriteByte((byte)OpCode.OP_1NEGATE);
        }
        else
        {
            WritePushData(writer, data);
        }
    }

    /// <summary>
    /// The node's <c>FindAndDelete</c>: removes every occurrence of <paramref name="pattern"/> that starts on an
    /// operation boundary. Returns the input itself when nothing matched.
    /// </summary>
    public static ReadOnlySpan<byte> FindAndDelete(ReadOnlySpan<byte> script, ReadOnlySpan<byte> pattern)
    {
        if (pattern.IsEmpty || script.IndexOf(pattern) < 0)
        {
            return script;
        }

        var result = new BsvWriter(script.Length);
        int found = 0;
        int pc = 0;
        int copyFrom = 0;
        var reader = new ScriptReader(script);
        while (true)
        {
            result.WriteBytes(script[copyFrom..pc]);
            while (script.Length - pc >= pattern.Length && script.Slice(pc, pattern.Length).SequenceEqual(pattern))
            {
                pc += pattern.Length;
                found++;
            }

            copyFrom = pc;
            // Re-seat the reader at pc, then step one operation.
            reader = new ScriptReader(script[pc..]);
            if (!reader.TryRead(out _, out _, out bool malformed) || malformed)
            {
                break;
            }

            pc += reader.Position;
        }

        if (found == 0)
        {
            return script;
        }

        result.WriteBytes(script[copyFrom..]);
        return result.ToArray();
    }

    /// <summary>The script with every OP_CODESEPARATOR removed (the original digest signs it so).</summary>
    public static ReadOnlySpan<byte> RemoveCodeSeparators(ReadOnlySpan<byte> script)
    {
        if (script.IndexOf((byte)OpCode.OP_CODESEPARATOR) < 0)
        {
            return script;
        }

        var result = new BsvWriter(script.Length);
        var reader = new ScriptReader(script);
        int start = 0;
        while (reader.TryRead(out byte op, out _, out bool malformed))
        {
            if (malformed)
            {
                result.WriteBytes(script[start..]);
                return result.ToArray();
            }

            if (op != (byte)OpCode.OP_CODESEPARATOR)
            {
                result.WriteBytes(script[start..reader.Position]);
            }

            start = reader.Position;
        }

        return result.ToArray();
    }

    /// <summary>
    /// Parses the node's test-vector ASM: opcode names with or without OP_, decimal numbers as minimal script numbers,
    /// 'quoted' strings pushed as UTF-8, and 0x… hex inserted raw.
    /// </summary>
    public static Script FromNodeAsm(string asm)
    {
        var w = new BsvWriter(asm.Length);
        int i = 0;
        while (i < asm.Length)
        {
            if (char.IsWhiteSpace(asm[i]))
            {
                i++;
                continue;
            }

            int start = i;
            string token;
            if (asm[i] == '\'')
            {
                int close = asm.IndexOf('\'', i + 1);
                if (close < 0)
                {
                    throw new FormatException($"unterminated string in script ASM at {i}");
                }

                token = asm[start..(close + 1)];
                i = close + 1;
            }
            else
            {
                while (i < asm.Length && !char.IsWhiteSpace(asm[i]))
                {
                    i++;
                }

                token = asm[start..i];
            }

            if (token.StartsWith("0x", StringComparison.Ordinal))
            {
                w.WriteBytes(Hex.Decode(token[2..]));
            }
            else if (token[0] == '\'')
            {
                // The node's test parser pushes strings with a plain length prefix, never as OP_n.
                WritePushData(w, Encoding.UTF8.GetBytes(token[1..^1]));
            }
            else if (IsDecimal(token))
            {
                BigInteger n = BigInteger.Parse(token, CultureInfo.InvariantCulture);
                if (n == -1 || (n >= 0 && n <= 16))
                {
                    w.WriteByte(n == 0 ? (byte)OpCode.OP_0 : n == -1 ? (byte)OpCode.OP_1NEGATE : (byte)((int)OpCode.OP_1 + (int)n - 1));
                }
                else
                {
                    WritePushData(w, ScriptNum.Encode(n));
                }
            }
            else if (OpCodeNames.TryParse(token, out byte op))
            {
                w.WriteByte(op);
            }
            else
            {
                throw new FormatException($"unknown script ASM token '{token}'");
            }
        }

        return new Script(w.ToArray());
    }

    private static bool IsDecimal(string token)
    {
        int start = token[0] == '-' ? 1 : 0;
        if (start == token.Length)
        {
            return false;
        }

        for (int k = start; k < token.Length; k++)
        {
            if (!char.IsAsciiDigit(token[k]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Readable ASM: opcode names, pushes as hex (OP_0 and OP_n kept as names).</summary>
    public string ToAsm()
    {
        var sb = new StringBuilder();
        var reader = new ScriptReader(_bytes.Span);
        while (reader.TryRead(out byte op, out ReadOnlySpan<byte> data, out bool malformed))
        {
            if (sb.Length > 0)
            {
                sb.Append(' ');
            }

            if (malformed)
            {
                sb.Append("[error: truncated push]");
                break;
            }

            if (op is > 0 and <= (byte)OpCode.OP_PUSHDATA4)
            {
                sb.Append(Hex.Encode(data));
            }
            else
            {
                sb.Append(OpCodeNames.NameOf(op) ?? $"0x{op:x2}");
            }
        }

        return sb.ToString();
    }

    public override string ToString() => ToAsm();

    public bool Equals(Script? other) => other is not null && _bytes.Span.SequenceEqual(other._bytes.Span);

    public override bool Equals(object? obj) => Equals(obj as Script);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(_bytes.Span);
        return h.ToHashCode();
    }
}
