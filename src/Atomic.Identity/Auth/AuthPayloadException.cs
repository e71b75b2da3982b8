namespace Atomic.Identity.Auth;

/// <summary>A BRC-103 message or BRC-104 payload that cannot be read or does not check out.</summary>
public sealed class AuthPayloadException : FormatException
{
    /// <summary>An error at <paramref name="offset"/> of a payload (-1 when not about a position).</summary>
    public AuthPayloadException(string message, long offset = -1, Exception? innerException = null)
        : base(offset >= 0 ? $"{message} (at byte {offset})" : message, innerException)
    {
        Offset = offset;
    }

    /// <summary>Where in the payload the problem was found, or -1.</summary>
    public long Offset { get; }
}
