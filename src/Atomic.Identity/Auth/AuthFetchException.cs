namespace Atomic.Identity.Auth;

/// <summary>
/// A BRC-103/104 call that <see cref="AuthFetchHandler"/> refused: the handshake failed or the answer is not the server's.
/// </summary>
public sealed class AuthFetchException : HttpRequestException
{
    /// <summary>A refusal with its reason code (one of <see cref="AuthReasons"/>).</summary>
    public AuthFetchException(string reason, string message, int? status = null, Exception? innerException = null)
        : base($"{reason}: {message}", innerException)
    {
        Reason = reason;
        Status = status;
    }

    /// <summary>The reason code.</summary>
    public string Reason { get; }

    /// <summary>The HTTP status of the refused answer, when there was one.</summary>
    public int? Status { get; }
}
