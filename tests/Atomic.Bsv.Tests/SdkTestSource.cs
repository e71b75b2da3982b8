using System.Text.RegularExpressions;

namespace Atomic.Bsv.Tests;

/// <summary>
/// Reads string constants and vector arrays out of @bsv/sdk@2.1.0's own TypeScript tests (installed by ./test.sh),
/// so that the reference's fixtures are used as published rather than copied into this repository.
/// </summary>
internal static partial class SdkTestSource
{
    public static string Read(string relativePath) =>
        File.ReadAllText(Path.Combine(TestPaths.BsvSdk, "src", relativePath));

    /// <summary>The value of <c>const NAME = 'literal'</c> (possibly on the next line).</summary>
    public static string StringConstant(string relativePath, string name)
    {
        Match m = Regex.Match(Read(relativePath), $@"const {Regex.Escape(name)}\s*(?::\s*string\s*)?=\s*'([^']*)'");
        return m.Success ? m.Groups[1].Value : throw new InvalidOperationException($"no string constant {name} in {relativePath}");
    }

    /// <summary>Every <c>field: 'literal'</c> in order, e.g. the bump and error fields of the vector files.</summary>
    public static IReadOnlyList<string> FieldValues(string relativePath, string field) =>
        FieldRegex(field).Matches(Read(relativePath)).Select(m => m.Groups[1].Value).ToArray();

    /// <summary>All 64-hex-digit strings inside the object literal that follows <c>const NAME =</c>.</summary>
    public static IReadOnlyList<string> HashesIn(string relativePath, string name)
    {
        string text = Read(relativePath);
        int start = text.IndexOf($"const {name} =", StringComparison.Ordinal);
        if (start < 0)
        {
            throw new InvalidOperationException($"no constant {name} in {relativePath}");
        }

        int end = text.IndexOf("\n}", start, StringComparison.Ordinal);
        return Hex64().Matches(text[start..end]).Select(m => m.Groups[1].Value).ToArray();
    }

    /// <summary>The string literals of <c>const NAME: string[] = [ ... ]</c>, in order.</summary>
    public static IReadOnlyList<string> ArrayStrings(string relativePath, string name)
    {
        string text = Read(relativePath);
        Match start = Regex.Match(text, $@"const {Regex.Escape(name)}(?::\s*string\[\])?\s*=\s*\[");
        if (!start.Success)
        {
            throw new InvalidOperationException($"no array {name} in {relativePath}");
        }

        int end = text.IndexOf("\n]", start.Index, StringComparison.Ordinal);
        return Regex.Matches(text[start.Index..end], "'([^']*)'").Select(m => m.Groups[1].Value).ToArray();
    }

    private static Regex FieldRegex(string field) => new($@"\b{Regex.Escape(field)}:\s*'([^']*)'");

    [GeneratedRegex("'([0-9a-f]{64})'")]
    private static partial Regex Hex64();
}
