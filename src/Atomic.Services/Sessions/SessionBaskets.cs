using Atomic.Overlay.Baskets;
using Atomic.Services.Contracts;
using Atomic.Services.Pipeline;
using Atomic.Sessions;
using Dapr.Actors;
using Dapr.Actors.Client;

namespace Atomic.Services.Sessions;

/// <summary>
/// The basket outputs a party contributes to a session (an input that names its <c>basket</c>): reserved in that
/// basket's <c>BasketManager</c> for the session until its deadline when the contribution is accepted, so that neither
/// another session nor the wallet spends them meanwhile; marked spent by the session's transaction when it completes;
/// released when it aborts. A reservation lapses at the deadline by itself, so one left behind by a crash frees itself.
/// </summary>
public sealed class SessionBaskets(IActorProxyFactory actors)
{
    /// <summary>The holder name of a session's reservations.</summary>
    public static string Holder(string sessionId) => "session:" + sessionId;

    /// <summary>
    /// Reserves the contribution's basket outputs (each basket's all or none); a spent, unknown or otherwise reserved
    /// output refuses the contribution with <see cref="SessionCodes.InputUnavailable"/>. A basket name that is not one
    /// is <see cref="SessionCodes.ContributionInvalid"/>.
    /// </summary>
    public async Task<SessionCheck> ReserveAsync(string sessionId, DateTimeOffset until, ContributionRequest contribution, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        Dictionary<string, List<BasketOperationRequest>> batches;
        try
        {
            batches = Batches(contribution, outpoint => new BasketOperationRequest("reserve", outpoint, Holder: Holder(sessionId), Until: until));
        }
        catch (ArgumentException e)
        {
            return SessionCheck.Refuse(SessionCodes.ContributionInvalid, $"an input's basket: {e.Message}");
        }

        var reserved = new List<string>();
        foreach ((string basket, List<BasketOperationRequest> operations) in batches)
        {
            try
            {
                await Manager(basket).Apply(new ApplyRequest(operations)).WaitAsync(cancellationToken).ConfigureAwait(false);
                reserved.Add(basket);
            }
            catch (Exception e) when (Actors.ErrorType(e) == typeof(BasketOperationException).FullName)
            {
                await ReleaseAsync(sessionId, contribution, reserved, cancellationToken).ConfigureAwait(false);
                return SessionCheck.Refuse(SessionCodes.InputUnavailable, $"basket {basket}: {Actors.ErrorMessage(e)}");
            }
        }

        return SessionCheck.Ok;
    }

    /// <summary>Releases the session's reservations of these contributions' basket outputs (again: nothing changes).</summary>
    public async Task ReleaseAsync(string sessionId, IEnumerable<ContributionRequest> contributions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contributions);
        foreach (ContributionRequest contribution in contributions)
        {
            await ReleaseAsync(sessionId, contribution, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Releases what a refused contribution reserved, except the outputs the session's accepted contributions hold (a
    /// party that sends its accepted contribution again must not free what the first one holds).
    /// </summary>
    public async Task ReleaseRefusedAsync(string sessionId, ContributionRequest refused, IEnumerable<ContributionRequest> accepted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refused);
        ArgumentNullException.ThrowIfNull(accepted);
        var held = new HashSet<string>(StringComparer.Ordinal);
        foreach (ContributionRequest contribution in accepted)
        {
            foreach (List<BasketOperationRequest> operations in Batches(contribution, outpoint => new BasketOperationRequest("release", outpoint)).Values)
            {
                held.UnionWith(operations.Select(o => o.Outpoint!));
            }
        }

        foreach ((string basket, List<BasketOperationRequest> operations) in Batches(refused, outpoint => new BasketOperationRequest("release", outpoint, Holder: Holder(sessionId))))
        {
            List<BasketOperationRequest> free = operations.FindAll(o => !held.Contains(o.Outpoint!));
            if (free.Count > 0)
            {
                await Manager(basket).Apply(new ApplyRequest(free)).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Marks the contributions' basket outputs spent by the session's transaction (again: nothing changes).</summary>
    public async Task SpendAsync(string sessionId, string txid, IEnumerable<ContributionRequest> contributions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contributions);
        foreach (ContributionRequest contribution in contributions)
        {
            foreach ((string basket, List<BasketOperationRequest> operations) in Batches(contribution, outpoint => new BasketOperationRequest("spend", outpoint, SpentBy: txid)))
            {
                await Manager(basket).Apply(new ApplyRequest(operations, $"session:{sessionId}:spent:{contribution.Party}")).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ReleaseAsync(string sessionId, ContributionRequest contribution, List<string>? only, CancellationToken cancellationToken)
    {
        foreach ((string basket, List<BasketOperationRequest> operations) in Batches(contribution, outpoint => new BasketOperationRequest("release", outpoint, Holder: Holder(sessionId))))
        {
            if (only is null || only.Contains(basket))
            {
                await Manager(basket).Apply(new ApplyRequest(operations)).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The contribution's inputs that name a basket, as one batch of operations per (normalized) basket.</summary>
    private static Dictionary<string, List<BasketOperationRequest>> Batches(ContributionRequest contribution, Func<string, BasketOperationRequest> operation)
    {
        var batches = new Dictionary<string, List<BasketOperationRequest>>(StringComparer.Ordinal);
        foreach (InputRequest input in contribution.Inputs ?? [])
        {
            if (input.Basket is null || input.Beef is null || !Bsv.Primitives.Hex.TryDecode(input.Beef, out byte[] beef))
            {
                continue;
            }

            string basket = BasketNames.Normalize(input.Basket);
            string outpoint = Outpoints.Format(SessionSigning.ReadInput(beef, input.OutputIndex).OutPoint);
            if (!batches.TryGetValue(basket, out List<BasketOperationRequest>? list))
            {
                batches[basket] = list = [];
            }

            list.Add(operation(outpoint));
        }

        return batches;
    }

    private IBasketManager Manager(string basket) => actors.CreateActorProxy<IBasketManager>(new ActorId(basket), IBasketManager.TypeName);
}
