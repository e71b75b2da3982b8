using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.DevChain.Chain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Atomic.DevChain.Apis;

/// <summary>
/// The dev chain's faucet: <c>POST /v1/faucet {"lockingScript": hex, "satoshis": n}</c> pays that output from the
/// dev key, mines it and answers the funding transaction as Atomic BEEF (BRC-95 around BEEF V1) in hex.
/// </summary>
public static class FaucetApi
{
    public const string FaucetRoute = "/v1/faucet";

    public static IEndpointRouteBuilder MapFaucetApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(FaucetRoute, PostFaucetAsync);
        return routes;
    }

    public static async Task<Results<Ok<FaucetResponse>, ProblemHttpResult>> PostFaucetAsync(
        HttpRequest request, [AsParameters] DevChainServices services, CancellationToken cancellationToken)
    {
        (JsonDocument? document, ProblemHttpResult? problem) = await RequestBody.ReadJsonAsync(request, services.Chain.Options.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        byte[] script;
        ulong satoshis;
        using (document)
        {
            JsonElement root = document!.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("lockingScript", out JsonElement scriptHex) || scriptHex.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("satoshis", out JsonElement amount) || amount.ValueKind != JsonValueKind.Number)
            {
                return Problems.BadRequest("the body must be {\"lockingScript\": hex, \"satoshis\": n}");
            }

            if (!RequestBody.TryDecodeHex(scriptHex.GetString(), out script))
            {
                return Problems.BadRequest("lockingScript must be a non-empty script in hex");
            }

            ulong max = services.Chain.Options.FaucetMaxSatoshis;
            if (!amount.TryGetUInt64(out satoshis) || satoshis == 0 || satoshis > max)
            {
                return Problems.BadRequest($"satoshis must be a whole number 1..{max}");
            }
        }

        try
        {
            FaucetResult result = services.Chain.Faucet(new Script(script), satoshis);
            return TypedResults.Ok(new FaucetResponse(
                result.TxId.ToDisplayHex(), result.Vout, result.Satoshis, Hex.Encode(result.Beef), result.BlockHeight, result.BlockHash.ToDisplayHex()));
        }
        catch (FaucetException e)
        {
            return Problems.Problem(e.Status, e.Code, e.Message);
        }
    }
}

/// <summary>A faucet payment: output <c>vout</c> of <c>txid</c> pays <c>satoshis</c>; <c>beef</c> is Atomic BEEF (V1 inside) in hex.</summary>
public sealed record FaucetResponse(
    [property: JsonPropertyName("txid")] string TxId,
    [property: JsonPropertyName("vout")] uint Vout,
    [property: JsonPropertyName("satoshis")] ulong Satoshis,
    [property: JsonPropertyName("beef")] string Beef,
    [property: JsonPropertyName("blockHeight")] uint BlockHeight,
    [property: JsonPropertyName("blockHash")] string BlockHash);
