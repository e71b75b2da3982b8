namespace Atomic.Bsv.Primitives;

/// <summary>Lower-case hex, and the reversed "display order" used for txids and block hashes.</summary>
public static class Hex
{
    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>Decodes hex (either case); a bad digit or odd length throws <see cref="FormatException"/>.</summary>
    public static byte[] Decode(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        return Convert.FromHexString(hex);
    }

    public static bool TryDecode(ReadOnlySpan<char> hex, out byte[] bytes)
    {
        if ((hex.Length & 1) != 0)
        {
            bytes = [];
            return false;
        }

        bytes = new byte[hex.Length / 2];
        return Convert.FromHexString(hex, bytes, out _, out _) == System.Buffers.OperationStatus.Done;
    }

    /// <summary>Hex of the bytes in reverse order (txids, block hashes and merkle roots are shown this way).</summary>
    public static string EncodeReversed(ReadOnlySpan<byte> bytes)
    {
        Span<byte> copy = bytes.Length <= 256 ? stackalloc byte[bytes.Length] : new byte[bytes.Length];
        bytes.CopyTo(copy);
        copy.Reverse();
        return Convert.ToHexStringLower(copy);
    }

    public static byte[] DecodeReversed(string hex)
    {
        byte[] bytes = Decode(hex);
        Array.Reverse(bytes);
        return bytes;
    }
}
