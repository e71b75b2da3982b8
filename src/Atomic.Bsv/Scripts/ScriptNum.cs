using System.Numerics;

namespace Atomic.Bsv.Scripts;

/// <summary>
/// Script numbers: little-endian sign-magnitude of any length (after Genesis), with the node's minimal-encoding rule.
/// </summary>
public static class ScriptNum
{
    /// <summary>The node's minimal-encoding rule: no trailing 0x00/0x80 byte unless it carries the sign.</summary>
    public static bool IsMinimallyEncoded(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return true;
        }

        if ((bytes[^1] & 0x7f) != 0)
        {
            return true;
        }

        return bytes.Length > 1 && (bytes[^2] & 0x80) != 0;
    }

    /// <summary>Decodes without range or encoding checks.</summary>
    public static BigInteger Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return BigInteger.Zero;
        }

        if (bytes.Length <= 7)
        {
            long v = 0;
            for (int i = 0; i < bytes.Length; i++)
            {
                v |= (long)bytes[i] << (8 * i);
            }

            long signBit = 0x80L << (8 * (bytes.Length - 1));
            return (v & signBit) != 0 ? -(v & ~signBit) : v;
        }

        bool negative = (bytes[^1] & 0x80) != 0;
        byte[] magnitude = bytes.ToArray();
        magnitude[^1] &= 0x7f;
        var value = new BigInteger(magnitude, isUnsigned: true, isBigEndian: false);
        return negative ? -value : value;
    }

    /// <summary>The minimal encoding of <paramref name="value"/> (zero is the empty array).</summary>
    public static byte[] Encode(BigInteger value)
    {
        if (value.IsZero)
        {
            return [];
        }

        bool negative = value.Sign < 0;
        BigInteger abs = BigInteger.Abs(value);
        int length = abs.GetByteCount(isUnsigned: true);
        bool extra = (abs.GetBitLength() % 8) == 0;
        byte[] result = new byte[length + (extra ? 1 : 0)];
        abs.TryWriteBytes(result, out _, isUnsigned: true, isBigEndian: false);
        if (extra)
        {
            result[^1] = negative ? (byte)0x80 : (byte)0;
        }
        else if (negative)
        {
            result[^1] |= 0x80;
        }

        return result;
    }

    public static byte[] Encode(long value) => Encode(new BigInteger(value));

    /// <summary>Strips redundant trailing bytes, keeping the sign: the node's <c>MinimallyEncode</c> (OP_BIN2NUM, OP_NUM2BIN).</summary>
    public static byte[] MinimallyEncode(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            return [];
        }

        byte last = data[^1];
        if ((last & 0x7f) != 0)
        {
            return data.ToArray();
        }

        if (data.Length == 1)
        {
            return [];
        }

        if ((data[^2] & 0x80) != 0)
        {
            return data.ToArray();
        }

        for (int i = data.Length - 1; i > 0; i--)
        {
            if (data[i - 1] != 0)
            {
                if ((data[i - 1] & 0x80) != 0)
                {
                    byte[] r = data[..(i + 1)].ToArray();
                    r[i] = last;
                    return r;
                }

                byte[] s = data[..i].ToArray();
                s[^1] |= last;
                return s;
            }
        }

        return [];
    }

    /// <summary>Cast of a stack item to a boolean: any non-zero byte, except a lone sign bit at the end (negative zero).</summary>
    public static bool CastToBool(ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] != 0)
            {
                return !(i == value.Length - 1 && value[i] == 0x80);
            }
        }

        return false;
    }
}
