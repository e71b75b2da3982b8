using System.Text.Json.Serialization;

namespace Atomic.Services.Operations;

/// <summary>The names of the invariants <see cref="ConsistencyChecker"/> checks, as violations, logs and metrics carry them.</summary>
public static class Invariants
{
    /// <summary>
    /// A topic holds an output of a transaction whose record is missing, rejected or failed; or a basket holds one whose
    /// record is rejected or failed (a basket may hold outputs of transactions this pipeline never saw: BRC-46 inserts).
    /// </summary>
    public const string OutputOfUnacceptedTransaction = "output-of-unaccepted-transaction";

    /// <summary>A topic's index, or a basket's listing, names one outpoint more than once.</summary>
    public const string OutputAdmittedTwice = "output-admitted-twice";

    /// <summary>A token transaction's outputs carry more of an asset than its inputs did (ISSUE outputs aside).</summary>
    public const string TokenAmountsNotConserved = "token-amounts-not-conserved";

    /// <summary>A mined record has no merkle path, or one the chain tracker does not confirm.</summary>
    public const string MinedWithoutProof = "mined-without-proof";

    /// <summary>A record stayed received, verified or broadcast longer than <see cref="ConsistencyOptions.StuckAfter"/>.</summary>
    public const string RecordStuck = "record-stuck";

    /// <summary>Every invariant, as the counter's tag values.</summary>
    public static readonly IReadOnlyList<string> All =
        [OutputOfUnacceptedTransaction, OutputAdmittedTwice, TokenAmountsNotConserved, MinedWithoutProof, RecordStuck];
}

/// <summary>One broken invariant: which, about what (a txid, an outpoint, a topic), and why.</summary>
public sealed record ConsistencyViolation(
    [property: JsonPropertyName("invariant")] string Invariant,
    [property: JsonPropertyName("subject")] string Subject,
    [property: JsonPropertyName("detail")] string Detail);

/// <summary>The answer of one check: what was looked at and every violation found (none: consistent).</summary>
public sealed record ConsistencyReport(
    [property: JsonPropertyName("consistent")] bool Consistent,
    [property: JsonPropertyName("checkedAt")] DateTimeOffset CheckedAt,
    [property: JsonPropertyName("topics")] int Topics,
    [property: JsonPropertyName("baskets")] int Baskets,
    [property: JsonPropertyName("outputs")] int Outputs,
    [property: JsonPropertyName("records")] int Records,
    [property: JsonPropertyName("violations")] IReadOnlyList<ConsistencyViolation> Violations);
