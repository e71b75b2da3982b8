namespace Atomic.Identity.Certificates;

/// <summary>
/// The order in which @bsv/sdk 2.1.0 writes certificate fields: <c>a.localeCompare(b)</c>, which in Node 20 is ICU's
/// collation for "en-US" (the CLDR root order). Reproduced exactly for printable ASCII names.
/// </summary>
/// <remarks>
/// The collation compares the whole names first by base character (punctuation, then digits, then letters without
/// regard to case), and only when those are equal by case, lower before upper. So "a_b" &lt; "ab" &lt; "aB" &lt; "b",
/// where ordinal order would give "aB" &lt; "a_b" &lt; "ab" &lt; "b". Names with other characters are refused, because
/// their order depends on ICU tables this library does not carry.
/// </remarks>
public sealed class FieldNameOrder : IComparer<string>
{
    // Printable ASCII in ICU root collation order (read from Node 20's localeCompare); letters share a base rank.
    private const string CollationOrder =
        " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789" + "aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ";

    private static readonly int[] PrimaryRank = BuildRanks();

    private FieldNameOrder()
    {
    }

    /// <summary>The one instance.</summary>
    public static FieldNameOrder Instance { get; } = new();

    /// <summary>True when @bsv/sdk's order of <paramref name="name"/> is reproduced here: printable ASCII only.</summary>
    public static bool IsSupported(string name) => name.All(c => c is >= ' ' and <= '~');

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">A name has a character outside printable ASCII.</exception>
    public int Compare(string? x, string? y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        Require(x);
        Require(y);
        int common = Math.Min(x.Length, y.Length);
        for (int i = 0; i < common; i++)
        {
            int primary = PrimaryRank[x[i]].CompareTo(PrimaryRank[y[i]]);
            if (primary != 0)
            {
                return primary;
            }
        }

        if (x.Length != y.Length)
        {
            return x.Length.CompareTo(y.Length);
        }

        // Same base characters throughout: the first difference in case decides, lower case first.
        for (int i = 0; i < x.Length; i++)
        {
            int tertiary = char.IsAsciiLetterUpper(x[i]).CompareTo(char.IsAsciiLetterUpper(y[i]));
            if (tertiary != 0)
            {
                return tertiary;
            }
        }

        return 0;
    }

    internal static void Require(string name)
    {
        if (!IsSupported(name))
        {
            throw new NotSupportedException(
                $"The certificate field name '{name}' has characters outside printable ASCII: "
                + "@bsv/sdk orders such names by ICU collation, which is not reproduced here.");
        }
    }

    private static int[] BuildRanks()
    {
        var ranks = new int[128];
        int rank = 0;
        foreach (char c in CollationOrder)
        {
            ranks[c] = char.IsAsciiLetterUpper(c) ? ranks[char.ToLowerInvariant(c)] : ++rank;
        }

        return ranks;
    }
}
