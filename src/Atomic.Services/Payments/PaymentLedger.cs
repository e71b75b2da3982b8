using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Atomic.Services.Pipeline;
using Dapr;
using Dapr.Client;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Payments;

/// <summary>
/// <see cref="IPaymentStore"/> in the <c>statestore</c> component, so that a restart reopens nothing: a used prefix is
/// <c>payment|prefix|{sha256}</c> written first-write-wins and completed under its ETag; credit is
/// <c>payment|credit|{caller}|{route}</c>, changed only under its ETag; payments on their way are
/// <c>payment|pending|{first hex digit of the txid}</c>, a map by txid, changed under its ETag.
/// </summary>
public sealed class PaymentLedger(DaprClient dapr, IOptions<PaymentOptions> options) : IPaymentStore
{
    private const int MaxAttempts = 20;
    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite };

    /// <summary>A used prefix: the transaction that paid with it, when its current attempt started, and whether it completed.</summary>
    public sealed record UsedPrefix(
        [property: JsonPropertyName("txid")] string TxId,
        [property: JsonPropertyName("started")] DateTimeOffset Started,
        [property: JsonPropertyName("done")] bool Done);

    /// <summary>A caller's credit for a route, and the payments already counted in it.</summary>
    public sealed record Credit([property: JsonPropertyName("calls")] int Calls, [property: JsonPropertyName("txids")] IReadOnlyList<string> TxIds);

    public static string PrefixKey(string prefix) => $"payment|prefix|{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prefix)))}";

    public static string CreditKey(string caller, string route) => $"payment|credit|{caller}|{route}";

    private Dictionary<string, string> Ttl => new()
    {
        ["ttlInSeconds"] = ((long)Math.Ceiling((options.Value.PrefixLifetime + TimeSpan.FromMinutes(1)).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public async Task<PrefixUse> UsePrefixAsync(string prefix, string txid, DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken)
    {
        string key = PrefixKey(prefix);
        try
        {
            await dapr.SaveStateAsync(Names.StateStore, key, new UsedPrefix(txid, now, false), FirstWrite, Ttl, cancellationToken).ConfigureAwait(false);
            return PrefixUse.First;
        }
        catch (DaprException e) when (TxRecords.IsConflict(e))
        {
            (UsedPrefix? used, string etag) = await dapr.GetStateAndETagAsync<UsedPrefix?>(Names.StateStore, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (used?.TxId != txid)
            {
                return PrefixUse.Reused;
            }

            // Taken over under the ETag: of two requests resuming at once, one wins and the other is a replay.
            return !used.Done && used.Started < staleBefore
                && await dapr.TrySaveStateAsync(Names.StateStore, key, used with { Started = now }, etag, FirstWrite, Ttl, cancellationToken).ConfigureAwait(false)
                ? PrefixUse.Resumed
                : PrefixUse.Replayed;
        }
    }

    public async Task<bool> CompletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        string key = PrefixKey(prefix);
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            (UsedPrefix? used, string etag) = await dapr.GetStateAndETagAsync<UsedPrefix?>(Names.StateStore, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (used is { Done: true })
            {
                return false;
            }

            // Absent: its time to live ran out before the payment settled; the prefix is expired, so no request can take
            // it any more, and first-write lets one completion through.
            UsedPrefix done = (used ?? new UsedPrefix(string.Empty, DateTimeOffset.MinValue, false)) with { Done = true };
            if (await dapr.TrySaveAsync(Names.StateStore, key, done, etag, FirstWrite, Ttl, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"the used prefix {key} kept changing under {MaxAttempts} attempts");
    }

    public Task AddPendingAsync(PendingPayment payment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payment);
        return ChangePendingAsync(payment.Receipt.TxId, pending =>
        {
            pending[payment.Receipt.TxId] = payment;
            return true;
        }, cancellationToken);
    }

    public Task RemovePendingAsync(string txid, CancellationToken cancellationToken) =>
        ChangePendingAsync(txid, pending => pending.Remove(txid), cancellationToken);

    public async Task<IReadOnlyList<PendingPayment>> PendingAsync(CancellationToken cancellationToken)
    {
        var all = new List<PendingPayment>();
        foreach (char shard in "0123456789abcdef")
        {
            if (await dapr.GetStateAsync<Dictionary<string, PendingPayment>?>(Names.StateStore, PendingKey(shard), cancellationToken: cancellationToken).ConfigureAwait(false) is { } pending)
            {
                all.AddRange(pending.Values);
            }
        }

        return all;
    }

    /// <summary>Pending payments are kept in 16 shards by the txid's first hex digit: <c>payment|pending|{0..f}</c>.</summary>
    public static string PendingKey(char shard) => $"payment|pending|{shard}";

    private async Task ChangePendingAsync(string txid, Func<Dictionary<string, PendingPayment>, bool> change, CancellationToken cancellationToken)
    {
        string key = PendingKey(char.ToLowerInvariant(txid[0]));
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            (Dictionary<string, PendingPayment>? pending, string etag) = await dapr.GetStateAndETagAsync<Dictionary<string, PendingPayment>?>(
                Names.StateStore, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            pending ??= new Dictionary<string, PendingPayment>(StringComparer.Ordinal);
            if (!change(pending))
            {
                return;
            }

            if (await dapr.TrySaveAsync(Names.StateStore, key, pending, etag, FirstWrite, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"the pending payments {key} kept changing under {MaxAttempts} attempts");
    }

    public async Task<(bool Spent, int Remaining)> SpendCreditAsync(string caller, string route, CancellationToken cancellationToken)
    {
        string key = CreditKey(caller, route);
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            (Credit? credit, string etag) = await dapr.GetStateAndETagAsync<Credit?>(Names.StateStore, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (credit is null || credit.Calls <= 0)
            {
                return (false, 0);
            }

            Credit next = credit with { Calls = credit.Calls - 1 };
            if (await dapr.TrySaveStateAsync(Names.StateStore, key, next, etag, FirstWrite, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                return (true, next.Calls);
            }

            await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"the credit {key} kept changing under {MaxAttempts} attempts");
    }

    public async Task<int> AddCreditAsync(string caller, string route, int calls, string txid, CancellationToken cancellationToken)
    {
        string key = CreditKey(caller, route);
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            (Credit? credit, string etag) = await dapr.GetStateAndETagAsync<Credit?>(Names.StateStore, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (credit?.TxIds.Contains(txid) == true)
            {
                return credit.Calls;
            }

            // Only the last payments are kept to make a grant idempotent; one older than these is long settled.
            Credit next = new((credit?.Calls ?? 0) + calls, [.. (credit?.TxIds ?? []).TakeLast(31), txid]);
            bool saved = await dapr.TrySaveAsync(Names.StateStore, key, next, etag, FirstWrite, cancellationToken).ConfigureAwait(false);

            if (saved)
            {
                return next.Calls;
            }

            await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"the credit {key} kept changing under {MaxAttempts} attempts");
    }
}
