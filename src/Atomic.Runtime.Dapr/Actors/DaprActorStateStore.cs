using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Atomic.Runtime.Actors;
using Atomic.Runtime.Dapr.State;

namespace Atomic.Runtime.Dapr.Actors;

/// <summary>
/// <see cref="IActorStateStore"/> over the sidecar's actor state API: <c>GET /v1.0/actors/{type}/{id}/state/{key}</c>
/// (204: no such state) and the transaction <c>POST /v1.0/actors/{type}/{id}/state</c>, whose body is a bare array of
/// <c>upsert</c> and <c>delete</c> operations. daprd keeps the values in the actor state store under
/// <c>{appId}||{type}||{id}||{key}</c>. Values travel as <see cref="DaprStateStore"/>'s do: JSON as itself, other bytes
/// as <c>{"atomic.base64": "…"}</c> (the state manager only ever writes JSON).
/// </summary>
public sealed class DaprActorStateStore : IActorStateStore
{
    private const string StateUrl = "v1.0/actors/{0}/{1}/state";
    private const string KeyUrl = "v1.0/actors/{0}/{1}/state/{2}";

    private readonly HttpClient _sidecar;

    public DaprActorStateStore(HttpClient sidecar)
    {
        ArgumentNullException.ThrowIfNull(sidecar);
        _sidecar = sidecar;
    }

    public async Task<ReadOnlyMemory<byte>?> GetAsync(string actorType, string actorId, string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        using HttpResponseMessage response = await _sidecar.GetAsync(Url(KeyUrl, actorType, actorId, key), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        await DaprSidecar.EnsureAsync(response, $"get actor state {actorType}/{actorId}/{key}", cancellationToken, HttpStatusCode.OK).ConfigureAwait(false);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return body.Length == 0 ? null : DaprStateValue.FromWire(body);
    }

    public async Task SaveAsync(string actorType, string actorId, IReadOnlyList<ActorStateOperation> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        if (operations.Count == 0)
        {
            return;
        }

        var wire = new List<DaprActorStateOperation>(operations.Count);
        foreach (ActorStateOperation operation in operations)
        {
            ArgumentException.ThrowIfNullOrEmpty(operation.Key, nameof(operations));
            wire.Add(operation.Kind == ActorStateOperationKind.Upsert
                ? new DaprActorStateOperation("upsert", new DaprActorStateRequest(operation.Key, DaprStateValue.ToWire(operation.Value), null))
                : new DaprActorStateOperation("delete", new DaprActorStateRequest(operation.Key, null, null)));
        }

        using HttpResponseMessage response = await _sidecar.PostAsJsonAsync(Url(StateUrl, actorType, actorId), wire, DaprSidecar.Json, cancellationToken).ConfigureAwait(false);
        await DaprSidecar.EnsureAsync(response, $"actor state transaction {actorType}/{actorId}", cancellationToken, HttpStatusCode.NoContent, HttpStatusCode.OK).ConfigureAwait(false);
    }

    internal static string Url(string template, string actorType, string actorId, params string[] rest)
    {
        ArgumentException.ThrowIfNullOrEmpty(actorType);
        ActorId.Validate(actorId, nameof(actorId));
        object[] parts = [Uri.EscapeDataString(actorType), Uri.EscapeDataString(actorId), .. rest.Select(Uri.EscapeDataString)];
        return string.Format(CultureInfo.InvariantCulture, template, parts);
    }
}
