using System.Text.Json;
using Atomic.Bsv.Transactions;

namespace Atomic.Overlay;

/// <summary>A coin admitted to a topic earlier that input <paramref name="InputIndex"/> of the new transaction spends.</summary>
public sealed record PreviousCoin(int InputIndex, OutPoint OutPoint, TxOutput Output);

/// <summary>
/// A topic manager's decision on one transaction (BRC-22 admittance instructions, one entry of the STEAK): which of
/// its outputs join the topic, and which spent previous coins (by input index) stay in it or leave it.
/// </summary>
public sealed record TopicAdmission(IReadOnlyList<int> OutputsToAdmit, IReadOnlyList<int> CoinsToRetain, IReadOnlyList<int> CoinsRemoved)
{
    public static TopicAdmission None { get; } = new([], [], []);

    public bool IsEmpty => OutputsToAdmit.Count == 0 && CoinsToRetain.Count == 0 && CoinsRemoved.Count == 0;
}

/// <summary>
/// Decides which outputs of a verified transaction belong to one overlay topic (BRC-22), given the coins of that topic
/// the transaction spends. Pure: the topic's state is kept by its host (a <c>TopicManager</c> actor).
/// </summary>
public interface ITopicManager
{
    /// <summary>The topic name, <c>tm_</c> followed by the protocol's name (for example <c>tm_tokens</c>).</summary>
    string Topic { get; }

    /// <summary>What the topic admits, in a sentence or two (served as its documentation).</summary>
    string Documentation { get; }

    TopicAdmission IdentifyAdmissibleOutputs(Transaction transaction, IReadOnlyList<PreviousCoin> previousCoins);
}

/// <summary>An output a topic holds (or held, until it was spent), as a lookup service sees it.</summary>
public sealed record AdmittedOutput(string Topic, OutPoint OutPoint, TxOutput Output, string? SpentBy = null)
{
    public bool IsSpent => SpentBy is not null;
}

/// <summary>
/// Answers BRC-24 lookups over one topic's outputs: <see cref="Matches"/> says whether an output answers a query.
/// A query it cannot read is a <see cref="LookupQueryException"/>.
/// </summary>
public interface ILookupService
{
    /// <summary>The service name, <c>ls_</c> followed by the protocol's name (for example <c>ls_tokens</c>).</summary>
    string Service { get; }

    /// <summary>The topic whose outputs it searches.</summary>
    string Topic { get; }

    /// <summary>Whether spent outputs can answer (a revocation lookup reports spent ones; a token lookup does not).</summary>
    bool IncludesSpent { get; }

    bool Matches(JsonElement query, AdmittedOutput output);
}

/// <summary>A lookup query that the service cannot read: the message says what it expected.</summary>
public sealed class LookupQueryException(string service, string message) : Exception($"{service}: {message}")
{
    public string Service { get; } = service;
}
