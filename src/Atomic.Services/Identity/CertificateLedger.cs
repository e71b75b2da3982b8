using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.Services.Pipeline;
using Dapr;
using Dapr.Client;

namespace Atomic.Services.Identity;

/// <summary>
/// <see cref="ICertificateStore"/> in the <c>statestore</c> component, so that a restart forgets no revocation and no
/// issued certificate. Dapr's state API cannot list keys, so revocations live in 16 shard documents
/// <c>cert|revoked|{0..f}</c> (the shard: the first hex digit of SHA-256 of <c>outpoint:{outpoint}</c> or
/// <c>serial:{serial number}</c>), read together at start in one bulk get and changed only under their ETag. An issued
/// certificate is <c>cert|issued|{serial number as hex}</c>.
/// </summary>
public sealed class CertificateLedger(DaprClient dapr) : ICertificateStore
{
    /// <summary>The revocation shards' key prefix (<c>cert||</c> in the design; daprd refuses <c>||</c> in keys).</summary>
    public const string RevokedPrefix = "cert|revoked|";

    /// <summary>The issued certificates' key prefix.</summary>
    public const string IssuedPrefix = "cert|issued|";

    private const int MaxAttempts = 20;

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };

    private static readonly string[] Shards = [.. Enumerable.Range(0, 16).Select(i => RevokedPrefix + i.ToString("x", CultureInfo.InvariantCulture))];

    /// <summary>One shard of revocations: when each outpoint (lower case) and each serial number was revoked.</summary>
    public sealed record Shard(
        [property: JsonPropertyName("outpoints")] Dictionary<string, DateTimeOffset>? Outpoints,
        [property: JsonPropertyName("serials")] Dictionary<string, DateTimeOffset>? Serials);

    /// <summary>The shard key of a revoked outpoint.</summary>
    public static string OutpointShard(string revocationOutpoint) => ShardOf("outpoint:" + revocationOutpoint.ToLowerInvariant());

    /// <summary>The shard key of a revoked serial number.</summary>
    public static string SerialShard(string serialNumber) => ShardOf("serial:" + serialNumber);

    /// <summary>The key of an issued certificate; null when the serial number is not base64 of 32 bytes (none was issued so).</summary>
    public static string? IssuedKey(string serialNumber)
    {
        Span<byte> bytes = stackalloc byte[48];
        return serialNumber.Length <= 64 && Convert.TryFromBase64String(serialNumber, bytes, out int written) && written == 32
            ? IssuedPrefix + Convert.ToHexStringLower(bytes[..written])
            : null;
    }

    public async Task<RevokedCertificates> LoadRevocationsAsync(CancellationToken cancellationToken)
    {
        var outpoints = new Dictionary<string, DateTimeOffset>(StringComparer.OrdinalIgnoreCase);
        var serials = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        IReadOnlyList<BulkStateItem> items = await dapr.GetBulkStateAsync(Names.StateStore, Shards, parallelism: null, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        foreach (BulkStateItem item in items)
        {
            if (string.IsNullOrEmpty(item.Value))
            {
                continue;
            }

            Shard shard;
            try
            {
                shard = JsonSerializer.Deserialize<Shard>(item.Value) ?? new Shard(null, null);
            }
            catch (JsonException e)
            {
                // Never read as empty: that would accept every certificate the shard revokes.
                throw new InvalidOperationException($"the revocations {item.Key} in {Names.StateStore} are not a shard document: {e.Message}", e);
            }

            foreach ((string outpoint, DateTimeOffset at) in shard.Outpoints ?? [])
            {
                outpoints.TryAdd(outpoint, at);
            }

            foreach ((string serial, DateTimeOffset at) in shard.Serials ?? [])
            {
                serials.TryAdd(serial, at);
            }
        }

        return new RevokedCertificates(outpoints, serials);
    }

    public async Task<bool> RecordRevocationAsync(string? serialNumber, string? revocationOutpoint, DateTimeOffset at, CancellationToken cancellationToken)
    {
        bool added = false;
        if (serialNumber is { Length: > 0 })
        {
            added |= await AddAsync(SerialShard(serialNumber), serialNumber, serial: true, at, cancellationToken).ConfigureAwait(false);
        }

        if (revocationOutpoint is { Length: > 0 })
        {
            string outpoint = revocationOutpoint.ToLowerInvariant();
            added |= await AddAsync(OutpointShard(outpoint), outpoint, serial: false, at, cancellationToken).ConfigureAwait(false);
        }

        return added;
    }

    public async Task RecordIssuedAsync(IssuedCertificate issued, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(issued);
        string key = IssuedKey(issued.SerialNumber) ?? throw new ArgumentException("a serial number is base64 of 32 bytes", nameof(issued));
        await dapr.SaveStateAsync(Names.StateStore, key, issued, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async Task<IssuedCertificate?> FindIssuedAsync(string serialNumber, CancellationToken cancellationToken) =>
        IssuedKey(serialNumber) is { } key
            ? await dapr.GetStateAsync<IssuedCertificate?>(Names.StateStore, key, ConsistencyMode.Strong, cancellationToken: cancellationToken)
                .ConfigureAwait(false)
            : null;

    private static string ShardOf(string entry) =>
        RevokedPrefix + (SHA256.HashData(Encoding.UTF8.GetBytes(entry))[0] & 0x0f).ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Adds one entry to a shard under its ETag, retried on a conflict with another writer; false when it was there.</summary>
    private async Task<bool> AddAsync(string key, string entry, bool serial, DateTimeOffset at, CancellationToken cancellationToken)
    {
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            (Shard? stored, string etag) = await dapr.GetStateAndETagAsync<Shard?>(
                Names.StateStore, key, ConsistencyMode.Strong, cancellationToken: cancellationToken).ConfigureAwait(false);
            var outpoints = new Dictionary<string, DateTimeOffset>(stored?.Outpoints ?? [], StringComparer.Ordinal);
            var serials = new Dictionary<string, DateTimeOffset>(stored?.Serials ?? [], StringComparer.Ordinal);
            if (!(serial ? serials : outpoints).TryAdd(entry, at))
            {
                return false;
            }

            var next = new Shard(outpoints, serials);
            if (await dapr.TrySaveAsync(Names.StateStore, key, next, etag, FirstWrite, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"the revocations {key} kept changing under {MaxAttempts} attempts");
    }
}
