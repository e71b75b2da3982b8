using System.Text;

namespace Atomic.Overlay.Baskets;

/// <summary>
/// BRC-46 output baskets: names and tags are trimmed and lowercased, 1 to 300 UTF-8 bytes (as <c>@bsv/sdk</c>
/// validates them); <c>default</c> is kept for the wallet's change, and <c>||</c> is refused because names become keys.
/// </summary>
public static class BasketNames
{
    public const int MaxBytes = 300;

    /// <summary>The normalized basket name, or an <see cref="ArgumentException"/> saying what is wrong.</summary>
    public static string Normalize(string name) => Identifier(name, "basket", reserveDefault: true);

    /// <summary>The normalized tag.</summary>
    public static string NormalizeTag(string tag) => Identifier(tag, "tag", reserveDefault: false);

    private static string Identifier(string value, string what, bool reserveDefault)
    {
        ArgumentNullException.ThrowIfNull(value, what);
        string normalized = value.Trim().ToLowerInvariant();
        int bytes = Encoding.UTF8.GetByteCount(normalized);
        if (bytes is 0 or > MaxBytes)
        {
            throw new ArgumentException($"a {what} name is 1 to {MaxBytes} bytes once trimmed (got {bytes})", what);
        }

        if (normalized.Contains("||", StringComparison.Ordinal))
        {
            throw new ArgumentException($"a {what} name must not contain '||'", what);
        }

        if (reserveDefault && normalized == "default")
        {
            throw new ArgumentException("the basket 'default' is reserved for the wallet's change", what);
        }

        return normalized;
    }
}

/// <summary>
/// An output tracked in a basket (the fields of BRC-46's Transaction Outputs Response, plus tags), and who holds it
/// reserved until when: a multi-party session reserves the outputs a party contributes, so that nothing else spends
/// them while the session runs.
/// </summary>
public sealed record BasketOutput(
    string Outpoint,
    ulong Satoshis,
    string LockingScript,
    IReadOnlyList<string> Tags,
    string? CustomInstructions,
    bool Spendable = true,
    string? ReservedBy = null,
    DateTimeOffset? ReservedUntil = null)
{
    /// <summary>Who holds the output at <paramref name="now"/>: null when nobody does, or the reservation has lapsed.</summary>
    public string? HolderAt(DateTimeOffset now) => ReservedBy is not null && ReservedUntil > now ? ReservedBy : null;
}

/// <summary>One change to a basket; a batch of them is applied entirely or not at all.</summary>
public abstract record BasketOperation
{
    /// <summary>Adds an output; adding the same output again with the same content changes nothing.</summary>
    public sealed record Insert(BasketOutput Output) : BasketOperation;

    /// <summary>Stops tracking an output (BRC-100 <c>relinquishOutput</c>).</summary>
    public sealed record Relinquish(string Outpoint) : BasketOperation;

    /// <summary>Marks an output spent by a transaction: it stays listed with <c>spendable: false</c>.</summary>
    public sealed record Spend(string Outpoint, string SpentBy) : BasketOperation;

    /// <summary>
    /// Holds a spendable output for <paramref name="Holder"/> until <paramref name="Until"/>, when the reservation lapses
    /// by itself; the same holder may reserve it again (moving the time), another may not while it is held.
    /// </summary>
    public sealed record Reserve(string Outpoint, string Holder, DateTimeOffset Until) : BasketOperation;

    /// <summary>Ends <paramref name="Holder"/>'s reservation; an output it does not hold (or the basket does not) is left as it is.</summary>
    public sealed record Release(string Outpoint, string Holder) : BasketOperation;

    /// <summary>The output an operation is about.</summary>
    public string Target => this switch
    {
        Insert insert => insert.Output.Outpoint,
        Relinquish relinquish => relinquish.Outpoint,
        Spend spend => spend.Outpoint,
        Reserve reserve => reserve.Outpoint,
        Release release => release.Outpoint,
        _ => throw new BasketOperationException($"unknown basket operation {GetType().Name}"),
    };
}

/// <summary>A basket operation that cannot apply; the whole batch it belongs to changes nothing.</summary>
public sealed class BasketOperationException(string message) : Exception(message);

/// <summary>The contents of one basket and the all-or-nothing rule for changing them.</summary>
public static class BasketRules
{
    /// <summary>
    /// The basket after every operation of <paramref name="operations"/>, or a <see cref="BasketOperationException"/>
    /// (and <paramref name="outputs"/> untouched) when any of them cannot apply. <paramref name="now"/> (default: the
    /// clock) decides which reservations have lapsed.
    /// </summary>
    public static Dictionary<string, BasketOutput> Apply(IReadOnlyDictionary<string, BasketOutput> outputs, IReadOnlyList<BasketOperation> operations, DateTimeOffset? now = null)
    {
        DateTimeOffset at = now ?? DateTimeOffset.UtcNow;
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(operations);
        var next = new Dictionary<string, BasketOutput>(outputs, StringComparer.Ordinal);
        foreach (BasketOperation operation in operations)
        {
            switch (operation)
            {
                case BasketOperation.Insert { Output: var output }:
                    var tags = new List<string>(output.Tags.Count);
                    foreach (string tag in output.Tags)
                    {
                        string normalized = Try(() => BasketNames.NormalizeTag(tag));
                        if (!tags.Contains(normalized))
                        {
                            tags.Add(normalized);
                        }
                    }

                    BasketOutput clean = output with { Tags = tags };
                    if (next.TryGetValue(output.Outpoint, out BasketOutput? existing) && !SameContent(existing, clean))
                    {
                        throw new BasketOperationException($"output {output.Outpoint} is already in the basket with other content");
                    }

                    next.TryAdd(output.Outpoint, clean);
                    break;
                case BasketOperation.Relinquish { Outpoint: var outpoint }:
                    if (!next.Remove(outpoint))
                    {
                        throw new BasketOperationException($"output {outpoint} is not in the basket");
                    }

                    break;
                case BasketOperation.Spend { Outpoint: var outpoint }:
                    if (!next.TryGetValue(outpoint, out BasketOutput? spent))
                    {
                        throw new BasketOperationException($"output {outpoint} is not in the basket");
                    }

                    next[outpoint] = spent with { Spendable = false, ReservedBy = null, ReservedUntil = null };
                    break;
                case BasketOperation.Reserve { Outpoint: var outpoint, Holder: var holder, Until: var until }:
                    if (string.IsNullOrEmpty(holder))
                    {
                        throw new BasketOperationException($"a reservation of {outpoint} needs a holder");
                    }

                    if (!next.TryGetValue(outpoint, out BasketOutput? reserved))
                    {
                        throw new BasketOperationException($"output {outpoint} is not in the basket");
                    }

                    if (!reserved.Spendable)
                    {
                        throw new BasketOperationException($"output {outpoint} is spent");
                    }

                    if (reserved.HolderAt(at) is string other && other != holder)
                    {
                        throw new BasketOperationException($"output {outpoint} is reserved by {other} until {reserved.ReservedUntil:O}");
                    }

                    if (until <= at)
                    {
                        throw new BasketOperationException($"a reservation of {outpoint} must end after now (got {until:O})");
                    }

                    next[outpoint] = reserved with { ReservedBy = holder, ReservedUntil = until };
                    break;
                case BasketOperation.Release { Outpoint: var outpoint, Holder: var holder }:
                    if (next.TryGetValue(outpoint, out BasketOutput? held) && held.ReservedBy == holder && holder is not null)
                    {
                        next[outpoint] = held with { ReservedBy = null, ReservedUntil = null };
                    }

                    break;
                default:
                    throw new BasketOperationException($"unknown basket operation {operation.GetType().Name}");
            }
        }

        return next;
    }

    private static bool SameContent(BasketOutput a, BasketOutput b) =>
        a.Satoshis == b.Satoshis && a.LockingScript == b.LockingScript && a.CustomInstructions == b.CustomInstructions
        && a.Tags.SequenceEqual(b.Tags);

    private static string Try(Func<string> normalize)
    {
        try
        {
            return normalize();
        }
        catch (ArgumentException e)
        {
            throw new BasketOperationException(e.Message);
        }
    }
}
