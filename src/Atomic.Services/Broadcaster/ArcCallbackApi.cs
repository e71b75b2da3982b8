using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Spv.ChainTrackers;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Atomic.Services.Broadcaster;

/// <summary>
/// ARC's status callbacks (<c>X-CallbackUrl</c>): <c>POST /v1/arc/callback</c> with <c>Authorization: Bearer</c> the
/// <c>X-CallbackToken</c> we sent, one callback object or ARC's batch <c>{count, callbacks: [...]}</c>. A MINED callback
/// whose merkle path proves the transaction to a block the chain tracker knows marks it mined; REJECTED fails it.
/// </summary>
public static class ArcCallbackApi
{
    public const string Route = "/v1/arc/callback";

    /// <summary>A callback or a batch of them is far below this; anything larger is not ARC.</summary>
    public const int MaxBodyBytes = 1 << 20;

    public static RouteHandlerBuilder MapArcCallbackApi(this IEndpointRouteBuilder app) => app.MapPost(Route, PostCallbackAsync);

    /// <summary>ARC's <c>Callback</c> schema (the fields we read).</summary>
    public sealed record ArcCallback(
        [property: JsonPropertyName("txid")] string? TxId,
        [property: JsonPropertyName("txStatus")] string? TxStatus,
        [property: JsonPropertyName("extraInfo")] string? ExtraInfo,
        [property: JsonPropertyName("merklePath")] string? MerklePath,
        [property: JsonPropertyName("blockHash")] string? BlockHash,
        [property: JsonPropertyName("blockHeight")] long? BlockHeight);

    /// <summary>What happened to each callback of the request, by txid.</summary>
    public sealed record CallbackReceipt([property: JsonPropertyName("txid")] string TxId, string Outcome);

    internal static async Task<Results<Ok<IReadOnlyList<CallbackReceipt>>, ProblemHttpResult>> PostCallbackAsync(
        HttpRequest request, [AsParameters] ArcCallbackServices services, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(services.Options.CallbackToken))
        {
            return Problems.Of(StatusCodes.Status404NotFound, Problems.NotFound, "ARC callbacks are not enabled here (Atomic:Broadcaster:CallbackToken is not set)");
        }

        if (!HasToken(request, services.Options.CallbackToken))
        {
            return Problems.Of(StatusCodes.Status401Unauthorized, Problems.Unauthorized, "an ARC callback carries 'Authorization: Bearer <X-CallbackToken>'");
        }

        byte[]? body = await Requests.ReadBoundedAsync(request, MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Problems.Of(StatusCodes.Status413PayloadTooLarge, ReasonCodes.LimitExceeded, $"a callback body is at most {MaxBodyBytes} bytes");
        }

        List<ArcCallback> callbacks;
        try
        {
            callbacks = Read(body);
        }
        catch (JsonException e)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, $"not an ARC callback: {e.Message}");
        }

        var receipts = new List<CallbackReceipt>(callbacks.Count);
        foreach (ArcCallback callback in callbacks)
        {
            if (!ArcClient.IsTxId(callback.TxId))
            {
                return Problems.Of(StatusCodes.Status400BadRequest, Problems.RequestInvalid, "a callback's txid is 64 hex characters");
            }

            string txid = callback.TxId!.ToLowerInvariant();
            string outcome = callback.TxStatus switch
            {
                "MINED" => await MinedAsync(txid, callback, services, cancellationToken).ConfigureAwait(false),
                "REJECTED" => await RejectedAsync(txid, callback, services, cancellationToken).ConfigureAwait(false),
                _ => "ignored",
            };
            if (outcome == Unproven)
            {
                // The tracker does not know the block yet (or the path is forged): ARC retries a failed callback, and the poller asks too.
                return Problems.Of(StatusCodes.Status503ServiceUnavailable, ReasonCodes.SpvRootUnknown, $"the merkle path of {txid} does not prove it to a block this chain tracker knows");
            }

            receipts.Add(new CallbackReceipt(txid, outcome));
        }

        return TypedResults.Ok<IReadOnlyList<CallbackReceipt>>(receipts);
    }

    private const string Unproven = "unproven";

    private static async Task<string> MinedAsync(string txid, ArcCallback callback, ArcCallbackServices services, CancellationToken cancellationToken)
    {
        MerklePath path;
        Hash256 root;
        try
        {
            path = MerklePath.FromHex(callback.MerklePath ?? string.Empty);
            root = path.ComputeRoot(Hash256.FromDisplayHex(txid));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or MerklePathException)
        {
            services.Logger.LogWarning("ARC callback for {TxId} says MINED without a usable merkle path: {Message}", txid, e.Message);
            return "ignored: no usable merkle path";
        }

        if (!await services.ChainTracker.IsValidRootForHeightAsync(root, path.BlockHeight, cancellationToken).ConfigureAwait(false))
        {
            return Unproven;
        }

        await services.Recorder.MarkMinedAsync(txid, callback.MerklePath!, callback.BlockHash ?? string.Empty, callback.BlockHeight ?? path.BlockHeight, cancellationToken).ConfigureAwait(false);
        return "mined";
    }

    private static async Task<string> RejectedAsync(string txid, ArcCallback callback, ArcCallbackServices services, CancellationToken cancellationToken)
    {
        string reason = $"ARC reported REJECTED{(string.IsNullOrEmpty(callback.ExtraInfo) ? string.Empty : ": " + callback.ExtraInfo)}";
        return await services.Recorder.MarkRejectedAsync(txid, reason, cancellationToken).ConfigureAwait(false) ? "failed" : "ignored";
    }

    private static List<ArcCallback> Read(byte[] body)
    {
        using JsonDocument document = JsonDocument.Parse(body);
        JsonElement root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("callbacks", out JsonElement batch))
        {
            if (batch.ValueKind != JsonValueKind.Array)
            {
                throw new JsonException("'callbacks' must be an array");
            }

            var list = new List<ArcCallback>(batch.GetArrayLength());
            foreach (JsonElement item in batch.EnumerateArray())
            {
                list.Add(item.Deserialize<ArcCallback>() ?? throw new JsonException("a callback cannot be null"));
            }

            return list;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("a callback is a JSON object");
        }

        return [root.Deserialize<ArcCallback>()!];
    }

    private static bool HasToken(HttpRequest request, string expected)
    {
        string? header = request.Headers.Authorization;
        const string Scheme = "Bearer ";
        if (header is null || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        byte[] given = Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(expected));
    }
}

/// <summary>What the callback route needs.</summary>
public sealed class ArcCallbackServices(MinedRecorder recorder, BroadcasterOptions options, IChainTracker chainTracker, ILogger<MinedRecorder> logger)
{
    public MinedRecorder Recorder { get; } = recorder;

    public BroadcasterOptions Options { get; } = options;

    public IChainTracker ChainTracker { get; } = chainTracker;

    public ILogger<MinedRecorder> Logger { get; } = logger;
}
