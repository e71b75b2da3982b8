using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Atomic.DevChain.Chain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Atomic.DevChain.Apis;

/// <summary>
/// The Block Headers Service API (bitcoin-sv/block-headers-service) over the local chain: what @bsv/sdk's
/// <c>BlockHeadersService</c> and our <c>BlockHeadersServiceChainTracker</c> call, plus header lookups.
/// </summary>
public static class HeadersApi
{
    public const string VerifyRoute = "/api/v1/chain/merkleroot/verify";
    public const string TipRoute = "/api/v1/chain/tip/longest";
    public const string HeadersByHeightRoute = "/api/v1/chain/header/byHeight";
    public const string HeaderByHashRoute = "/api/v1/chain/header/{hash}";

    public const string Confirmed = "CONFIRMED";
    public const string Invalid = "INVALID";
    public const string UnableToVerify = "UNABLE_TO_VERIFY";

    private const int MaxHeaders = 2000;
    private const int MaxRootsPerRequest = 10_000;

    public static IEndpointRouteBuilder MapHeadersApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(VerifyRoute, VerifyMerkleRootsAsync);
        routes.MapGet(TipRoute, GetLongestTip);
        routes.MapGet(HeadersByHeightRoute, GetHeadersByHeight);
        routes.MapGet(HeaderByHashRoute, GetHeaderByHash);
        return routes;
    }

    /// <summary>
    /// Confirms <c>[{"merkleRoot": display hex, "blockHeight": n}]</c>: each pair is CONFIRMED, INVALID (another root
    /// at that height) or UNABLE_TO_VERIFY (beyond the tip); the whole is CONFIRMED only when every pair is.
    /// </summary>
    public static async Task<Results<Ok<MerkleRootsVerification>, ProblemHttpResult>> VerifyMerkleRootsAsync(
        HttpRequest request, [AsParameters] DevChainServices services, CancellationToken cancellationToken)
    {
        (JsonDocument? document, ProblemHttpResult? problem) = await RequestBody.ReadJsonAsync(request, services.Chain.Options.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var queries = new List<(Hash256 Root, uint Height)>();
        using (document)
        {
            JsonElement root = document!.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() == 0 || root.GetArrayLength() > MaxRootsPerRequest)
            {
                return Problems.BadRequest($"the body must be a JSON array of 1..{MaxRootsPerRequest} {{\"merkleRoot\": hex, \"blockHeight\": n}}");
            }

            int index = 0;
            foreach (JsonElement item in root.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object
                    || !item.TryGetProperty("merkleRoot", out JsonElement merkleRoot) || merkleRoot.ValueKind != JsonValueKind.String
                    || !Hash256.TryFromDisplayHex(merkleRoot.GetString(), out Hash256 hash)
                    || !item.TryGetProperty("blockHeight", out JsonElement height) || height.ValueKind != JsonValueKind.Number
                    || !height.TryGetUInt32(out uint h))
                {
                    return Problems.BadRequest($"item {index} must be {{\"merkleRoot\": 64 hex digits, \"blockHeight\": a height}}");
                }

                queries.Add((hash, h));
                index++;
            }
        }

        uint tip = services.Chain.Tip.Height;
        var confirmations = new List<MerkleRootConfirmation>(queries.Count);
        foreach ((Hash256 root, uint height) in queries)
        {
            BlockRecord? block = height <= tip ? services.Chain.BlockAt(height) : null;
            string state = block is null ? UnableToVerify : block.Header.MerkleRoot == root ? Confirmed : Invalid;
            confirmations.Add(new MerkleRootConfirmation(block?.Hash.ToDisplayHex() ?? string.Empty, height, root.ToDisplayHex(), state));
        }

        string overall = confirmations.All(c => c.Confirmation == Confirmed) ? Confirmed
            : confirmations.Any(c => c.Confirmation == Invalid) ? Invalid
            : UnableToVerify;
        return TypedResults.Ok(new MerkleRootsVerification(overall, confirmations));
    }

    public static Ok<TipState> GetLongestTip([AsParameters] DevChainServices services)
    {
        BlockRecord tip = services.Chain.Tip;
        return TypedResults.Ok(new TipState(HeaderResponse.From(tip), "LONGEST_CHAIN", ChainWork(tip), tip.Height));
    }

    /// <summary>Up to <c>count</c> (default 1, at most 2000) headers from <c>height</c> up.</summary>
    public static Results<Ok<List<HeaderResponse>>, ProblemHttpResult> GetHeadersByHeight(
        string? height, string? count, [AsParameters] DevChainServices services)
    {
        if (!uint.TryParse(height, out uint from))
        {
            return Problems.BadRequest("query parameter height must be a block height");
        }

        int n = 1;
        if (count is not null && (!int.TryParse(count, out n) || n < 1 || n > MaxHeaders))
        {
            return Problems.BadRequest($"query parameter count must be 1..{MaxHeaders}");
        }

        List<HeaderResponse> headers = services.Chain.Blocks(from, n).Select(HeaderResponse.From).ToList();
        return headers.Count == 0
            ? Problems.NotFound($"no block at height {from}; the tip is at {services.Chain.Tip.Height}")
            : TypedResults.Ok(headers);
    }

    public static Results<Ok<HeaderResponse>, ProblemHttpResult> GetHeaderByHash(string hash, [AsParameters] DevChainServices services)
    {
        if (!Hash256.TryFromDisplayHex(hash, out Hash256 id))
        {
            return Problems.BadRequest($"'{hash}' is not a block hash (64 hex digits)");
        }

        BlockRecord? block = services.Chain.BlockByHash(id);
        return block is null ? Problems.NotFound($"no block {hash}") : TypedResults.Ok(HeaderResponse.From(block));
    }

    private static ulong ChainWork(BlockRecord tip)
    {
        // Every block of the dev chain has the same bits, so the chain's work is one block's times the block count.
        BigInteger work = tip.Header.Work * (tip.Height + 1);
        return work > ulong.MaxValue ? ulong.MaxValue : (ulong)work;
    }
}

/// <summary>The Block Headers Service's answer to a merkle root verification.</summary>
public sealed record MerkleRootsVerification(
    [property: JsonPropertyName("confirmationState")] string ConfirmationState,
    [property: JsonPropertyName("confirmations")] IReadOnlyList<MerkleRootConfirmation> Confirmations);

public sealed record MerkleRootConfirmation(
    [property: JsonPropertyName("blockHash")] string BlockHash,
    [property: JsonPropertyName("blockHeight")] uint BlockHeight,
    [property: JsonPropertyName("merkleRoot")] string MerkleRoot,
    [property: JsonPropertyName("confirmation")] string Confirmation);

/// <summary>The Block Headers Service's block header (hashes in display order).</summary>
public sealed record HeaderResponse(
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("prevBlockHash")] string PrevBlockHash,
    [property: JsonPropertyName("merkleRoot")] string MerkleRoot,
    [property: JsonPropertyName("creationTimestamp")] uint CreationTimestamp,
    [property: JsonPropertyName("difficultyTarget")] uint DifficultyTarget,
    [property: JsonPropertyName("nonce")] uint Nonce,
    [property: JsonPropertyName("work")] ulong Work,
    [property: JsonPropertyName("height")] uint Height)
{
    public static HeaderResponse From(BlockRecord block) => new(
        block.Hash.ToDisplayHex(),
        block.Header.Version,
        block.Header.PreviousHash.ToDisplayHex(),
        block.Header.MerkleRoot.ToDisplayHex(),
        block.Header.Time,
        block.Header.Bits,
        block.Header.Nonce,
        (ulong)block.Header.Work,
        block.Height);
}

/// <summary>The Block Headers Service's tip: the header, its state, the chain's work and the height.</summary>
public sealed record TipState(
    [property: JsonPropertyName("header")] HeaderResponse Header,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("chainWork")] ulong ChainWork,
    [property: JsonPropertyName("height")] uint Height);
