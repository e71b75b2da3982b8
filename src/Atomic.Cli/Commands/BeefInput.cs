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
        if (trimmed.Length > 0 && (trimmed.Length & 1) == 0 && IsAsciiHex(trimmed))
        {
            byte[] bytes = new byte[trimmed.Length / 2];
            Convert.FromHexString(System.Text.Encoding.ASCII.GetString(trimmed), bytes, out _, out _);
            return bytes;
        }

        return input;
    }

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

    private static bool IsAsciiHex(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            if (!char.IsAsciiHexDigit((char)b))
            {
                return false;
            }
        }

        return true;
    }
}
