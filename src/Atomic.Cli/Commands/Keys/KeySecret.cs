using System.Text;

namespace Atomic.Cli.Commands.Keys;

/// <summary>
/// Where a command's key comes from: an environment variable (<c>ATOMIC_KEY</c> unless named) or stdin (<c>-</c>),
/// never the command line itself, which shell history and process listings keep.
/// </summary>
internal static class KeySecret
{
    /// <summary>The variable the key commands read when <c>--key-from</c> is not given.</summary>
    public const string DefaultVariable = "ATOMIC_KEY";

    private const int MaxStdinBytes = 64 * 1024;

    /// <summary>
    /// The text of <paramref name="source"/>: the environment variable of that name, or stdin for <c>-</c>; surrounding
    /// whitespace removed.
    /// </summary>
    /// <exception cref="CliUsageException">The variable is unset or empty, or stdin is empty or too long.</exception>
    public static async Task<string> ReadAsync(string source, CliConsole console, CancellationToken ct)
    {
        if (source == "-")
        {
            var buffer = new MemoryStream();
            byte[] chunk = new byte[4096];
            int read;
            while ((read = await console.In.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > MaxStdinBytes)
                {
                    throw new CliUsageException($"stdin holds more than {MaxStdinBytes / 1024} KiB: a key is a line of text");
                }

                buffer.Write(chunk, 0, read);
            }

            string text = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length).Trim();
            return text.Length > 0
                ? text
                : throw new CliUsageException("stdin is empty: pipe in a mnemonic, an extended key (xprv, xpub, tprv, tpub), a WIF or a hex key");
        }

        if (!IsVariableName(source))
        {
            throw new CliUsageException($"--key-from takes the name of an environment variable, or - for stdin; '{Shorten(source)}' is neither "
                + "(a key itself never goes on the command line, where shell history keeps it)");
        }

        string? value = Environment.GetEnvironmentVariable(source)?.Trim();
        if (!string.IsNullOrEmpty(value))
        {
            return value;
        }

        if (IsKey(source))
        {
            throw new CliUsageException($"--key-from takes the name of an environment variable, or - for stdin, and '{Shorten(source)}' is a key itself: "
                + $"a key never goes on the command line, where shell history keeps it; put it in ${DefaultVariable} or pipe it in with --key-from -");
        }

        throw new CliUsageException($"${source} is not set: put a mnemonic, an extended key (xprv, xpub, tprv, tpub), a WIF or a hex key in it, "
            + "or pipe one in with --key-from -");
    }

    /// <summary>The BIP39 passphrase in environment variable <paramref name="variable"/>, or null when no variable is named.</summary>
    /// <exception cref="CliUsageException">The variable is named but not set.</exception>
    public static string? ReadPassphrase(string? variable)
    {
        if (variable is null)
        {
            return null;
        }

        if (!IsVariableName(variable))
        {
            throw new CliUsageException($"--passphrase-env takes the name of an environment variable, not '{Shorten(variable)}'");
        }

        // Taken as it is: spaces at either end are part of a BIP39 passphrase.
        return Environment.GetEnvironmentVariable(variable)
            ?? throw new CliUsageException($"${variable} (--passphrase-env) is not set");
    }

    /// <summary>How errors name the source: <c>$ATOMIC_KEY</c> or <c>stdin</c>.</summary>
    public static string Describe(string source) => source == "-" ? "stdin" : $"${source}";

    private static bool IsKey(string text)
    {
        try
        {
            _ = KeyMaterial.Parse(text, "-");
            return true;
        }
        catch (CliUsageException)
        {
            return false;
        }
    }

    private static bool IsVariableName(string name) =>
        name.Length is > 0 and <= 256 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    // Whatever was typed where a name belongs may be a secret: only its start goes into the message.
    private static string Shorten(string text) => text.Length <= 6 ? text : text[..4] + "…";
}
