using System.Collections.Concurrent;
using Atomic.Services.Pipeline;
using Dapr.Client;

namespace Atomic.Services.Baskets;

/// <summary>
/// The names of the baskets that ever held an output, in <c>statestore</c> under <c>baskets|catalog</c> (a JSON array):
/// Dapr's state API cannot list actors or keys, and the consistency checker reads every basket. A basket's actor adds its
/// name before its first insert is saved (and after a restart of this process, before its next one), retried under the
/// ETag on a conflict with another process; a name is never removed, so the list only grows. Bounded by
/// <see cref="Capacity"/>: past it, a basket is still served, only not checked.
/// </summary>
public sealed class BasketCatalog(DaprClient dapr)
{
    public const string Key = "baskets|catalog";

    /// <summary>Names the catalog holds at most (about 1 MB of JSON at the longest names).</summary>
    public const int Capacity = 10_000;

    private const int MaxAttempts = 20;

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };

    private readonly ConcurrentDictionary<string, bool> _known = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="basket"/> unless this process has seen it in the catalog already.</summary>
    public async Task AddAsync(string basket, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(basket);
        if (_known.ContainsKey(basket))
        {
            return;
        }

        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            (List<string>? names, string etag) = await dapr.GetStateAndETagAsync<List<string>?>(Names.StateStore, Key, cancellationToken: cancellationToken).ConfigureAwait(false);
            names ??= [];
            if (names.Contains(basket, StringComparer.Ordinal) || names.Count >= Capacity)
            {
                _known[basket] = true;
                return;
            }

            names.Add(basket);
            if (await dapr.TrySaveAsync(Names.StateStore, Key, names, etag, FirstWrite, cancellationToken).ConfigureAwait(false))
            {
                _known[basket] = true;
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt)), cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"basket {basket} could not be added to {Key} in {MaxAttempts} attempts: other processes keep changing it");
    }

    /// <summary>Every basket name in the catalog, in the order they were added.</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<List<string>?>(Names.StateStore, Key, cancellationToken: cancellationToken).ConfigureAwait(false) ?? [];
}
