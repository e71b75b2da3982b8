using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Atomic.Overlay.Baskets;
using Atomic.Services.Identity;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Gateway;

/// <summary>The gateway's routes: take a BEEF durably, and tell where a transaction is.</summary>
public static class GatewayApi
{
    /// <summary>The submission route, as the <c>route</c> tag of <see cref="Telemetry.BeefAccepted"/>.</summary>
    public const string Route = "/v1/beef";

    public static RouteGroupBuilder MapGatewayApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder v1 = app.MapGroup("/v1");
        app.RequireBsvAuthWhen(BsvAuthExtensions.RequireForSubmitKey, BsvAuthExtensions.SubmitPolicyKey,
            v1.MapPost("/beef", SubmitBeefAsync).RequireRateLimiting(RateLimits.Policy));
        v1.MapGet("/tx/{txid}", GetTxAsync);
        v1.MapGet("/tx/{txid}/beef", GetTxBeefAsync);
        return v1;
    }

    /// <summary>The response to a submission: the transaction id and its status now.</summary>
    public sealed record Submitted([property: JsonPropertyName("txid")] string TxId, string Status);

    /// <summary>Where a transaction is, and each step it took to get there; <c>error</c> is set once it was rejected or failed.</summary>
    public sealed record TxView(
        [property: JsonPropertyName("txid")] string TxId, string Status, TxError? Error, IReadOnlyList<string> Topics, string? MerklePath, IReadOnlyList<TxHistoryEntry> History);

    public sealed record TxError(string Code, string Reason);

    /// <summary>The most a request may wait (<c>timeout</c>, in seconds) for its transaction to reach a status.</summary>
    public const int MaxWaitSeconds = 60;

    /// <summary>How long a request waits when it names no <c>timeout</c>.</summary>
    public const int DefaultWaitSeconds = 30;

    /// <summary>The longest pause between two reads of a record while waiting for a move made by another process.</summary>
    internal static readonly TimeSpan MaxRecheck = TimeSpan.FromMilliseconds(500);

    internal static async Task<Results<Accepted<Submitted>, Ok<TxView>, Accepted<TxView>, ProblemHttpResult>> SubmitBeefAsync(HttpRequest request, [AsParameters] GatewayServices services, CancellationToken cancellationToken)
    {
        Results<Accepted<Submitted>, Ok<TxView>, Accepted<TxView>, ProblemHttpResult> result = await AcceptBeefAsync(request, services, cancellationToken).ConfigureAwait(false);
        if (result.Result is ProblemHttpResult problem)
        {
            Telemetry.RecordRefusal(Route, problem);
        }

        return result;
    }

    private static async Task<Results<Accepted<Submitted>, Ok<TxView>, Accepted<TxView>, ProblemHttpResult>> AcceptBeefAsync(HttpRequest request, GatewayServices services, CancellationToken cancellationToken)
    {
        GatewayOptions options = services.Options.Value;
        (TxStatus? wait, TimeSpan timeout, string? waitError) = ReadWait(request);
        if (waitError is not null)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, waitError);
        }

        string? mediaType = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        bool hex = mediaType == "text/plain";
        if (!hex && mediaType is not (null or "application/octet-stream"))
        {
            return Problems.Of(StatusCodes.Status415UnsupportedMediaType, Problems.RequestInvalid, $"send the BEEF as application/octet-stream bytes or text/plain hex, not {mediaType}");
        }

        int limit = hex ? (options.MaxBeefBytes * 2) + 2 : options.MaxBeefBytes;
        byte[]? body = await Requests.ReadBoundedAsync(request, limit, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Problems.Of(StatusCodes.Status413PayloadTooLarge, ReasonCodes.LimitExceeded, $"the BEEF exceeds {options.MaxBeefBytes} bytes");
        }

        if (hex)
        {
            string text = System.Text.Encoding.ASCII.GetString(body).Trim();
            if (!Hex.TryDecode(text, out byte[] decoded))
            {
                return Problems.Of(StatusCodes.Status400BadRequest, ReasonCodes.BeefMalformed, "the text/plain body is not hex");
            }

            body = decoded;
        }

        var topics = Requests.ReadTargets(request, "X-Topics", options.MaxTargets, Requests.NormalizeTopic);
        if (topics.Error is not null)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, topics.Error);
        }

        if (topics.Values.FirstOrDefault(t => !services.Topics.Contains(t)) is string unknown)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.TopicUnknown, $"no topic manager serves '{unknown}' (served: {string.Join(", ", services.Topics)})");
        }

        var baskets = Requests.ReadTargets(request, "X-Baskets", options.MaxTargets, BasketNames.Normalize);
        if (baskets.Error is not null)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, baskets.Error);
        }

        (_, string txid, ProblemHttpResult? problem) = BeefIntake.Read(body);
        if (problem is not null)
        {
            return problem;
        }

        TxStatus status = await BeefIntake.AcceptAsync(services.Records, txid, body, topics.Values, baskets.Values, Route, cancellationToken).ConfigureAwait(false);
        if (wait is not TxStatus wanted)
        {
            return TypedResults.Accepted($"/v1/tx/{txid}", new Submitted(txid, Status(status)));
        }

        // Accepted durably above: from here on, a client that stops waiting loses nothing.
        (TxRecord? record, bool reached) = await WaitAsync(services, txid, wanted, timeout, cancellationToken).ConfigureAwait(false);
        TxView view = record is null ? new TxView(txid, Status(status), null, topics.Values, null, []) : View(record);
        return reached ? TypedResults.Ok(view) : TypedResults.Accepted($"/v1/tx/{txid}", view);
    }

    internal static async Task<Results<Ok<TxView>, ProblemHttpResult>> GetTxAsync(string txid, HttpRequest request, [AsParameters] GatewayServices services, CancellationToken cancellationToken)
    {
        if (!Requests.IsTxId(txid))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "a txid is 64 hex characters");
        }

        (TxStatus? wait, TimeSpan timeout, string? waitError) = ReadWait(request);
        if (waitError is not null)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, waitError);
        }

        string id = txid.ToLowerInvariant();
        TxRecord? record = wait is TxStatus wanted
            ? (await WaitAsync(services, id, wanted, timeout, cancellationToken).ConfigureAwait(false)).Record
            : (await services.Records.GetAsync(id, cancellationToken).ConfigureAwait(false))?.Record;
        return record is null
            ? Problems.Of(StatusCodes.Status404NotFound, Problems.NotFound, $"no transaction {txid} was submitted here")
            : TypedResults.Ok(View(record));
    }

    private static TxView View(TxRecord record)
    {
        TxError? error = record.Status is TxStatus.Rejected or TxStatus.Failed ? new TxError(record.Code ?? "UNKNOWN", record.Reason ?? string.Empty) : null;
        return new TxView(record.TxId, Status(record.Status), error, record.Topics, record.MerklePath, record.History);
    }

    /// <summary>
    /// Reads <c>?wait={verified|broadcast|mined}</c> and <c>?timeout={seconds}</c>: the status to wait for, and how long
    /// (default <see cref="DefaultWaitSeconds"/>, at most <see cref="MaxWaitSeconds"/>).
    /// </summary>
    internal static (TxStatus? Wait, TimeSpan Timeout, string? Error) ReadWait(HttpRequest request)
    {
        string? wait = request.Query["wait"];
        string? timeout = request.Query["timeout"];
        if (string.IsNullOrEmpty(wait))
        {
            return timeout is null ? (null, TimeSpan.Zero, null) : (null, TimeSpan.Zero, "timeout is given only with wait");
        }

        TxStatus? wanted = wait.ToLowerInvariant() switch
        {
            "verified" => TxStatus.Verified,
            "broadcast" => TxStatus.Broadcast,
            "mined" => TxStatus.Mined,
            _ => null,
        };
        if (wanted is null)
        {
            return (null, TimeSpan.Zero, $"wait is verified, broadcast or mined, not '{wait}'");
        }

        int seconds = DefaultWaitSeconds;
        if (timeout is not null && (!int.TryParse(timeout, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out seconds) || seconds is < 1 or > MaxWaitSeconds))
        {
            return (null, TimeSpan.Zero, $"timeout is whole seconds from 1 to {MaxWaitSeconds}, not '{timeout}'");
        }

        return (wanted, TimeSpan.FromSeconds(seconds), null);
    }

    /// <summary>Whether a record at <paramref name="status"/> has reached <paramref name="wanted"/>, or an end it cannot leave.</summary>
    internal static bool Reached(TxStatus status, TxStatus wanted) => status is TxStatus.Rejected or TxStatus.Failed || Rank(status) >= Rank(wanted);

    private static int Rank(TxStatus status) => status switch
    {
        TxStatus.Received => 0,
        TxStatus.Verified => 1,
        TxStatus.Broadcast => 2,
        _ => 3,
    };

    /// <summary>
    /// Waits until the record reaches <paramref name="wanted"/> (or an end) or <paramref name="timeout"/> passes, and
    /// answers the record as last read (null when there is none, even at the end of the wait) and whether it got there. A move made in this process
    /// wakes the wait at once (<see cref="TxWatch"/>); one made by another process is found by reading the record again,
    /// 50 ms after the first read and at most <see cref="MaxRecheck"/> apart after that.
    /// </summary>
    internal static async Task<(TxRecord? Record, bool Reached)> WaitAsync(GatewayServices services, string txid, TxStatus wanted, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using TxWatch.Watcher watcher = services.Watch.Watch(txid);
        long deadline = services.Time.GetTimestamp() + (long)(timeout.TotalSeconds * services.Time.TimestampFrequency);
        TimeSpan recheck = TimeSpan.FromMilliseconds(50);
        Task moved = watcher.NextMove;
        TxRecord? record = (await services.Records.GetAsync(txid, cancellationToken).ConfigureAwait(false))?.Record;
        for (; ; )
        {
            if (record is not null && Reached(record.Status, wanted))
            {
                return (record, true);
            }

            // No record yet is waited for too: a session, say, names its txid a moment before the transaction is accepted.
            TimeSpan left = services.Time.GetElapsedTime(services.Time.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero)
            {
                return (record, false);
            }

            TimeSpan pause = recheck < left ? recheck : left;
            bool woken = await Task.WhenAny(moved, Task.Delay(pause, services.Time, cancellationToken)).ConfigureAwait(false) == moved;
            cancellationToken.ThrowIfCancellationRequested();
            moved = watcher.NextMove; // taken before the record is looked at, so no move after this goes unseen
            if (woken && watcher.Latest is { } latest && (record is null || latest.History.Count > record.History.Count))
            {
                record = latest; // moved in this process: the record as it was saved, without reading it again
            }
            else
            {
                // The backoff's turn (or a move that told us nothing newer): another process may have moved it.
                record = (await services.Records.GetAsync(txid, cancellationToken).ConfigureAwait(false))?.Record;
                recheck = recheck * 2 < MaxRecheck ? recheck * 2 : MaxRecheck;
            }
        }
    }

    /// <summary>
    /// The transaction's BEEF as the pipeline keeps it: as verified, and once mined upgraded with the transaction's own
    /// merkle path (so a client can keep it as proof). Bytes, or hex with <c>Accept: text/plain</c>. 404 before the
    /// transaction is verified, and for a rejected one.
    /// </summary>
    internal static async Task<Results<FileContentHttpResult, ContentHttpResult, ProblemHttpResult>> GetTxBeefAsync(string txid, HttpRequest request, [AsParameters] GatewayServices services, CancellationToken cancellationToken)
    {
        if (!Requests.IsTxId(txid))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "a txid is 64 hex characters");
        }

        string id = txid.ToLowerInvariant();
        if (await services.Records.GetAsync(id, cancellationToken).ConfigureAwait(false) is not var (record, _))
        {
            return Problems.Of(StatusCodes.Status404NotFound, Problems.NotFound, $"no transaction {txid} was submitted here");
        }

        // The BEEF is kept from the moment it is accepted, but served only as the pipeline vouches for it: once verified.
        if (record.Status is TxStatus.Received or TxStatus.Rejected
            || await services.Records.GetBeefAsync(id, cancellationToken).ConfigureAwait(false) is not var (beef, _))
        {
            return Problems.Of(StatusCodes.Status404NotFound, Problems.NotFound, $"transaction {txid} is {Status(record.Status)}: its BEEF is served once verified");
        }

        return request.Headers.Accept.ToString().Contains("text/plain", StringComparison.OrdinalIgnoreCase)
            ? TypedResults.Text(Hex.Encode(beef), "text/plain")
            : TypedResults.File(beef, "application/octet-stream");
    }

    internal static string Status(TxStatus status) => JsonSerializer.Serialize(status, TxRecords.Json).Trim('"');
}

/// <summary>What the gateway's handlers need.</summary>
public sealed class GatewayServices(TxRecords records, IOptions<GatewayOptions> options, TopicCatalog topics, TxWatch watch, TimeProvider time)
{
    public TxWatch Watch { get; } = watch;

    public TimeProvider Time { get; } = time;

    public TxRecords Records { get; } = records;

    public IOptions<GatewayOptions> Options { get; } = options;

    public TopicCatalog Topics { get; } = topics;
}
