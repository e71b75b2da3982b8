using System.Globalization;

namespace Atomic.Bsv.Primitives.Keys;

/// <summary>
/// A BIP32 derivation path such as <c>m/44'/236'/0'/0/0</c>: child indexes from the key it is applied to, a hardened
/// index written with <c>'</c>, <c>h</c> or <c>H</c> after the number.
/// </summary>
public sealed class DerivationPath : IEquatable<DerivationPath>
{
    /// <summary>Added to an index to make it hardened (2^31).</summary>
    public const uint HardenedBit = 0x8000_0000;

    /// <summary>The BIP44 coin type of BSV in SLIP-44.</summary>
    public const uint BsvCoinType = 236;

    private readonly uint[] _indexes;

    /// <summary>The path of these child indexes, hardened ones with <see cref="HardenedBit"/> set.</summary>
    public DerivationPath(params ReadOnlySpan<uint> indexes) => _indexes = indexes.ToArray();

    /// <summary>The empty path, <c>m</c>: the key itself.</summary>
    public static DerivationPath Master { get; } = new();

    /// <summary>
    /// BIP44's external chain of BSV's first account, <c>m/44'/236'/0'/0</c>; its child <c>i</c> is the account's
    /// i-th receiving key.
    /// </summary>
    public static DerivationPath Bip44Receiving { get; } = new(44 | HardenedBit, BsvCoinType | HardenedBit, HardenedBit, 0);

    /// <summary>The child indexes, hardened ones with <see cref="HardenedBit"/> set.</summary>
    public IReadOnlyList<uint> Indexes => _indexes;

    /// <summary>Whether any step is hardened (such a path cannot be followed from a public extended key).</summary>
    public bool HasHardenedStep => _indexes.Any(i => i >= HardenedBit);

    /// <summary>
    /// Reads <c>m/44'/236'/0'/0/0</c>, <c>m/0h/1</c>, <c>0/1</c> or <c>m</c>: an optional leading <c>m</c>, then
    /// numbers below 2^31, each optionally marked hardened.
    /// </summary>
    /// <exception cref="ArgumentException">The text is not such a path; the message names the step at fault.</exception>
    public static DerivationPath Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            throw new ArgumentException("A derivation path is empty; write m for the key itself, or m/0/1 for a child's child.", nameof(text));
        }

        string[] steps = trimmed.Split('/');
        int first = steps[0] is "m" or "M" ? 1 : 0;
        var indexes = new uint[steps.Length - first];
        for (int i = first; i < steps.Length; i++)
        {
            indexes[i - first] = ParseStep(steps[i], i - first + 1, text);
        }

        return new DerivationPath(indexes);
    }

    /// <summary>This path followed by one more child index.</summary>
    public DerivationPath Child(uint index) => new([.. _indexes, index]);

    /// <summary>The path as <c>m/44'/236'/0'/0/0</c>.</summary>
    public override string ToString() =>
        _indexes.Length == 0 ? "m" : "m/" + string.Join('/', _indexes.Select(FormatIndex));

    /// <summary>One index as a path step: <c>5</c>, or <c>5'</c> when hardened.</summary>
    public static string FormatIndex(uint index) =>
        index >= HardenedBit ? $"{index - HardenedBit}'" : index.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public bool Equals(DerivationPath? other) => other is not null && _indexes.AsSpan().SequenceEqual(other._indexes);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as DerivationPath);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (uint index in _indexes)
        {
            hash.Add(index);
        }

        return hash.ToHashCode();
    }

    private static uint ParseStep(string step, int position, string path)
    {
        bool hardened = step.Length > 1 && step[^1] is '\'' or 'h' or 'H';
        ReadOnlySpan<char> digits = hardened ? step.AsSpan(0, step.Length - 1) : step;
        if (digits.Length == 0 || digits.ContainsAnyExceptInRange('0', '9') || !uint.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out uint index))
        {
            throw new ArgumentException(
                $"Step {position} of the path '{path}' is '{step}', not an index: write a number below 2^31, with ' or h after it for a hardened child.",
                "text");
        }

        if (index >= HardenedBit)
        {
            throw new ArgumentException(
                $"Step {position} of the path '{path}' is {index}, which is not below 2^31; write {index - HardenedBit}' for hardened index {index}.",
                "text");
        }

        return hardened ? index | HardenedBit : index;
    }
}
