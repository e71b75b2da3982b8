using Dapr;
using Dapr.Client;

namespace Atomic.Services.Pipeline;

/// <summary>
/// A save that loses to a concurrent writer rather than overwriting it: guarded by the ETag read with the value, or,
/// with none (the key was absent), made under first-write so that it fails if someone created the key meanwhile.
/// Either way a conflict answers false, for the caller to read again and decide again.
/// </summary>
public static class StateSaves
{
    public static Task<bool> TrySaveAsync<T>(this DaprClient dapr, string store, string key, T value, string? etag, StateOptions options, CancellationToken cancellationToken) =>
        dapr.TrySaveAsync(store, key, value, etag, options, null, cancellationToken);

    /// <param name="metadata">The save's metadata, e.g. <c>ttlInSeconds</c>.</param>
    public static async Task<bool> TrySaveAsync<T>(
        this DaprClient dapr, string store, string key, T value, string? etag, StateOptions options, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dapr);
        if (!string.IsNullOrEmpty(etag))
        {
            return await dapr.TrySaveStateAsync(store, key, value, etag, options, metadata, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await dapr.SaveStateAsync(store, key, value, options, metadata, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DaprException e) when (TxRecords.IsConflict(e))
        {
            return false;
        }
    }

    public static async Task<bool> TrySaveBytesAsync(this DaprClient dapr, string store, string key, ReadOnlyMemory<byte> value, string? etag, StateOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dapr);
        if (!string.IsNullOrEmpty(etag))
        {
            return await dapr.TrySaveByteStateAsync(store, key, value, etag, options, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await dapr.SaveByteStateAsync(store, key, value, options, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DaprException e) when (TxRecords.IsConflict(e))
        {
            return false;
        }
    }
}
