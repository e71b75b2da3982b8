using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;

namespace Atomic.Services.Pipeline;

/// <summary>A verified BEEF's transaction in Extended Format, the form ARC takes.</summary>
public static class ExtendedFormats
{
    /// <summary>Whether the BEEF holds, besides <paramref name="subject"/>, a transaction in full with no merkle path.</summary>
    public static bool HasUnprovenAncestor(Beef beef, Hash256 subject)
    {
        ArgumentNullException.ThrowIfNull(beef);
        foreach (BeefTx entry in beef.Transactions)
        {
            if (!entry.IsProven && !entry.IsTxIdOnly && entry.TxId != subject)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The subject's Extended Format (hex) when it is all there is to broadcast (every other transaction in the BEEF is
    /// mined); null when an unconfirmed ancestor must go first, or the subject cannot be put in Extended Format.
    /// </summary>
    public static string? OfSubjectAlone(Beef beef, Hash256 subject)
    {
        if (HasUnprovenAncestor(beef, subject))
        {
            return null;
        }

        try
        {
            return ExtendedTransaction.FromBeef(beef, subject).ToHex();
        }
        catch (BsvFormatException)
        {
            return null; // the broadcaster reads the BEEF and reports what is wrong
        }
    }
}
