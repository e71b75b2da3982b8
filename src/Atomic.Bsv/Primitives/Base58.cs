
namespace Atomic.Bsv.Primitives;

/// <summary>Bitcoin's Base58 alphabet and Base58Check (payload + first four bytes of double SHA-256).</summary>
public static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    private static readonly sbyte[] Digits = BuildDigits();

    /// <summary>Base58 text of the bytes; each leading zero byte becomes a leading '1'.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        int zeros = 0;
        while (zeros < data.Length && data[zeros] == 0)
        {
            zeros++;
        }

        // log(256)/log(58) ≈ 1.366, so this many base-58 digits always suffice.
        int capacity = ((data.Length - zeros) * 138 / 100) + 1;
        Span<byte> digits = capacity <= 256 ? stackalloc byte[capacity] : new byte[capacity];
        int length = 0;
        for (int i = zeros; i < data.Length; i++)
        {
            int carry = data[i];
            for (int j = 0; j < length; j++)
            {
                carry += digits[j] << 8;
                digits[j] = (byte)(carry % 58);
                carry /= 58;
            }

            while (carry > 0)
            {
                digits[length++] = (byte)(carry % 58);
                carry /= 58;
            }
        }

        var chars = new char[zeros + length];
        chars.AsSpan(0, zeros).Fill('1');
        for (int i = 0; i < length; i++)
        {
            chars[zeros + i] = Alphabet[digits[length - 1 - i]];
        }

        return new string(chars);
    }

    /// <summary>The bytes of Base58 text.</summary>
    /// <exception cref="ArgumentException">The text holds a character outside the Base58 alphabet.</exception>
    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        int zeros = 0;
        while (zeros < text.Length && text[zeros] == '1')
        {
            zeros++;
        }

        // log(58)/log(256) ≈ 0.733.
        int capacity = ((text.Length - zeros) * 733 / 1000) + 1;
        var bytes = new byte[capacity];
        int length = 0;
        for (int i = zeros; i < text.Length; i++)
        {
            char c = text[i];
            int carry = c < 128 ? Digits[c] : -1;
            if (carry < 0)
            {
                throw new ArgumentException($"'{c}' at position {i} is not a Base58 character.", nameof(text));
            }

            for (int j = 0; j < length; j++)
            {
                carry += bytes[j] * 58;
                bytes[j] = (byte)carry;
                carry >>= 8;
            }

            while (carry > 0)
            {
                bytes[length++] = (byte)carry;
                carry >>= 8;
            }
        }

        var result = new byte[zeros + length];
        for (int i = 0; i < length; i++)
        {
            result[zeros + i] = bytes[length - 1 - i];
        }

        return result;
    }

    /// <summary>Base58Check text: the payload followed by the first four bytes of its double SHA-256.</summary>
    public static string EncodeCheck(ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[payload.Length + 4];
        payload.CopyTo(buffer);
        Checksum(payload, buffer.AsSpan(payload.Length));
        return Encode(buffer);
    }

    /// <summary>The payload of Base58Check text, after checking its four-byte checksum.</summary>
    /// <exception cref="ArgumentException">The text is not Base58, is too short, or its checksum does not match.</exception>
    public static byte[] DecodeCheck(string text)
    {
        byte[] data = Decode(text);
        if (data.Length < 4)
        {
            throw new ArgumentException("Base58Check text must carry at least a four-byte checksum.", nameof(text));
        }

        var payload = data.AsSpan(0, data.Length - 4);
        Span<byte> checksum = stackalloc byte[4];
        Checksum(payload, checksum);
        if (!checksum.SequenceEqual(data.AsSpan(data.Length - 4)))
        {
            throw new ArgumentException("The Base58Check checksum does not match.", nameof(text));
        }

        return payload.ToArray();
    }

    private static void Checksum(ReadOnlySpan<byte> payload, Span<byte> destination4)
    {
        Span<byte> digest = stackalloc byte[32];
        Hashes.Hash256(payload, digest);
        digest[..4].CopyTo(destination4);
    }

    private static sbyte[] BuildDigits()
    {
        var digits = new sbyte[128];
        Array.Fill(digits, (sbyte)-1);
        for (int i = 0; i < Alphabet.Length; i++)
        {
            digits[Alphabet[i]] = (sbyte)i;
        }

        return digits;
    }
}
