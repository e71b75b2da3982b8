using System.Text.Json;
using System.Text.Json.Serialization;
using Atomic.DevChain.Chain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Atomic.DevChain.Apis;

/// <summary>
/// Mining on demand: <c>POST /v1/mine</c> (optional body <c>{"blocks": n}</c>) mines the mempool into a block, then
/// <c>n − 1</c> empty ones, and answers the new blocks.
/// </summary>
public static class MineApi
{
    public const string MineRoute = "/v1/mine";

    public static IEndpointRouteBuilder MapMineApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(MineRoute, PostMineAsync);
        return routes;
    }

    public static async Task<Results<Ok<MineResponse>, ProblemHttpResult>> PostMineAsync(
        HttpRequest request, [AsParameters] DevChainServices services, CancellationToken cancellationToken)
    {
        BodyRead body = await RequestBody.ReadAsync(request, services.Chain.Options.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        int max = services.Chain.Options.MaxBlocksPerMine;
        int blocks = 1;
        if (body.Bytes.Length > 0)
        {
            if (!RequestBody.TryParseJson(body.Bytes, out JsonDocument? document, out string error))
            {
                return Problems.BadRequest(error);
            }

            using (document)
            {
                JsonElement root = document!.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    return Problems.BadRequest("the body must be {\"blocks\": n} or empty");
                }

                if (root.TryGetProperty("blocks", out JsonElement count)
                    && (count.ValueKind != JsonValueKind.Number || !count.TryGetInt32(out blocks) || blocks < 1 || blocks > max))
                {
                    return Problems.BadRequest($"blocks must be a whole number 1..{max}");
                }
            }
        }

        IReadOnlyList<BlockRecord> mined = services.Chain.Mine(blocks);
        List<MinedBlock> answer = mined.Select(b => MinedBlock.From(b, services.Chain.BlockTxids(b.Height))).ToList();
        BlockRecord tip = mined[^1];
        return TypedResults.Ok(new MineResponse(answer, tip.Height, tip.Hash.ToDisplayHex()));
    }
}

public sealed record MineResponse(
    [property: JsonPropertyName("blocks")] IReadOnlyList<MinedBlock> Blocks,
    [property: JsonPropertyName("height")] uint Height,
    [property: JsonPropertyName("hash")] string Hash);

/// <summary>One mined block: its header fields and its txids, coinbase first.</summary>
public sealed record MinedBlock(
    [property: JsonPropertyName("height")] uint Height,
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("prevBlockHash")] string PrevBlockHash,
    [property: JsonPropertyName("merkleRoot")] string MerkleRoot,
    [property: JsonPropertyName("time")] uint Time,
    [property: JsonPropertyName("txids")] IReadOnlyList<string> TxIds)
{
    public static MinedBlock From(BlockRecord block, IReadOnlyList<Bsv.Primitives.Hash256> txids) => new(
        block.Height,
        block.Hash.ToDisplayHex(),
        block.Header.PreviousHash.ToDisplayHex(),
        block.Header.MerkleRoot.ToDisplayHex(),
        block.Header.Time,
        txids.Select(t => t.ToDisplayHex()).ToArray());
}
