using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Atomic.Runtime.Actors;
using Atomic.Runtime.Dapr.State;

namespace Atomic.Runtime.Dapr.Actors;

/// <summary>
/// Calls actors, and registers their reminders and timers, through the sidecar's actor API (Dapr's actors API
/// reference): invocation <c>PUT /v1.0/actors/{type}/{id}/method/{method}</c> with the request bytes as the body,
/// reminders and timers at <c>/v1.0/actors/{type}/{id}/reminders|timers/{name}</c> with Go-duration bodies. The actor
/// may live in any app behind any sidecar: daprd's placement finds it. A call made inside a turn carries the turn's
/// <see cref="DaprCallChain"/>.
/// </summary>
public sealed class DaprActorClient : IActorClient, IActorReminders, IActorTimers
{
    private const string MethodUrl = "v1.0/actors/{0}/{1}/method/{2}";
    private const string ReminderUrl = "v1.0/actors/{0}/{1}/reminders/{2}";
    private const string TimerUrl = "v1.0/actors/{0}/{1}/timers/{2}";

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly HttpClient _sidecar;

    public DaprActorClient(HttpClient sidecar)
    {
        ArgumentNullException.ThrowIfNull(sidecar);
        _sidecar = sidecar;
    }

    public async Task<ReadOnlyMemory<byte>> InvokeMethodAsync(string actorType, string actorId, string method, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        using var request = new HttpRequestMessage(HttpMethod.Put, DaprActorStateStore.Url(MethodUrl, actorType, actorId, method)) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = JsonContentType;

        // Inside a turn: refuse a re-entry the chain does not allow before daprd queues it, and carry the chain on.
        if (DaprCallChain.Current is DaprCallChain chain)
        {
            chain.CheckCall(actorType, actorId);
            request.Headers.TryAddWithoutValidation(DaprCallChain.ChainHeader, chain.Format());
            if (chain.ReentrancyId is string reentrancyId)
            {
                request.Headers.TryAddWithoutValidation(DaprCallChain.ReentrancyHeader, reentrancyId);
            }
        }

        using HttpResponseMessage response = await _sidecar.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await DaprActorErrors.FromResponseAsync(response, actorType, actorId, method, cancellationToken).ConfigureAwait(false);
        }

        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task RegisterReminderAsync(string actorType, string actorId, ActorReminder reminder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reminder);
        reminder.Validate();
        var body = new DaprReminderRequest(GoDuration.Format(reminder.DueTime), Period(reminder.Period), Data(reminder.Data), null);
        using HttpResponseMessage response = await _sidecar.PutAsJsonAsync(DaprActorStateStore.Url(ReminderUrl, actorType, actorId, reminder.Name), body, DaprSidecar.Json, cancellationToken).ConfigureAwait(false);
        await DaprSidecar.EnsureAsync(response, $"register reminder {actorType}/{actorId}/{reminder.Name}", cancellationToken, HttpStatusCode.NoContent, HttpStatusCode.OK).ConfigureAwait(false);
    }

    public async Task UnregisterReminderAsync(string actorType, string actorId, string reminderName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reminderName);
        using HttpResponseMessage response = await _sidecar.DeleteAsync(DaprActorStateStore.Url(ReminderUrl, actorType, actorId, reminderName), cancellationToken).ConfigureAwait(false);
        await DaprSidecar.EnsureAsync(response, $"unregister reminder {actorType}/{actorId}/{reminderName}", cancellationToken, HttpStatusCode.NoContent, HttpStatusCode.OK, HttpStatusCode.NotFound).ConfigureAwait(false);
    }

    /// <summary>The reminder as the sidecar holds it; a 404 or 204 (not documented, so both are read) or an empty or <c>null</c> body is none.</summary>
    public async Task<ActorReminder?> GetReminderAsync(string actorType, string actorId, string reminderName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reminderName);
        string operation = $"get reminder {actorType}/{actorId}/{reminderName}";
        using HttpResponseMessage response = await _sidecar.GetAsync(DaprActorStateStore.Url(ReminderUrl, actorType, actorId, reminderName), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.NoContent)
        {
            return null;
        }

        await DaprSidecar.EnsureAsync(response, operation, cancellationToken, HttpStatusCode.OK).ConfigureAwait(false);
        byte[] json = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (json.Length == 0 || json.AsSpan().Trim(" \r\n\t"u8).SequenceEqual("null"u8))
        {
            return null;
        }

        DaprReminderRequest wire;
        try
        {
            wire = JsonSerializer.Deserialize<DaprReminderRequest>(json, DaprSidecar.Json) ?? throw new JsonException("null");
            return new ActorReminder(
                reminderName,
                wire.Data is JsonElement data ? DaprStateValue.FromWire(JsonSerializer.SerializeToUtf8Bytes(data, DaprSidecar.Json)) : ReadOnlyMemory<byte>.Empty,
                string.IsNullOrEmpty(wire.DueTime) ? TimeSpan.Zero : GoDuration.Parse(wire.DueTime),
                string.IsNullOrEmpty(wire.Period) ? null : GoDuration.Parse(wire.Period));
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new DaprSidecarException(operation, response.StatusCode, null, $"the answer is not a reminder: {e.Message}");
        }
    }

    public async Task RegisterTimerAsync(string actorType, string actorId, ActorTimer timer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(timer);
        timer.Validate();
        var body = new DaprTimerRequest(GoDuration.Format(timer.DueTime), Period(timer.Period), timer.Callback, Data(timer.Data));
        using HttpResponseMessage response = await _sidecar.PutAsJsonAsync(DaprActorStateStore.Url(TimerUrl, actorType, actorId, timer.Name), body, DaprSidecar.Json, cancellationToken).ConfigureAwait(false);
        await DaprSidecar.EnsureAsync(response, $"register timer {actorType}/{actorId}/{timer.Name}", cancellationToken, HttpStatusCode.NoContent, HttpStatusCode.OK).ConfigureAwait(false);
    }

    public async Task UnregisterTimerAsync(string actorType, string actorId, string timerName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(timerName);
        using HttpResponseMessage response = await _sidecar.DeleteAsync(DaprActorStateStore.Url(TimerUrl, actorType, actorId, timerName), cancellationToken).ConfigureAwait(false);
        await DaprSidecar.EnsureAsync(response, $"unregister timer {actorType}/{actorId}/{timerName}", cancellationToken, HttpStatusCode.NoContent, HttpStatusCode.OK, HttpStatusCode.NotFound).ConfigureAwait(false);
    }

    /// <summary>A single firing has an empty period, as the reference says.</summary>
    private static string Period(TimeSpan? period) => period is TimeSpan p ? GoDuration.Format(p) : "";

    private static JsonElement? Data(ReadOnlyMemory<byte> data) => data.IsEmpty ? null : DaprStateValue.ToWire(data);
}
