using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Dapr.State;

/// <summary>How a <see cref="DaprStateStore"/> talks to its component.</summary>
/// <param name="Consistency">Sent with every read, write and delete: <c>strong</c> (the default, so an ETag read back is the latest) or <c>eventual</c>.</param>
/// <param name="OutboxTopic">
/// The component's <c>outboxPublishTopic</c>, when it has one: upserts in a transaction then carry <c>cloudevent.type</c>
/// = the topic and <c>cloudevent.subject</c> = the key unless they set their own, as the embedded outbox does.
/// </param>
/// <param name="BulkParallelism">The <c>parallelism</c> of a bulk get.</param>
public sealed record DaprStateStoreOptions(string Consistency = DaprStateStore.Strong, string? OutboxTopic = null, int BulkParallelism = 10);

/// <summary>
/// <see cref="IStateStore"/> over the sidecar's state API (<c>/v1.0/state/{store}</c>, Dapr's state API reference):
/// ETags, first-/last-write, bulk get and save, transactions, <c>ttlInSeconds</c>. A 409 is a
/// <see cref="StateConcurrencyException"/>. Dapr has no key listing, so <see cref="ListAsync"/> is not supported.
/// </summary>
public sealed class DaprStateStore : IStateStore
{
    public const string Strong = "strong";
    public const string Eventual = "eventual";
    public const string FirstWrite = "first-write";
    public const string LastWrite = "last-write";
    public const string TtlMetadata = "ttlInSeconds";

    /// <summary>Save (POST, array body) and, with <c>/{key}</c>, get (GET) and delete (DELETE).</summary>
    private const string StateUrl = "v1.0/state/{0}";
    private const string KeyUrl = "v1.0/state/{0}/{1}?consistency={2}";
    private const string DeleteUrl = "v1.0/state/{0}/{1}?concurrency={2}&consistency={3}";
    private const string BulkUrl = "v1.0/state/{0}/bulk";
    private const string TransactionUrl = "v1.0/state/{0}/transaction";

    private readonly HttpClient _sidecar;
    private readonly DaprStateStoreOptions _options;
    private readonly string _escapedName;

    public DaprStateStore(HttpClient sidecar, string name, DaprStateStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sidecar);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _options = options ?? new DaprStateStoreOptions();
        if (_options.Consistency is not (Strong or Eventual))
        {
            throw new ArgumentException($"consistency '{_options.Consistency}' is neither '{Strong}' nor '{Eventual}'", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(_options.BulkParallelism, 1, nameof(options));
        _sidecar = sidecar;
        Name = name;
        _escapedName = Uri.EscapeDataString(name);
    }

    public string Name { get; }

    public async Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        using HttpResponseMessage response = await _sidecar.GetAsync(Url(KeyUrl, _escapedName, Uri.EscapeDataString(key), _options.Consistency), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        await DaprSidecar.EnsureAsync(response, $"get state {Name}/{key}", cancellationToken, HttpStatusCode.OK).ConfigureAwait(false);
        string etag = response.Headers.TryGetValues("ETag", out IEnumerable<string>? values) ? values.First() : throw new DaprSidecarException($"get state {Name}/{key}", response.StatusCode, null, "the answer has no ETag header");
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return new StateItem(DaprStateValue.FromWire(body), etag);
    }

    public async Task<IReadOnlyList<(string Key, StateItem? Item)>> GetBulkAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return [];
        }

        string operation = $"bulk get state {Name}";
        using HttpResponseMessage response = await _sidecar.PostAsJsonAsync(Url(BulkUrl, _escapedName), new DaprBulkGetRequest(keys, _options.BulkParallelism), DaprSidecar.Json, cancellationToken).ConfigureAwait(false);
        await DaprSidecar.EnsureAsync(response, operation, cancellationToken, HttpStatusCode.OK).ConfigureAwait(false);
        List<DaprBulkGetItem> items = await response.Content.ReadFromJsonAsync<List<DaprBulkGetItem>>(DaprSidecar.Json, cancellationToken).ConfigureAwait(false)
            ?? throw new DaprSidecarException(operation, response.StatusCode, null, "the answer is not an array");
        var byKey = new Dictionary<string, StateItem?>(StringComparer.Ordinal);
        foreach (DaprBulkGetItem item in items)
        {
            if (item.Error is not null)
            {
                throw new DaprSidecarException(operation, response.StatusCode, null, $"key {item.Key}: {item.Error}");
            }

            byKey[item.Key] = item.ETag is null || item.Data is not JsonElement data
                ? null
                : new StateItem(DaprStateValue.FromWire(JsonSerializer.SerializeToUtf8Bytes(data, DaprSidecar.Json)), item.ETag);
        }

        return keys.Select(key => byKey.TryGetValue(key, out StateItem? item)
            ? (key, item)
            : throw new DaprSidecarException(operation, response.StatusCode, null, $"the answer lacks key {key}")).ToList();
    }

    /// <summary>
    /// Saves, then reads the key back for its ETag, because Dapr's save answers no ETag. When the value read back is not
    /// the one written (another writer came between), the ETag returned is one that never matches, so a later
    /// conditional write conflicts and the caller re-reads: never a lost update.
    /// </summary>
    public async Task<string> SaveAsync(StateWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        DaprStateItem item = ToWire(write, metadataDefaults: null);
        await SaveItemsAsync([item], cancellationToken).ConfigureAwait(false);

        using HttpResponseMessage response = await _sidecar.GetAsync(Url(KeyUrl, _escapedName, Uri.EscapeDataString(write.Key), _options.Consistency), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.OK
            && response.Headers.TryGetValues("ETag", out IEnumerable<string>? values)
            && DaprStateValue.SameJson(item.Value!.Value, await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false)))
        {
            return values.First();
        }

        await DaprSidecar.EnsureAsync(response, $"get state {Name}/{write.Key}", cancellationToken, HttpStatusCode.OK, HttpStatusCode.NoContent).ConfigureAwait(false);
        return NeverMatchingETag;
    }

    /// <summary>One <c>POST /v1.0/state/{store}</c> with every item: each is written on its own, as Dapr's save does.</summary>
    public Task SaveBulkAsync(IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        return writes.Count == 0 ? Task.CompletedTask : SaveItemsAsync(writes.Select(w => ToWire(w, metadataDefaults: null)).ToList(), cancellationToken);
    }

    public async Task DeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        using var request = new HttpRequestMessage(HttpMethod.Delete, Url(DeleteUrl, _escapedName, Uri.EscapeDataString(key), LastWrite, _options.Consistency));
        if (etag is not null)
        {
            // ETags are opaque and unquoted on Dapr's API, so the header goes as given rather than as an RFC 9110 entity tag.
            request.Headers.TryAddWithoutValidation("If-Match", etag);
        }

        using HttpResponseMessage response = await _sidecar.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureWrittenAsync(response, $"delete state {Name}/{key}", key, cancellationToken).ConfigureAwait(false);
    }

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        if (operations.Count == 0)
        {
            return;
        }

        var wire = new List<DaprTransactionOperation>(operations.Count);
        foreach (StateOperation operation in operations)
        {
            wire.Add(operation switch
            {
                StateOperation.Upsert upsert => new DaprTransactionOperation("upsert", ToWire(upsert.Write, OutboxDefaults(upsert.Write.Key))),
                StateOperation.Delete delete => new DaprTransactionOperation("delete", new DaprStateItem(
                    delete.Key, null, delete.ETag, null, new DaprStateOptions(Concurrency(delete.Concurrency), _options.Consistency))),
                _ => throw new ArgumentException($"unknown state operation {operation.GetType().Name}", nameof(operations)),
            });
        }

        using HttpResponseMessage response = await _sidecar.PostAsJsonAsync(Url(TransactionUrl, _escapedName), new DaprTransactionRequest(wire, null), DaprSidecar.Json, cancellationToken).ConfigureAwait(false);
        await EnsureWrittenAsync(response, $"state transaction {Name}", string.Join(", ", operations.Select(o => o.Key).Distinct()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Not supported: Dapr's state API cannot list keys (its alpha query API filters values, not key prefixes).</summary>
    public IAsyncEnumerable<(string Key, StateItem Item)> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"state store '{Name}' is a Dapr state store: Dapr's state API has no key listing, so ListAsync(\"{prefix}\") cannot be answered; keep an index key instead, or use the embedded runtime");

    /// <summary>An ETag no store issues (Dapr ETags carry no spaces here), so a write made with it always conflicts.</summary>
    internal const string NeverMatchingETag = "atomic: unknown, read the key again";

    private static string Url(string template, params object[] parts) => string.Format(CultureInfo.InvariantCulture, template, parts);

    private static string Concurrency(StateConcurrency concurrency) => concurrency == StateConcurrency.FirstWrite ? FirstWrite : LastWrite;

    private Dictionary<string, string>? OutboxDefaults(string key) => _options.OutboxTopic is null
        ? null
        : new(StringComparer.Ordinal) { ["cloudevent.type"] = _options.OutboxTopic, ["cloudevent.subject"] = key };

    private DaprStateItem ToWire(StateWrite write, Dictionary<string, string>? metadataDefaults)
    {
        ArgumentException.ThrowIfNullOrEmpty(write.Key);
        Dictionary<string, string>? metadata = metadataDefaults;
        if (write.Metadata is { Count: > 0 })
        {
            metadata ??= new Dictionary<string, string>(StringComparer.Ordinal);
            foreach ((string name, string value) in write.Metadata)
            {
                metadata[name] = value;
            }
        }

        if (write.Ttl is TimeSpan ttl)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero, nameof(write));
            metadata ??= new Dictionary<string, string>(StringComparer.Ordinal);
            metadata[TtlMetadata] = ((long)Math.Ceiling(ttl.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        return new DaprStateItem(write.Key, DaprStateValue.ToWire(write.Value), write.ETag, metadata, new DaprStateOptions(Concurrency(write.Concurrency), _options.Consistency));
    }

    private async Task SaveItemsAsync(IReadOnlyList<DaprStateItem> items, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await _sidecar.PostAsJsonAsync(Url(StateUrl, _escapedName), items, DaprSidecar.Json, cancellationToken).ConfigureAwait(false);
        await EnsureWrittenAsync(response, $"save state {Name}", string.Join(", ", items.Select(i => i.Key)), cancellationToken).ConfigureAwait(false);
    }

    private async Task EnsureWrittenAsync(HttpResponseMessage response, string operation, string keys, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            DaprSidecarException failure = await DaprSidecar.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
            throw new StateConcurrencyException(Name, keys, failure.Message);
        }

        await DaprSidecar.EnsureAsync(response, operation, cancellationToken, HttpStatusCode.NoContent, HttpStatusCode.OK).ConfigureAwait(false);
    }
}
