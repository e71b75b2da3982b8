using System.Text.Json.Serialization;

namespace Atomic.Services.Contracts;

/// <summary>
/// What a topic holds, as its actor keeps it: <paramref name="Index"/> the outpoints in admission order (an outpoint in
/// it twice is a fault), <paramref name="Outputs"/> each held output once, <paramref name="Beefs"/> the Atomic BEEF
/// (base64) the topic keeps for each transaction of those outputs.
/// </summary>
public sealed record TopicHoldings(
    [property: JsonPropertyName("index")] IReadOnlyList<string> Index,
    [property: JsonPropertyName("outputs")] IReadOnlyList<HeldOutput> Outputs,
    [property: JsonPropertyName("beefs")] IReadOnlyDictionary<string, string> Beefs);

/// <summary>One output a topic holds; <paramref name="SpentBy"/> is the spending txid once spent.</summary>
public sealed record HeldOutput(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("vout")] uint OutputIndex,
    [property: JsonPropertyName("satoshis")] ulong Satoshis,
    [property: JsonPropertyName("lockingScript")] string LockingScript,
    [property: JsonPropertyName("spentBy")] string? SpentBy);
