using Dapr.Actors;

namespace Atomic.Services.Contracts;

/// <summary>
/// Actor type <c>BasketManager</c>, one per BRC-46 basket (id = the normalized basket name). Callable from any language
/// through Dapr's actor API with JSON bodies, e.g. <c>PUT /v1.0/actors/BasketManager/payments/method/List</c> with
/// <c>{"tags": ["invoice"], "limit": 10}</c>.
/// </summary>
public interface IBasketManager : IActor
{
    /// <summary>The actor type name under which the overlay app registers the implementation.</summary>
    public const string TypeName = "BasketManager";

    /// <summary>Applies a batch of operations entirely, or fails with <c>BasketOperationException</c> and changes nothing.</summary>
    Task<ApplyResult> Apply(ApplyRequest request);

    /// <summary>Applies a verified transaction as one batch; applying it again changes nothing.</summary>
    Task<ApplyResult> ApplyTransaction(ApplyTransactionRequest request);

    /// <summary>Lists the basket's outputs, filtered by tags.</summary>
    Task<ListResult> List(ListRequest request);

    /// <summary>Stops tracking one output (BRC-100 <c>relinquishOutput</c>).</summary>
    Task<RelinquishResult> Relinquish(RelinquishRequest request);
}
