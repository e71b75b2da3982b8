using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Services.Identity;

/// <summary>BRC-103/104 mutual authentication of this server (section <c>Atomic:Identity</c>).</summary>
public sealed class BsvAuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Atomic:Identity";

    /// <summary>
    /// The server's identity key, as 64 hex digits or WIF (<c>Atomic:Identity:ServerPrivateKey</c>). Required outside
    /// Development; in Development a missing key is replaced by a random one for the life of the process.
    /// </summary>
    public string? ServerPrivateKey { get; set; }

    /// <summary>How long a session may go unused before the client shakes hands again (<c>…:SessionLifetime</c>).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The most sessions held at once (<c>…:MaxSessions</c>); past it the least recently used is dropped.</summary>
    public int MaxSessions { get; set; } = 100_000;

    /// <summary>
    /// How long the first signed request of a session asked for certificates waits for the certificateResponse
    /// (<c>…:CertificateWait</c>, default 5 s): @bsv/sdk's AuthFetch sends both at once.
    /// </summary>
    public TimeSpan CertificateWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest request body a signed request may carry, in bytes (it is read whole to check the signature).</summary>
    public long MaxBodyBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Reads <see cref="ServerPrivateKey"/>: hex, then WIF; null when it is neither.</summary>
    internal static PrivateKey? ParseKey(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        try
        {
            return text.Length == 64 ? PrivateKey.FromHex(text) : PrivateKey.FromWif(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }
}
