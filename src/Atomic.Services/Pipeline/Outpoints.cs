using System.Globalization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Transactions;

namespace Atomic.Services.Pipeline;

/// <summary>Outpoints as the overlay writes them (BRC-100's <c>txid.vout</c>): display-order txid in lower-case hex, a dot, the output index in decimal.</summary>
public static class Outpoints
{
    public static string Format(OutPoint outPoint) => Format(outPoint.TxId.ToDisplayHex(), outPoint.Index);

    public static string Format(string txid, uint vout) => $"{txid}.{vout.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Reads <c>txid.vout</c> (hex in either case; no sign, no leading zeros) and answers it normalized.</summary>
    public static bool TryParse(string? text, out OutPoint outPoint, out string normalized)
    {
        outPoint = default;
        normalized = string.Empty;
        if (text is null || text.Length is < 66 or > 75 || text[64] != '.')
        {
            return false;
        }

        ReadOnlySpan<char> vout = text.AsSpan(65);
        if (!Hash256.TryFromDisplayHex(text[..64], out Hash256 txid)
            || !uint.TryParse(vout, NumberStyles.None, CultureInfo.InvariantCulture, out uint index)
            || (vout.Length > 1 && vout[0] == '0'))
        {
            return false;
        }

        outPoint = new OutPoint(txid, index);
        normalized = Format(outPoint);
        return true;
    }

    /// <summary>Whether <paramref name="text"/> is a txid: 64 hex characters.</summary>
    public static bool IsTxId(string? text) => text is { Length: 64 } && Hash256.TryFromDisplayHex(text, out _);
}
