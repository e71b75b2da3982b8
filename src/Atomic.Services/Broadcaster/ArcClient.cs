using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using Atomic.Services.Pipeline;

namespace Atomic.Services.Broadcaster;

/// <summary>One ARC endpoint to broadcast to (section <c>Atomic:Broadcaster:Endpoints</c>).</summary>
public sealed class ArcEndpoint
{
    public string Url { get; set; } = string.Empty;

    /// <summary>Sent as <c>Authorization: Bearer</c> when set.</summary>
    public string? ApiKey { get; set; }
}

/// <summary>Broadcaster settings (section <c>Atomic:Broadcaster</c>).</summary>
public sealed class BroadcasterOptions
{
    public List<ArcEndpoint> Endpoints { get; set; } = [];

    /// <summary>ARC calls this URL with status updates (<c>X-CallbackUrl</c>); empty to rely on polling.</summary>
    public string? CallbackUrl { get; set; }

    /// <summary>The bearer token ARC sends back on callbacks (<c>X-CallbackToken</c>), checked by the callback route.</summary>
    public string? CallbackToken { get; set; }

    /// <summary>The status ARC waits for before answering (<c>X-WaitFor</c>).</summary>
    public string WaitFor { get; set; } = "SEEN_ON_NETWORK";

    /// <summary>How often broadcast transactions are polled for MINED.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Status calls the poller makes per tick at most, taking turns through the watched transactions.</summary>
    public int MaxPollsPerTick { get; set; } = 100;

    /// <summary>Retries of one call on a transport error or a 5xx, with exponential backoff.</summary>
    public int Retries { get; set; } = 3;

    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Time limit of one call to an endpoint (each retry has its own); an endpoint that does not answer is unreachable.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Each endpoint's circuit breaker: once at least <see cref="BreakerMinimumCalls"/> calls within
    /// <see cref="BreakerSamplingDuration"/> have failed at a ratio of <see cref="BreakerFailureRatio"/> or more (transport
    /// errors, time-outs, 5xx), the endpoint is not called for <see cref="BreakerBreakDuration"/>; then one call probes it.
    /// </summary>
    public double BreakerFailureRatio { get; set; } = 0.5;

    public int BreakerMinimumCalls { get; set; } = 5;

    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Deliveries of one <c>beef.verified</c> event before it is given up on: a transaction ARC holds as an orphan, or
    /// an unreachable network, is tried again this often before the record fails. The time between deliveries is the
    /// sidecar's: the pub/sub's inbound retry policy in <c>components/resiliency.yaml</c>.
    /// </summary>
    public int DeliveryAttempts { get; set; } = 8;

    /// <summary>
    /// Broadcasts to one endpoint made at the same time go in one <c>POST /v1/txs</c> of at most this many (1 to 1,000;
    /// 1 sends each on its own). A lone broadcast goes at once; only those made while
    /// <see cref="BatchesInFlight"/> batches are under way wait, for the next.
    /// </summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Batches under way to one endpoint at a time (1 to 64), so that ARC's answer time bounds no throughput.</summary>
    public int BatchesInFlight { get; set; } = 4;
}

/// <summary>ARC's TransactionResponse (and, on 4xx, its error body, which shares these fields).</summary>
public sealed record ArcResponse(
    [property: JsonPropertyName("txid")] string? TxId,
    [property: JsonPropertyName("txStatus")] string? TxStatus,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("extraInfo")] string? ExtraInfo,
    [property: JsonPropertyName("blockHash")] string? BlockHash,
    [property: JsonPropertyName("blockHeight")] long? BlockHeight,
    [property: JsonPropertyName("merklePath")] string? MerklePath,
    [property: JsonPropertyName("competingTxs")] IReadOnlyList<string>? CompetingTxs);

/// <summary>What one endpoint made of a broadcast.</summary>
public enum ArcVerdict
{
    /// <summary>Accepted (stored, announced, seen, or mined already).</summary>
    Accepted,

    /// <summary>
    /// Neither accepted nor refused yet: held as an orphan (SEEN_IN_ORPHAN_MEMPOOL) or its mined ancestors not found
    /// (467), because a parent has not reached the network yet: ask again later.
    /// </summary>
    Pending,

    /// <summary>A double spend: refused for good.</summary>
    DoubleSpend,

    /// <summary>Refused for good (REJECTED, or a 4xx such as a malformed transaction or a low fee).</summary>
    Rejected,

    /// <summary>No answer after the retries: transport errors or 5xx.</summary>
    Unreachable,
}

/// <summary>An endpoint's answer, classified; <paramref name="CircuitOpen"/> when the endpoint was not called because its breaker is open.</summary>
public sealed record ArcOutcome(string Endpoint, ArcVerdict Verdict, ArcResponse? Response, string Detail, bool CircuitOpen = false);

/// <summary>
/// Talks to ARC endpoints (<c>POST /v1/tx</c> with Extended Format hex, or <c>POST /v1/txs</c> with its unconfirmed
/// ancestors before it; <c>GET /v1/tx/{txid}</c>), retrying transport errors, time-outs and 5xx with exponential backoff
/// behind a circuit breaker per endpoint (Polly), and classifying each answer. Broadcasts to one endpoint made at the
/// same time go together in one <c>POST /v1/txs</c> (<see cref="BroadcasterOptions.BatchSize"/>), each still answered
/// by its own items.
/// </summary>
public sealed class ArcClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient _http;
    private readonly BroadcasterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ResiliencePipeline<HttpResponseMessage>> _pipelines = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Url, string? ApiKey, bool Callbacks), Coalescer<IReadOnlyList<string>, ArcOutcome>> _batches = new();

    public ArcClient(HttpClient http, BroadcasterOptions options, TimeProvider? time = null, ILogger<ArcClient>? logger = null)
    {
        _http = http;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>
    /// The endpoint's pipeline: retries with exponential backoff around its circuit breaker around a time limit per call.
    /// An open breaker fails a call at once (<see cref="BrokenCircuitException"/>), which is not retried.
    /// </summary>
    private ResiliencePipeline<HttpResponseMessage> Pipeline(ArcEndpoint endpoint) => _pipelines.GetOrAdd(endpoint.Url, url =>
    {
        PredicateBuilder<HttpResponseMessage> failures = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<TaskCanceledException>()
            .Handle<TimeoutRejectedException>()
            .HandleResult(r => (int)r.StatusCode >= 500);
        var tag = new KeyValuePair<string, object?>("endpoint", url);
        return new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(1, _options.Retries),
                Delay = _options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                ShouldHandle = failures,
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = _options.BreakerFailureRatio,
                MinimumThroughput = Math.Max(2, _options.BreakerMinimumCalls),
                SamplingDuration = _options.BreakerSamplingDuration,
                BreakDuration = _options.BreakerBreakDuration,
                ShouldHandle = failures,
                OnOpened = _ =>
                {
                    Telemetry.ArcCircuit.Add(1, tag, new KeyValuePair<string, object?>("state", "open"));
                    _logger.LogWarning("ARC endpoint {Endpoint} keeps failing: not called for {BreakDuration} (circuit open)", url, _options.BreakerBreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = _ =>
                {
                    Telemetry.ArcCircuit.Add(1, tag, new KeyValuePair<string, object?>("state", "half-open"));
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    Telemetry.ArcCircuit.Add(1, tag, new KeyValuePair<string, object?>("state", "closed"));
                    _logger.LogInformation("ARC endpoint {Endpoint} answers again (circuit closed)", url);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(_options.Timeout)
            .Build();
    });

    /// <summary>Posts one transaction to <paramref name="endpoint"/>; the verdict and time are counted (<see cref="Telemetry.BroadcastOutcomes"/>, <see cref="Telemetry.BroadcastDuration"/>).</summary>
    public Task<ArcOutcome> SubmitAsync(ArcEndpoint endpoint, string efHex, CancellationToken cancellationToken) =>
        SubmitAsync(endpoint, [efHex], cancellationToken);

    /// <summary>
    /// Posts transactions parent first, the last one the subject: one alone to <c>/v1/tx</c>, several together to
    /// <c>/v1/txs</c>. The outcome is the subject's; when it is not accepted, the detail names any ancestor refused too.
    /// </summary>
    public Task<ArcOutcome> SubmitAsync(ArcEndpoint endpoint, IReadOnlyList<string> efHexes, CancellationToken cancellationToken) =>
        SubmitAsync(endpoint, efHexes, callbacks: true, cancellationToken);

    /// <summary>
    /// Posts one transaction without asking for callbacks: an offer whose refusal is not the transaction's last word (a
    /// bridge's refund, refused until its lock time is final), so that no late REJECTED callback fails its record once
    /// a later offer is taken.
    /// </summary>
    public Task<ArcOutcome> OfferAsync(ArcEndpoint endpoint, string efHex, CancellationToken cancellationToken) =>
        SubmitAsync(endpoint, [efHex], callbacks: false, cancellationToken);

    private async Task<ArcOutcome> SubmitAsync(ArcEndpoint endpoint, IReadOnlyList<string> efHexes, bool callbacks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(efHexes);
        if (efHexes.Count == 0)
        {
            throw new ArgumentException("no transaction to submit", nameof(efHexes));
        }

        ArgumentNullException.ThrowIfNull(endpoint);
        using Activity? activity = Telemetry.Source.StartActivity("arc submit", ActivityKind.Client);
        activity?.SetTag("server.address", endpoint.Url);
        long started = Stopwatch.GetTimestamp();
        ArcOutcome outcome = await SubmitCoreAsync(endpoint, efHexes, callbacks, cancellationToken).ConfigureAwait(false);
        var verdict = new KeyValuePair<string, object?>("verdict", outcome.Verdict.ToString());
        var url = new KeyValuePair<string, object?>("endpoint", endpoint.Url);
        Telemetry.BroadcastDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, verdict, url);
        Telemetry.BroadcastOutcomes.Add(1, verdict, url);
        activity?.SetTag("atomic.arc.verdict", outcome.Verdict.ToString());
        if (outcome.Verdict is not ArcVerdict.Accepted)
        {
            activity?.SetStatus(ActivityStatusCode.Error, outcome.Detail);
        }

        return outcome;
    }

    /// <summary>
    /// Sends one broadcast: with others made at the same time to the same endpoint, in one batch
    /// (<see cref="BroadcasterOptions.BatchSize"/>), or on its own.
    /// </summary>
    private Task<ArcOutcome> SubmitCoreAsync(ArcEndpoint endpoint, IReadOnlyList<string> efHexes, bool callbacks, CancellationToken cancellationToken)
    {
        int batchSize = Math.Clamp(_options.BatchSize, 1, 1000);
        if (batchSize == 1)
        {
            return SubmitAloneAsync(endpoint, efHexes, callbacks, cancellationToken);
        }

        Coalescer<IReadOnlyList<string>, ArcOutcome> batches = _batches.GetOrAdd((endpoint.Url, endpoint.ApiKey, callbacks), _ =>
            new Coalescer<IReadOnlyList<string>, ArcOutcome>(static efs => efs[^1], calls => SubmitTogetherAsync(endpoint, calls, callbacks),
                batchSize, Math.Clamp(_options.BatchesInFlight, 1, 64)));
        return batches.CallAsync(efHexes, cancellationToken);
    }

    /// <summary>
    /// Broadcasts made at the same time, in one <c>POST /v1/txs</c> of all their transactions in order; each is answered
    /// from its own items, as if it had been sent alone. No answer (a transport error, a time-out, a 5xx after the
    /// retries, an open circuit) is each one's. A batch refused whole (a 4xx), or answered with items that do not match,
    /// is sent again one broadcast at a time, so that no broadcast is judged by another's transactions.
    /// </summary>
    private async Task<ArcOutcome[]> SubmitTogetherAsync(ArcEndpoint endpoint, IReadOnlyList<IReadOnlyList<string>> calls, bool callbacks)
    {
        if (calls.Count == 1)
        {
            return [await SubmitAloneAsync(endpoint, calls[0], callbacks, CancellationToken.None).ConfigureAwait(false)];
        }

        var efHexes = new List<string>();
        foreach (IReadOnlyList<string> call in calls)
        {
            efHexes.AddRange(call);
        }

        var outcomes = new ArcOutcome[calls.Count];
        try
        {
            using HttpResponseMessage response = await PostAsync(endpoint, efHexes, callbacks, CancellationToken.None).ConfigureAwait(false);
            if ((int)response.StatusCode >= 500)
            {
                Array.Fill(outcomes, await ClassifyAsync(endpoint.Url, response, CancellationToken.None).ConfigureAwait(false));
                return outcomes;
            }

            if (response.IsSuccessStatusCode && await ReadItemsAsync(response, CancellationToken.None).ConfigureAwait(false) is { } items && items.Count == efHexes.Count)
            {
                int first = 0;
                for (int i = 0; i < calls.Count; i++)
                {
                    outcomes[i] = OutcomeOf(endpoint.Url, items, first, calls[i].Count);
                    first += calls[i].Count;
                }

                return outcomes;
            }
        }
        catch (BrokenCircuitException e)
        {
            Array.Fill(outcomes, new ArcOutcome(endpoint.Url, ArcVerdict.Unreachable, null, e.Message, CircuitOpen: true));
            return outcomes;
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or TaskCanceledException)
        {
            Array.Fill(outcomes, new ArcOutcome(endpoint.Url, ArcVerdict.Unreachable, null, e.Message));
            return outcomes;
        }

        var alone = new Task<ArcOutcome>[calls.Count];
        for (int i = 0; i < alone.Length; i++)
        {
            alone[i] = SubmitAloneAsync(endpoint, calls[i], callbacks, CancellationToken.None);
        }

        return await Task.WhenAll(alone).ConfigureAwait(false);
    }

    /// <summary>One broadcast on its own: one transaction to <c>/v1/tx</c>, one with its ancestors to <c>/v1/txs</c>.</summary>
    private async Task<ArcOutcome> SubmitAloneAsync(ArcEndpoint endpoint, IReadOnlyList<string> efHexes, bool callbacks, CancellationToken cancellationToken)
    {
        bool batch = efHexes.Count > 1;
        try
        {
            using HttpResponseMessage response = await PostAsync(endpoint, efHexes, callbacks, cancellationToken).ConfigureAwait(false);
            if (!batch || !response.IsSuccessStatusCode)
            {
                return await ClassifyAsync(endpoint.Url, response, cancellationToken).ConfigureAwait(false);
            }

            List<ArcResponse>? items = await ReadItemsAsync(response, cancellationToken).ConfigureAwait(false);
            return items is not null && items.Count == efHexes.Count
                ? OutcomeOf(endpoint.Url, items, 0, items.Count)
                : new ArcOutcome(endpoint.Url, ArcVerdict.Unreachable, null, $"{(int)response.StatusCode}: /v1/txs answered {items?.Count ?? 0} items for {efHexes.Count} transactions");
        }
        catch (BrokenCircuitException e)
        {
            return new ArcOutcome(endpoint.Url, ArcVerdict.Unreachable, null, e.Message, CircuitOpen: true);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new ArcOutcome(endpoint.Url, ArcVerdict.Unreachable, null, e.Message);
        }
    }

    /// <summary>Posts transactions, one to <c>/v1/tx</c> or several to <c>/v1/txs</c>, through the endpoint's pipeline.</summary>
    private ValueTask<HttpResponseMessage> PostAsync(ArcEndpoint endpoint, IReadOnlyList<string> efHexes, bool callbacks, CancellationToken cancellationToken) =>
        Pipeline(endpoint).ExecuteAsync(async ct =>
        {
            bool batch = efHexes.Count > 1;
            using var request = new HttpRequestMessage(HttpMethod.Post, Url(endpoint, batch ? "/v1/txs" : "/v1/tx"))
            {
                Content = batch ? JsonContent.Create(efHexes.Select(ef => new RawTx(ef))) : JsonContent.Create(new RawTx(efHexes[0])),
            };
            Authorize(request, endpoint);
            request.Headers.TryAddWithoutValidation("X-WaitFor", _options.WaitFor);
            if (callbacks && !string.IsNullOrEmpty(_options.CallbackUrl))
            {
                request.Headers.TryAddWithoutValidation("X-CallbackUrl", _options.CallbackUrl);
                if (!string.IsNullOrEmpty(_options.CallbackToken))
                {
                    request.Headers.TryAddWithoutValidation("X-CallbackToken", _options.CallbackToken);
                }
            }

            return await _http.SendAsync(request, ct).ConfigureAwait(false);
        }, cancellationToken);

    private sealed record RawTx([property: JsonPropertyName("rawTx")] string Value);

    /// <summary><c>/v1/txs</c>'s items, one per transaction in order (a TransactionResponse or an error object); null when not ARC's JSON.</summary>
    private static async Task<List<ArcResponse>?> ReadItemsAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<List<ArcResponse>>(Json, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>
    /// The outcome of one broadcast from its <paramref name="count"/> items at <paramref name="first"/>, each with its
    /// own <c>status</c>: the last is the subject's; when it is not accepted, the detail names any ancestor refused too.
    /// </summary>
    private static ArcOutcome OutcomeOf(string endpoint, List<ArcResponse> items, int first, int count)
    {
        ArcResponse last = items[first + count - 1];
        ArcOutcome subject = Outcome(endpoint, StatusOf(last), last, "OK");
        if (subject.Verdict is ArcVerdict.Accepted)
        {
            return subject;
        }

        for (int i = first; i < first + count - 1; i++)
        {
            ArcOutcome ancestor = Outcome(endpoint, StatusOf(items[i]), items[i], "OK");
            if (ancestor.Verdict is ArcVerdict.Rejected or ArcVerdict.DoubleSpend)
            {
                return subject with { Detail = $"{subject.Detail}; its unconfirmed ancestor {items[i].TxId} was refused: {ancestor.Detail}" };
            }
        }

        return subject;
    }

    private static HttpStatusCode StatusOf(ArcResponse item) => (HttpStatusCode)(item.Status > 0 ? item.Status : 200);

    public async Task<ArcOutcome> StatusAsync(ArcEndpoint endpoint, string txid, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        try
        {
            using HttpResponseMessage response = await Pipeline(endpoint).ExecuteAsync(async ct =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, Url(endpoint, $"/v1/tx/{txid}"));
                Authorize(request, endpoint);
                return await _http.SendAsync(request, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            return await ClassifyAsync(endpoint.Url, response, cancellationToken).ConfigureAwait(false);
        }
        catch (BrokenCircuitException e)
        {
            return new ArcOutcome(endpoint.Url, ArcVerdict.Unreachable, null, e.Message, CircuitOpen: true);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new ArcOutcome(endpoint.Url, ArcVerdict.Unreachable, null, e.Message);
        }
    }

    /// <summary>
    /// The endpoint's mining fee from <c>GET /v1/policy</c> (ARC's <c>policy.miningFee</c>), as satoshis per 1,000 bytes
    /// rounded up. Throws <see cref="HttpRequestException"/> when the endpoint does not answer a policy.
    /// </summary>
    public async Task<ulong> MiningFeePerKilobyteAsync(ArcEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        HttpResponseMessage answered;
        try
        {
            answered = await Pipeline(endpoint).ExecuteAsync(async ct =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, Url(endpoint, "/v1/policy"));
                Authorize(request, endpoint);
                return await _http.SendAsync(request, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BrokenCircuitException or TimeoutRejectedException)
        {
            throw new HttpRequestException($"{endpoint.Url} answered no policy: {e.Message}", e);
        }

        using HttpResponseMessage response = answered;
        response.EnsureSuccessStatusCode();
        using JsonDocument policy = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!policy.RootElement.TryGetProperty("policy", out JsonElement p) || !p.TryGetProperty("miningFee", out JsonElement fee)
            || !fee.TryGetProperty("satoshis", out JsonElement satoshis) || !satoshis.TryGetUInt64(out ulong sats)
            || !fee.TryGetProperty("bytes", out JsonElement bytes) || !bytes.TryGetUInt64(out ulong per) || per == 0)
        {
            throw new HttpRequestException($"{endpoint.Url} answered no policy.miningFee");
        }

        return (ulong)((((UInt128)sats * 1000) + per - 1) / per);
    }

    /// <summary>What an ARC answer means for us; <c>txStatus</c> decides on 200, the status code otherwise.</summary>
    public static ArcVerdict Classify(HttpStatusCode status, ArcResponse? body)
    {
        int code = (int)status;
        if (code >= 500)
        {
            return ArcVerdict.Unreachable;
        }

        if (code == 466 || body?.TxStatus is "DOUBLE_SPEND_ATTEMPTED")
        {
            return ArcVerdict.DoubleSpend;
        }

        if (code == 467)
        {
            return ArcVerdict.Pending; // mined ancestors not found: the network has not seen them yet
        }

        if (code >= 400)
        {
            return ArcVerdict.Rejected;
        }

        return body?.TxStatus switch
        {
            "REJECTED" => ArcVerdict.Rejected,
            "SEEN_IN_ORPHAN_MEMPOOL" => ArcVerdict.Pending,
            "QUEUED" or "RECEIVED" or "STORED" or "ANNOUNCED_TO_NETWORK" or "REQUESTED_BY_NETWORK" or "SENT_TO_NETWORK"
                or "ACCEPTED_BY_NETWORK" or "SEEN_ON_NETWORK" or "MINED" => ArcVerdict.Accepted,
            _ => ArcVerdict.Pending,
        };
    }

    private static async Task<ArcOutcome> ClassifyAsync(string endpoint, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArcResponse? body = null;
        try
        {
            body = await response.Content.ReadFromJsonAsync<ArcResponse>(Json, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            // Not ARC's JSON: the status code alone decides.
        }
        catch (NotSupportedException)
        {
            // No JSON content type.
        }

        return Outcome(endpoint, response.StatusCode, body, response.ReasonPhrase);
    }

    private static ArcOutcome Outcome(string endpoint, HttpStatusCode status, ArcResponse? body, string? reasonPhrase)
    {
        string detail = $"{(int)status} {body?.TxStatus ?? body?.Title ?? reasonPhrase}{(body?.ExtraInfo is { Length: > 0 } extra ? ": " + extra : string.Empty)}";
        return new ArcOutcome(endpoint, Classify(status, body), body, detail);
    }

    private static Uri Url(ArcEndpoint endpoint, string path) => new(endpoint.Url.TrimEnd('/') + path);

    private static void Authorize(HttpRequestMessage request, ArcEndpoint endpoint)
    {
        if (!string.IsNullOrEmpty(endpoint.ApiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", endpoint.ApiKey);
        }
    }

    internal static string ReasonFor(IReadOnlyList<ArcOutcome> outcomes)
    {
        var parts = new List<string>(outcomes.Count);
        foreach (ArcOutcome outcome in outcomes)
        {
            parts.Add($"{outcome.Endpoint}: {outcome.Detail}");
        }

        return string.Join("; ", parts);
    }

    internal static bool IsTxId(string? value) => value is { Length: 64 } && Hash256.TryFromDisplayHex(value, out _);
}
