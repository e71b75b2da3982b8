using System.Text;

namespace Atomic.Identity.Auth;

/// <summary>Text conversions as @bsv/sdk 2.1.0 does them in JavaScript, where the bytes it signs depend on them.</summary>
internal static class JsText
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>
    /// <c>new TextDecoder().decode(bytes)</c>: UTF-8 with U+FFFD for each maximal invalid subsequence (as .NET's
    /// decoder does since Core 3.0), and a leading byte order mark dropped.
    /// </summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }

        return Utf8.GetString(bytes);
    }

    /// <summary><c>new TextEncoder().encode(text)</c>: UTF-8, a lone surrogate written as U+FFFD.</summary>
    public static byte[] EncodeUtf8(string text) => Utf8.GetBytes(text);
}
