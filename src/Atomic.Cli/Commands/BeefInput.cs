using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;

namespace Atomic.Cli.Commands;

/// <summary>Reads one BEEF from a file or stdin ("-"), as hex text (surrounding whitespace ignored) or raw bytes.</summary>
internal static class BeefInput
{
    public static async Task<byte[]> ReadAllAsync(string? path, CliConsole console, CancellationToken ct)
    {
        if (path is null or "-")
        {
            using var buffer = new MemoryStream();
            await console.In.CopyToAsync(buffer, ct);
            return buffer.ToArray();
        }

        if (!File.Exists(path))
        {
            throw new CliUsageException($"no such file: {path}");
        }

        return await File.ReadAllBytesAsync(path, ct);
    }

    /// <summary>The BEEF bytes: hex text decoded, raw bytes as they are.</summary>
    public static byte[] Decode(byte[] input)
    {
        ReadOnlySpan<byte> trimmed = input.AsSpan().Trim(" \t\r\n"u8);
        if (trimmed.Length == 0 || (trimmed.Length & 1) != 0)
        {
            return input;
        }

        // Decoded straight from the ASCII bytes: no intermediate string twice the input's size.
        byte[] bytes = new byte[trimmed.Length / 2];
        for (int i = 0; i < bytes.Length; i++)
        {
            int high = HexValue(trimmed[2 * i]);
            int low = HexValue(trimmed[(2 * i) + 1]);
            if ((high | low) < 0)
            {
                return input; // not hex: raw bytes
            }

            bytes[i] = (byte)((high << 4) | low);
        }

        return bytes;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Parses the BEEF or throws a usage error naming the reason code (inspect, convert and ef need a readable BEEF).</summary>
    public static Beef Parse(byte[] input)
    {
        try
        {
            return Beef.FromBytes(Decode(input));
        }
        catch (BsvFormatException e)
        {
            throw new CliUsageException($"not a readable BEEF: {e.Message}", e);
        }
    }
}
