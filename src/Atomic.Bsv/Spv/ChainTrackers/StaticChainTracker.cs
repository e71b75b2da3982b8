using System.Text.Json;
using Atomic.Bsv.Primitives;

namespace Atomic.Bsv.Spv.ChainTrackers;

/// <summary>
/// A chain tracker over merkle roots known in advance (fixtures, pinned checkpoints, offline verification).
/// Answers synchronously from a height → root dictionary; the current height is the largest height it holds (0 when empty).
/// </summary>
public sealed class StaticChainTracker : IChainTracker
{
    private readonly Dictionary<uint, Hash256> _roots;
    private readonly uint _currentHeight;

    /// <summary>Builds the tracker from (height, root) pairs; the same height twice with different roots is rejected.</summary>
    /// <exception cref="ArgumentException">A height appears twice with different roots.</exception>
    public StaticChainTracker(IEnumerable<(uint Height, Hash256 Root)> roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        _roots = [];
        foreach ((uint height, Hash256 root) in roots)
        {
            if (_roots.TryGetValue(height, out Hash256 existing))
            {
                if (existing != root)
                {
                    throw new ArgumentException(
                        $"height {height} is given two different merkle roots: {existing.ToDisplayHex()} and {root.ToDisplayHex()}",
                        nameof(roots));
                }

                continue;
            }

            _roots.Add(height, root);
            _currentHeight = Math.Max(_currentHeight, height);
        }
    }

    /// <summary>Number of heights known.</summary>
    public int Count => _roots.Count;

    /// <summary>
    /// Reads a JSON array of <c>{"height": &lt;int&gt;, "merkleRoot": "&lt;64 hex digits, display byte order&gt;"}</c>.
    /// Other fields are ignored; an empty array is allowed.
    /// </summary>
    /// <exception cref="FormatException">
    /// Not JSON, not an array, or an element with a missing or invalid field (the message names the index and field),
    /// or the same height twice with different roots.
    /// </exception>
    public static StaticChainTracker FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"chain tracker roots: not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            JsonElement array = document.RootElement;
            if (array.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException($"chain tracker roots: expected a JSON array, found {array.ValueKind}");
            }

            var roots = new Dictionary<uint, Hash256>();
            int index = 0;
            foreach (JsonElement element in array.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException($"chain tracker roots [{index}]: expected an object, found {element.ValueKind}");
                }

                uint height = ReadHeight(element, index);
                Hash256 root = ReadRoot(element, index);
                if (roots.TryGetValue(height, out Hash256 existing) && existing != root)
                {
                    throw new FormatException(
                        $"chain tracker roots [{index}].merkleRoot: height {height} already has the different root {existing.ToDisplayHex()}");
                }

                roots[height] = root;
                index++;
            }

            return new StaticChainTracker(roots.Select(kv => (kv.Key, kv.Value)));
        }
    }

    /// <summary>Reads the <see cref="FromJson"/> format from a file (UTF-8).</summary>
    /// <exception cref="FormatException">The content is invalid; the message starts with the path.</exception>
    public static StaticChainTracker FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json = File.ReadAllText(path);
        try
        {
            return FromJson(json);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> IsValidRootForHeightAsync(Hash256 root, uint height, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        return ValueTask.FromResult(Matches(root, height));
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<bool>> AreValidRootsAsync(IReadOnlyList<MerkleRootQuery> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IReadOnlyList<bool>>(cancellationToken);
        }

        bool[] answers = new bool[queries.Count];
        for (int i = 0; i < answers.Length; i++)
        {
            answers[i] = Matches(queries[i].Root, queries[i].Height);
        }

        return ValueTask.FromResult<IReadOnlyList<bool>>(answers);
    }

    /// <inheritdoc />
    public ValueTask<uint> CurrentHeightAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<uint>(cancellationToken);
        }

        return ValueTask.FromResult(_currentHeight);
    }

    private bool Matches(Hash256 root, uint height) => _roots.TryGetValue(height, out Hash256 known) && known == root;

    private static uint ReadHeight(JsonElement element, int index)
    {
        if (!element.TryGetProperty("height", out JsonElement value))
        {
            throw new FormatException($"chain tracker roots [{index}].height: missing");
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new FormatException($"chain tracker roots [{index}].height: expected an integer, found {value.ValueKind}");
        }

        if (value.TryGetInt64(out long height))
        {
            if (height < 0)
            {
                throw new FormatException($"chain tracker roots [{index}].height: {height} is negative");
            }

            if (height > uint.MaxValue)
            {
                throw new FormatException($"chain tracker roots [{index}].height: {height} is larger than {uint.MaxValue}");
            }

            return (uint)height;
        }

        // Not a 64-bit integer: a fraction, an exponent form, or out of range.
        string raw = value.GetRawText();
        if (value.TryGetDouble(out double d) && d < 0)
        {
            throw new FormatException($"chain tracker roots [{index}].height: {raw} is negative");
        }

        if (value.TryGetDouble(out d) && d > uint.MaxValue)
        {
            throw new FormatException($"chain tracker roots [{index}].height: {raw} is larger than {uint.MaxValue}");
        }

        throw new FormatException($"chain tracker roots [{index}].height: {raw} is not an integer");
    }

    private static Hash256 ReadRoot(JsonElement element, int index)
    {
        if (!element.TryGetProperty("merkleRoot", out JsonElement value))
        {
            throw new FormatException($"chain tracker roots [{index}].merkleRoot: missing");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new FormatException($"chain tracker roots [{index}].merkleRoot: expected a string, found {value.ValueKind}");
        }

        if (!Hash256.TryFromDisplayHex(value.GetString(), out Hash256 root))
        {
            throw new FormatException($"chain tracker roots [{index}].merkleRoot: expected 64 hex digits (display byte order)");
        }

        return root;
    }
}
