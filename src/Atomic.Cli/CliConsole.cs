namespace Atomic.Cli;

/// <summary>The streams a command reads and writes, so tests can run commands in-process.</summary>
public sealed record CliConsole(Stream In, TextWriter Out, TextWriter Error);

/// <summary>The CLI's exit codes.</summary>
public static class ExitCodes
{
    public const int Valid = 0;
    public const int Invalid = 1;
    public const int UsageOrIo = 2;
}

/// <summary>A usage or I/O problem: reported on stderr, exit code 2.</summary>
public sealed class CliUsageException(string message, Exception? inner = null) : Exception(message, inner);
