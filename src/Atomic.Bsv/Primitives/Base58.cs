using System.Buffers;
using NBitcoin.DataEncoders;

namespace Atomic.Bsv.Primitives;

/// <summary>
/// Bitcoin's Base58 alphabet and Base58Check (payload + first four bytes of double SHA-256), over NBitcoin's encoders,
/// which agree with ours byte for byte. We stay stricter than they are: whitespace is refused rather than trimmed, and
/// every failure is an <see cref="ArgumentException"/> that says what is wrong.
/// </summary>
/// <remarks>
/// NBitcoin.dll is loaded the first time one of these methods runs, never by parsing or verifying a BEEF: only WIF,
/// address and extended-key code calls them.
/// </remarks>
public static class Base58
{
    private static readonly SearchValues<char> Alphabet = SearchValues.Create("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz");

    /// <summary>Base58 text of the bytes; each leading zero byte becomes a leading '1'.</summary>
    public static string Encode(ReadOnlySpan<byte> data) => Encoders.Base58.EncodeData(data.ToArray());

    /// <summary>The bytes of Base58 text.</summary>
    /// <exception cref="ArgumentException">The text holds a character outside the Base58 alphabet.</exception>
    public static byte[] Decode(string text)
    {
        RequireAlphabet(text);
        return Encoders.Base58.DecodeData(text);
    }

    /// <summary>Base58Check text: the payload followed by the first four bytes of its double SHA-256.</summary>
    public static string EncodeCheck(ReadOnlySpan<byte> payload) => Encoders.Base58Check.EncodeData(payload.ToArray());

    /// <summary>The payload of Base58Check text, after checking its four-byte checksum.</summary>
    /// <exception cref="ArgumentException">The text is not Base58, is too short, or its checksum does not match.</exception>
    public static byte[] DecodeCheck(string text)
    {
        RequireAlphabet(text);
        try
        {
            return Encoders.Base58Check.DecodeData(text);
        }
        catch (FormatException e)
        {
            // Only two things can still be wrong; telling them apart costs a second decode on the failure path alone.
            string reason = Encoders.Base58.DecodeData(text).Length < 4
                ? "Base58Check text must carry at least a four-byte checksum."
                : "The Base58Check checksum does not match.";
            throw new ArgumentException(reason, nameof(text), e);
        }
    }

    private static void RequireAlphabet(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int bad = text.AsSpan().IndexOfAnyExcept(Alphabet);
        if (bad >= 0)
        {
            throw new ArgumentException($"'{text[bad]}' at position {bad} is not a Base58 character.", nameof(text));
        }
    }
}
