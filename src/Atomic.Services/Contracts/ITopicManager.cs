using Dapr.Actors;

namespace Atomic.Services.Contracts;

/// <summary>
/// Actor type <c>TopicManager</c>, one per overlay topic (id = the topic, e.g. <c>tm_tokens</c>): BRC-22 admission and
/// BRC-24 lookups. Callable from any language through Dapr's actor API with JSON bodies, e.g.
/// <c>PUT /v1.0/actors/TopicManager/tm_tokens/method/Admit</c> with <c>{"txid": "…", "beef": "base64"}</c>.
/// </summary>
public interface ITopicManager : IActor
{
    /// <summary>The actor type name under which the overlay app registers the implementation.</summary>
    public const string TypeName = "TopicManager";

    /// <summary>
    /// Offers a verified transaction to the topic and answers the topic's STEAK entry; a transaction seen before gets
    /// the same answer and changes nothing.
    /// </summary>
    Task<AdmittanceInstructions> Admit(AdmitRequest request);

    /// <summary>Answers a query of one of the topic's lookup services (BRC-24); a bad query fails with <c>LookupQueryException</c>.</summary>
    Task<LookupResult> Lookup(LookupRequest request);

    /// <summary>Everything the topic holds, spent or not, for the consistency checker (read only).</summary>
    Task<TopicHoldings> Holdings();
}
