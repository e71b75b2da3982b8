using System.Reflection;
using System.Text;
using System.Text.Json;
using Atomic.Bsv.Primitives;
using Atomic.DevChain.Chain;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Atomic.DevChain.Apis;

/// <summary>
/// ARC's API (bitcoin-sv/arc, <c>pkg/api/arc.yaml</c>) over the local chain: submit raw, EF or BEEF transactions,
/// read their status, the policy and health. Errors carry ARC's status codes (460–469) and error fields; what ARC
/// leaves to the node (a lock time not reached) is answered as ARC relays a node's rejection: 200, <c>REJECTED</c>.
/// </summary>
public static class ArcApi
{
    // One URL template per operation, as ARC names them.
    public const string PolicyRoute = "/v1/policy";
    public const string HealthRoute = "/v1/health";
    public const string TransactionRoute = "/v1/tx";
    public const string TransactionStatusRoute = "/v1/tx/{txid}";
    public const string TransactionsRoute = "/v1/txs";

    private static readonly string Version =
        typeof(ArcApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static IEndpointRouteBuilder MapArcApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(PolicyRoute, GetPolicy);
        routes.MapGet(HealthRoute, GetHealth).WithMetadata(new AllowAnonymousAttribute());
        routes.MapGet(TransactionStatusRoute, GetTransactionStatus);
        routes.MapPost(TransactionRoute, PostTransactionAsync);
        routes.MapPost(TransactionsRoute, PostTransactionsAsync);
        return routes;
    }

    public static Ok<PolicyResponse> GetPolicy([AsParameters] DevChainServices services)
    {
        DevChainOptions options = services.Chain.Options;
        var policy = new Policy(
            (ulong)options.MaxScriptSizePolicy,
            options.MaxTxSigopsCountsPolicy,
            (ulong)options.MaxTxSizePolicy,
            new FeeAmount(options.MiningFeeSatoshis, options.MiningFeeBytes),
            StandardFormatSupported: true);
        return TypedResults.Ok(new PolicyResponse(policy, services.Time.GetUtcNow().UtcDateTime));
    }

    public static Ok<HealthResponse> GetHealth([AsParameters] DevChainServices services)
    {
        try
        {
            _ = services.Chain.Tip;
            return TypedResults.Ok(new HealthResponse(true, Version, null));
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or Microsoft.Data.Sqlite.SqliteException)
        {
            return TypedResults.Ok(new HealthResponse(false, Version, e.Message));
        }
    }

    public static Results<Ok<TransactionStatusResponse>, ProblemHttpResult> GetTransactionStatus(string txid, [AsParameters] DevChainServices services)
    {
        if (!Hash256.TryFromDisplayHex(txid, out Hash256 id))
        {
            return Problems.ArcBadRequest($"'{txid}' is not a txid (64 hex digits)");
        }

        TxRecord? record = services.Chain.GetTransaction(id);
        return record is null
            ? TypedResults.Problem(Problems.Arc(ArcStatus.NotFound, DevChainCodes.NotFound, "transaction not found", id))
            : TypedResults.Ok(TransactionStatusResponse.From(record, services.Time.GetUtcNow()));
    }

    /// <summary>
    /// <c>POST /v1/tx</c>: one transaction as <c>application/json</c> <c>{"rawTx": hex}</c>, <c>text/plain</c> hex or
    /// <c>application/octet-stream</c> bytes; raw, EF or BEEF.
    /// </summary>
    public static async Task<Results<Ok<TransactionResponse>, ProblemHttpResult>> PostTransactionAsync(
        HttpRequest request, [AsParameters] DevChainServices services, CancellationToken cancellationToken)
    {
        (SubmitOptions? options, ProblemHttpResult? optionsProblem) = ReadSubmitOptions(request);
        if (optionsProblem is not null)
        {
            return optionsProblem;
        }

        BodyRead body = await RequestBody.ReadAsync(request, services.Chain.Options.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        byte[] bytes;
        switch (RequestBody.MediaType(request))
        {
            case RequestBody.Json:
                if (!RequestBody.TryParseJson(body.Bytes, out JsonDocument? document, out string error))
                {
                    return Problems.ArcBadRequest(error);
                }

                using (document)
                {
                    if (!TryReadRawTx(document!.RootElement, out bytes, out error))
                    {
                        return Problems.ArcBadRequest(error);
                    }
                }

                break;
            case RequestBody.Text:
                if (!RequestBody.TryDecodeHex(Encoding.UTF8.GetString(body.Bytes), out bytes))
                {
                    return Problems.ArcBadRequest("the text/plain body is not a transaction in hex");
                }

                break;
            case RequestBody.Binary:
                bytes = body.Bytes;
                break;
            default:
                return Problems.ArcBadRequest(UnsupportedMediaType(request));
        }

        if (bytes.Length == 0)
        {
            return Problems.ArcBadRequest("the body holds no transaction");
        }

        TxPayload payload;
        try
        {
            payload = TxPayload.Parse(bytes);
        }
        catch (BsvFormatException e)
        {
            return TypedResults.Problem(Problems.Arc(ArcStatus.Malformed, e.Code, e.Message));
        }

        SubmitResult result = await services.Chain.SubmitAsync(payload, options).ConfigureAwait(false);
        return result.IsOk
            ? TypedResults.Ok(TransactionResponse.From(result.Record!, services.Time.GetUtcNow()))
            : TypedResults.Problem(Problems.Arc(result));
    }

    /// <summary>
    /// <c>POST /v1/txs</c>: many transactions as a JSON array of <c>{"rawTx": hex}</c>, hex lines, or concatenated bytes.
    /// The answer is one array, in submission order, of <see cref="TransactionResponse"/> or ARC error objects.
    /// </summary>
    public static async Task<Results<Ok<List<object>>, ProblemHttpResult>> PostTransactionsAsync(
        HttpRequest request, [AsParameters] DevChainServices services, CancellationToken cancellationToken)
    {
        (SubmitOptions? options, ProblemHttpResult? optionsProblem) = ReadSubmitOptions(request);
        if (optionsProblem is not null)
        {
            return optionsProblem;
        }

        BodyRead body = await RequestBody.ReadAsync(request, services.Chain.Options.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var items = new List<(TxPayload? Payload, ProblemDetails? Error)>();
        switch (RequestBody.MediaType(request))
        {
            case RequestBody.Json:
                if (!RequestBody.TryParseJson(body.Bytes, out JsonDocument? document, out string error))
                {
                    return Problems.ArcBadRequest(error);
                }

                using (document)
                {
                    if (document!.RootElement.ValueKind != JsonValueKind.Array)
                    {
                        return Problems.ArcBadRequest("the body must be a JSON array of {\"rawTx\": hex}");
                    }

                    int index = 0;
                    foreach (JsonElement element in document.RootElement.EnumerateArray())
                    {
                        if (!TryReadRawTx(element, out byte[] bytes, out error))
                        {
                            return Problems.ArcBadRequest($"item {index}: {error}");
                        }

                        items.Add(ParseItem(bytes));
                        index++;
                    }
                }

                break;
            case RequestBody.Text:
                string[] lines = Encoding.UTF8.GetString(body.Bytes).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                for (int i = 0; i < lines.Length; i++)
                {
                    if (!RequestBody.TryDecodeHex(lines[i], out byte[] bytes))
                    {
                        return Problems.ArcBadRequest($"line {i + 1} of the text/plain body is not a transaction in hex");
                    }

                    items.Add(ParseItem(bytes));
                }

                break;
            case RequestBody.Binary:
                if (!TryReadConcatenated(body.Bytes, items, out ProblemDetails? streamError))
                {
                    return TypedResults.Problem(streamError!);
                }

                break;
            default:
                return Problems.ArcBadRequest(UnsupportedMediaType(request));
        }

        if (items.Count == 0)
        {
            return Problems.ArcBadRequest("the body holds no transaction");
        }

        // Queued in order, so each is judged in turn after the ones before it, and committed with them (and with the
        // submissions of other requests made at the same time) in one SQL transaction.
        var submitted = new Task<SubmitResult>?[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            submitted[i] = items[i].Payload is TxPayload payload ? services.Chain.SubmitAsync(payload, options) : null;
        }

        DateTimeOffset now = services.Time.GetUtcNow();
        var responses = new List<object>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            if (submitted[i] is not { } pending)
            {
                responses.Add(items[i].Error!);
                continue;
            }

            SubmitResult result = await pending.ConfigureAwait(false);
            responses.Add(result.IsOk ? TransactionResponse.From(result.Record!, now) : Problems.Arc(result));
        }

        return TypedResults.Ok(responses);
    }

    private static (TxPayload?, ProblemDetails?) ParseItem(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return (null, Problems.Arc(ArcStatus.Malformed, ReasonCodes.TxMalformed, "empty transaction"));
        }

        try
        {
            return (TxPayload.Parse(bytes), null);
        }
        catch (BsvFormatException e)
        {
            return (null, Problems.Arc(ArcStatus.Malformed, e.Code, e.Message));
        }
    }

    private static bool TryReadConcatenated(byte[] bytes, List<(TxPayload?, ProblemDetails?)> items, out ProblemDetails? error)
    {
        var reader = new BsvReader(bytes);
        try
        {
            while (!reader.IsAtEnd)
            {
                items.Add((TxPayload.Read(ref reader), null));
            }

            error = null;
            return true;
        }
        catch (BsvFormatException e)
        {
            error = Problems.Arc(ArcStatus.Malformed, e.Code, $"transaction {items.Count} of the body: {e.Message}");
            return false;
        }
    }

    private static bool TryReadRawTx(JsonElement element, out byte[] bytes, out string error)
    {
        bytes = [];
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("rawTx", out JsonElement rawTx) || rawTx.ValueKind != JsonValueKind.String)
        {
            error = "expected an object with a string \"rawTx\"";
            return false;
        }

        if (!RequestBody.TryDecodeHex(rawTx.GetString(), out bytes))
        {
            error = "\"rawTx\" is not a transaction in hex";
            return false;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>ARC's submission headers; a malformed one is a 400.</summary>
    private static (SubmitOptions? Options, ProblemHttpResult? Problem) ReadSubmitOptions(HttpRequest request)
    {
        IHeaderDictionary headers = request.Headers;
        bool? Flag(string name, out string? bad)
        {
            bad = null;
            string? value = headers[name];
            if (string.IsNullOrWhiteSpace(value))
            {
                return null;
            }

            if (bool.TryParse(value.Trim(), out bool flag))
            {
                return flag;
            }

            bad = $"header {name} must be true or false, got '{value}'";
            return null;
        }

        string?[] problems = new string?[7];
        bool skipFee = Flag("X-SkipFeeValidation", out problems[0]) ?? false;
        bool fullStatusUpdates = Flag("X-FullStatusUpdates", out problems[1]) ?? false;
        // Accepted for compatibility; the dev chain always validates scripts and transactions.
        _ = Flag("X-SkipScriptValidation", out problems[2]);
        _ = Flag("X-SkipTxValidation", out problems[3]);
        _ = Flag("X-ForceValidation", out problems[4]);
        _ = Flag("X-CumulativeFeeValidation", out problems[5]);
        _ = Flag("X-CallbackBatch", out problems[6]);
        if (problems.FirstOrDefault(p => p is not null) is string flagProblem)
        {
            return (null, Problems.ArcBadRequest(flagProblem));
        }

        string? waitFor = headers["X-WaitFor"];
        if (!string.IsNullOrWhiteSpace(waitFor) && !TxStatusNames.Arc.Contains(waitFor.Trim().ToUpperInvariant()))
        {
            return (null, Problems.ArcBadRequest($"header X-WaitFor names no ARC status: '{waitFor}'"));
        }

        string? maxTimeout = headers["X-MaxTimeout"];
        if (!string.IsNullOrWhiteSpace(maxTimeout) && (!int.TryParse(maxTimeout.Trim(), out int seconds) || seconds < 1 || seconds > 30))
        {
            return (null, Problems.ArcBadRequest($"header X-MaxTimeout must be a number of seconds 1..30, got '{maxTimeout}'"));
        }

        CallbackRegistration? callback = null;
        string? callbackUrl = headers["X-CallbackUrl"];
        if (!string.IsNullOrWhiteSpace(callbackUrl))
        {
            if (!Uri.TryCreate(callbackUrl.Trim(), UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                return (null, Problems.ArcBadRequest($"header X-CallbackUrl must be an absolute http(s) URL, got '{callbackUrl}'"));
            }

            string? token = headers["X-CallbackToken"];
            callback = new CallbackRegistration(url, string.IsNullOrEmpty(token) ? null : token, fullStatusUpdates);
        }

        return (new SubmitOptions(skipFee, callback), null);
    }

    private static string UnsupportedMediaType(HttpRequest request) =>
        $"Content-Type must be {RequestBody.Json}, {RequestBody.Text} or {RequestBody.Binary}, got '{request.ContentType}'";
}

/// <summary>What every dev chain route needs: the chain and the clock.</summary>
public sealed class DevChainServices(LocalChain chain, TimeProvider time)
{
    public LocalChain Chain { get; } = chain;

    public TimeProvider Time { get; } = time;
}
