using System.Diagnostics.CodeAnalysis;

namespace Atomic.Bsv.Primitives;

/// <summary>Malformed wire data: the one exception every parser throws, carrying the byte offset and a reason code.</summary>
public sealed class BsvFormatException : FormatException
{
    public BsvFormatException(string code, long offset, string message)
        : base($"{code} at offset {offset}: {message}")
    {
        Code = code;
        Offset = offset;
        Reason = message;
    }

    /// <summary>A code from <see cref="ReasonCodes"/>.</summary>
    public string Code { get; }

    /// <summary>Byte offset in the input where the problem was found.</summary>
    public long Offset { get; }

    /// <summary>The message without code and offset.</summary>
    public string Reason { get; }

    [DoesNotReturn]
    internal static void Throw(string code, long offset, string message) => throw new BsvFormatException(code, offset, message);
}
