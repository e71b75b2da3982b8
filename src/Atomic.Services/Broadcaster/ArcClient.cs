using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Polly;
using Polly.Retry;

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

    /// <summary>Neither accepted nor refused yet (SEEN_IN_ORPHAN_MEMPOOL): ask again later.</summary>
    Pending,

    /// <summary>A double spend: refused for good.</summary>
    DoubleSpend,

    /// <summary>Refused for good (REJECTED, or a 4xx such as a malformed transaction or a low fee).</summary>
    Rejected,

    /// <summary>No answer after the retries: transport errors or 5xx.</summary>
    Unreachable,
}

/// <summary>An endpoint's answer, classified.</summary>
public sealed record ArcOutcome(string Endpoint, ArcVerdict Verdict, ArcResponse? Response, string Detail);

/// <summary>
/// Talks to ARC endpoints (<c>POST /v1/tx</c> with Extended Format hex, <c>GET /v1/tx/{txid}</c>), retrying transport
/// errors and 5xx with exponential backoff (Polly) and classifying each answer.
/// </summary>
public sealed class ArcClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient _http;
    private readonly BroadcasterOptions _options;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;

    public ArcClient(HttpClient http, BroadcasterOptions options, TimeProvider? time = null)
    {
        _http = http;
        _options = options;
        _retry = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time ?? TimeProvider.System }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(1, options.Retries),
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TaskCanceledException>()
                    .HandleResult(r => (int)r.StatusCode >= 500),
            })
            .Build();
    }

    /// <summary>Posts one transaction to <paramref name="endpoint"/>; the verdict and time are counted (<see cref="Telemetry.BroadcastOutcomes"/>, <see cref="Telemetry.BroadcastDuration"/>).</summary>
    public async Task<ArcOutcome> SubmitAsync(ArcEndpoint endpoint, string efHex, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using Activity? activity = Telemetry.Source.StartActivity("arc submit", ActivityKind.Client);
        activity?.SetTag("server.address", endpoint.Url);
        long started = Stopwatch.GetTimestamp();
        ArcOutcome outcome = await SubmitCoreAsync(endpoint, efHex, cancellationToken).ConfigureAwait(false);
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

    private async Task<ArcOutcome> SubmitCoreAsync(ArcEndpoint endpoint, string efHex, CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await _retry.ExecuteAsync(async ct =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, Url(endpoint, "/v1/tx"))
                {
                    Content = JsonContent.Create(new { rawTx = efHex }),
                };
                Authorize(request, endpoint);
                request.Headers.TryAddWithoutValidation("X-WaitFor", _options.WaitFor);
                if (!string.IsNullOrEmpty(_options.CallbackUrl))
                {
                    request.Headers.TryAddWithoutValidation("X-CallbackUrl", _options.CallbackUrl);
                    if (!string.IsNullOrEmpty(_options.CallbackToken))
                    {
                        request.Headers.TryAddWithoutValidation("X-CallbackToken", _options.CallbackToken);
                    }
                }

                return await _http.SendAsync(request, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            return await ClassifyAsync(endpoint.Url, response, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new ArcOutcome(endpoint.Url, ArcVerdict.Unreachable, null, e.Message);
        }
    }

    public async Task<ArcOutcome> StatusAsync(ArcEndpoint endpoint, string txid, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        try
        {
            using HttpResponseMessage response = await _retry.ExecuteAsync(async ct =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, Url(endpoint, $"/v1/tx/{txid}"));
                Authorize(request, endpoint);
                return await _http.SendAsync(request, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            return await ClassifyAsync(endpoint.Url, response, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new ArcOutcome(endpoint.Url, ArcVerdict.Unreachable, null, e.Message);
        }
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

        ArcVerdict verdict = Classify(response.StatusCode, body);
        string detail = $"{(int)response.StatusCode} {body?.TxStatus ?? body?.Title ?? response.ReasonPhrase}{(body?.ExtraInfo is { Length: > 0 } extra ? ": " + extra : string.Empty)}";
        return new ArcOutcome(endpoint, verdict, body, detail);
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
