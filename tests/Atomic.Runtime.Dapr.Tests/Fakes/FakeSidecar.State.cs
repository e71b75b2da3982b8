using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atomic.Runtime.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atomic.Runtime.Dapr.Tests.Fakes;

/// <summary>The state API (reference/api/state_api.md): get, save, delete, bulk get, transaction.</summary>
public sealed partial class FakeSidecar
{
    private static readonly string[] ItemFields = ["key", "value", "etag", "metadata", "options"];
    private static readonly string[] OptionFields = ["concurrency", "consistency"];
    private static readonly string[] Concurrencies = ["first-write", "last-write"];
    private static readonly string[] Consistencies = ["eventual", "strong"];

    private readonly Lock _stateLock = new();
    private Dictionary<(string Store, string Key), Entry> _state = [];
    private long _lastETag;

    /// <summary>The stored JSON of a live key, or null (for tests that look behind the API).</summary>
    public string? StoredJson(string store, string key)
    {
        lock (_stateLock)
        {
            return Live(_state, store, key)?.Json;
        }
    }

    private void MapState(WebApplication host)
    {
        host.MapGet("/v1.0/state/{store}/{key}", GetStateAsync);
        host.MapPost("/v1.0/state/{store}", SaveStateAsync);
        host.MapDelete("/v1.0/state/{store}/{key}", DeleteStateAsync);
        host.MapMethods("/v1.0/state/{store}/bulk", ["POST", "PUT"], BulkGetStateAsync);
        host.MapMethods("/v1.0/state/{store}/transaction", ["POST", "PUT"], TransactionAsync);
    }

    private async Task GetStateAsync(HttpContext context)
    {
        QueryAllows(context, "consistency");
        StrictJson.OneOf(context.Request.Query["consistency"], "consistency", Consistencies);
        string store = Store(context);
        Entry? entry;
        lock (_stateLock)
        {
            entry = Live(_state, store, Segment(context, "key"));
        }

        if (entry is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.Headers.ETag = entry.ETag; // unquoted, as daprd sends it
        await context.Response.WriteAsync(entry.Json);
    }

    private async Task SaveStateAsync(HttpContext context)
    {
        QueryAllows(context);
        string store = Store(context);
        JsonElement body = StrictJson.Parse(await BodyAsync(context, "application/json"), "save state body");
        StrictJson.Kind(body, JsonValueKind.Array, "save state body");
        List<Write> writes = [.. body.EnumerateArray().Select((item, i) => ParseItem(item, $"item {i}", upsert: true))];
        try
        {
            lock (_stateLock)
            {
                foreach (Write write in writes)
                {
                    Apply(_state, store, write); // one by one, as daprd's save is not a transaction
                }
            }
        }
        catch (StateConcurrencyException e)
        {
            await ErrorAsync(context, StatusCodes.Status409Conflict, "ERR_STATE_SAVE", $"failed saving state in state store {store}: possible etag mismatch: {e.Message}");
            return;
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task DeleteStateAsync(HttpContext context)
    {
        QueryAllows(context, "concurrency", "consistency");
        StrictJson.OneOf(context.Request.Query["consistency"], "consistency", Consistencies);
        string store = Store(context);
        string key = Segment(context, "key");
        string? etag = context.Request.Headers.IfMatch.FirstOrDefault();
        var write = new Write(key, null, etag, Concurrency(StrictJson.OneOf(context.Request.Query["concurrency"], "concurrency", Concurrencies)), null, []);
        try
        {
            lock (_stateLock)
            {
                Apply(_state, store, write);
            }
        }
        catch (StateConcurrencyException e)
        {
            await ErrorAsync(context, StatusCodes.Status409Conflict, "ERR_STATE_DELETE", $"failed deleting state with key {key}: possible etag mismatch: {e.Message}");
            return;
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task BulkGetStateAsync(HttpContext context)
    {
        QueryAllows(context);
        string store = Store(context);
        JsonElement body = StrictJson.Parse(await BodyAsync(context, "application/json"), "bulk get body");
        StrictJson.Fields(body, "bulk get body", "keys", "parallelism");
        if (!body.TryGetProperty("keys", out JsonElement keys))
        {
            throw new BadRequestException("bulk get body: 'keys' is required");
        }

        StrictJson.Kind(keys, JsonValueKind.Array, "bulk get body.keys");
        if (body.TryGetProperty("parallelism", out JsonElement parallelism) && (parallelism.ValueKind != JsonValueKind.Number || !parallelism.TryGetInt32(out int p) || p < 0))
        {
            throw new BadRequestException("bulk get body.parallelism must be a non-negative integer");
        }

        var answer = new JsonArray();
        lock (_stateLock)
        {
            foreach (JsonElement key in keys.EnumerateArray())
            {
                StrictJson.Kind(key, JsonValueKind.String, "bulk get body.keys[]");
                var item = new JsonObject { ["key"] = key.GetString() };
                if (Live(_state, store, key.GetString()!) is Entry entry)
                {
                    item["data"] = JsonNode.Parse(entry.Json);
                    item["etag"] = entry.ETag;
                }

                answer.Add(item);
            }
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.ToJsonString());
    }

    private async Task TransactionAsync(HttpContext context)
    {
        QueryAllows(context);
        string store = Store(context);
        JsonElement body = StrictJson.Parse(await BodyAsync(context, "application/json"), "transaction body");
        StrictJson.Fields(body, "transaction body", "operations", "metadata");
        StrictJson.StringMap(body, "metadata", "transaction body");
        if (!body.TryGetProperty("operations", out JsonElement operations))
        {
            throw new BadRequestException("transaction body: 'operations' is required");
        }

        StrictJson.Kind(operations, JsonValueKind.Array, "transaction body.operations");
        var writes = new List<Write>();
        int i = 0;
        foreach (JsonElement operation in operations.EnumerateArray())
        {
            string what = $"operations[{i++}]";
            (string kind, JsonElement request) = Operation(operation, what);

            writes.Add(ParseItem(request, $"{what}.request", upsert: kind == "upsert"));
        }

        List<Write> projections = [.. writes.Where(w => w.Metadata.GetValueOrDefault(StateMetadata.OutboxProjection) == "true")];
        List<Write> saved = [.. writes.Except(projections)];
        (string PubSub, string Topic)? outbox = _options.Outboxes.TryGetValue(store, out var o) ? o : null;
        if (outbox is not null && projections.FirstOrDefault(p => !saved.Any(s => s.Value is not null && s.Key == p.Key)) is Write orphan)
        {
            throw new BadRequestException($"outbox projection for key '{orphan.Key}' has no upsert of the same key");
        }

        try
        {
            lock (_stateLock)
            {
                var working = new Dictionary<(string, string), Entry>(_state);
                foreach (Write write in saved)
                {
                    Apply(working, store, write);
                }

                _state = working; // all or nothing
            }
        }
        catch (StateConcurrencyException e)
        {
            await ErrorAsync(context, StatusCodes.Status409Conflict, "ERR_STATE_TRANSACTION", $"failed to execute transaction on state store {store}: {e.Message}");
            return;
        }

        if (outbox is (string pubsub, string topic))
        {
            foreach (Write upsert in saved.Where(w => w.Value is not null))
            {
                Write payload = projections.LastOrDefault(p => p.Key == upsert.Key) ?? upsert;
                var envelope = new JsonObject
                {
                    ["specversion"] = "1.0",
                    ["id"] = payload.Metadata.GetValueOrDefault("cloudevent.id") ?? Guid.NewGuid().ToString(),
                    ["source"] = payload.Metadata.GetValueOrDefault("cloudevent.source") ?? "fake-app",
                    ["type"] = payload.Metadata.GetValueOrDefault("cloudevent.type") ?? "com.dapr.event.sent",
                    ["datacontenttype"] = payload.Metadata.GetValueOrDefault(StateMetadata.ContentType) ?? "application/json",
                    ["data"] = JsonNode.Parse(payload.Value!),
                };
                if (payload.Metadata.GetValueOrDefault("cloudevent.subject") is string subject)
                {
                    envelope["subject"] = subject;
                }

                await RouteAsync(pubsub, topic, envelope);
            }
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private string Store(HttpContext context)
    {
        string store = Segment(context, "store");
        return _options.StateStores.Contains(store)
            ? store
            : throw new BadRequestException($"state store {store} is not found");
    }

    private static Write ParseItem(JsonElement item, string what, bool upsert)
    {
        StrictJson.Fields(item, what, ItemFields);
        string key = StrictJson.RequiredString(item, "key", what);
        string? value = null;
        if (item.TryGetProperty("value", out JsonElement v))
        {
            value = upsert ? v.GetRawText() : throw new BadRequestException($"{what}: a delete has no 'value'");
        }
        else if (upsert)
        {
            throw new BadRequestException($"{what}: 'value' is required");
        }

        string? concurrency = null;
        if (item.TryGetProperty("options", out JsonElement options) && options.ValueKind != JsonValueKind.Null)
        {
            StrictJson.Fields(options, $"{what}.options", OptionFields);
            concurrency = StrictJson.OneOf(StrictJson.OptionalString(options, "concurrency", $"{what}.options"), $"{what}.options.concurrency", Concurrencies);
            StrictJson.OneOf(StrictJson.OptionalString(options, "consistency", $"{what}.options"), $"{what}.options.consistency", Consistencies);
        }

        Dictionary<string, string> metadata = StrictJson.StringMap(item, "metadata", what);
        long? ttl = null;
        if (metadata.TryGetValue("ttlInSeconds", out string? seconds))
        {
            ttl = long.TryParse(seconds, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long s) && (s > 0 || s == -1)
                ? (s == -1 ? null : s)
                : throw new BadRequestException($"{what}: ttlInSeconds '{seconds}' is not a positive integer or -1");
        }

        return new Write(key, value, StrictJson.OptionalString(item, "etag", what), Concurrency(concurrency), ttl, metadata);
    }

    private static StateConcurrency Concurrency(string? value) => value == "first-write" ? StateConcurrency.FirstWrite : StateConcurrency.LastWrite;

    private Entry? Live(Dictionary<(string, string), Entry> state, string store, string key) =>
        state.TryGetValue((store, key), out Entry? entry) && (entry.ExpiresAt is null || entry.ExpiresAt > _options.Time.GetUtcNow()) ? entry : null;

    /// <summary>One upsert (with a value) or delete, under the port's rules, which are Dapr's.</summary>
    private void Apply(Dictionary<(string, string), Entry> state, string store, Write write)
    {
        Entry? current = Live(state, store, write.Key);
        StateRules.Check(store, write.Key, write.ETag, write.Concurrency, current?.ETag, isDelete: write.Value is null);
        if (write.Value is null)
        {
            state.Remove((store, write.Key));
            return;
        }

        DateTimeOffset? expires = write.TtlSeconds is long s ? _options.Time.GetUtcNow().AddSeconds(s) : null;
        state[(store, write.Key)] = new Entry(write.Value, (++_lastETag).ToString(CultureInfo.InvariantCulture), expires);
    }

    /// <summary>One entry of a transaction's operations, read strictly: <c>{"operation": "upsert"|"delete", "request": {…}}</c>.</summary>
    private static (string Kind, JsonElement Request) Operation(JsonElement operation, string what)
    {
        StrictJson.Fields(operation, what, "operation", "request");
        string kind = StrictJson.OneOf(StrictJson.RequiredString(operation, "operation", what), $"{what}.operation", "upsert", "delete")!;
        return operation.TryGetProperty("request", out JsonElement request)
            ? (kind, request)
            : throw new BadRequestException($"{what}: 'request' is required");
    }

    private sealed record Entry(string Json, string ETag, DateTimeOffset? ExpiresAt);

    private sealed record Write(string Key, string? Value, string? ETag, StateConcurrency Concurrency, long? TtlSeconds, Dictionary<string, string> Metadata);
}
