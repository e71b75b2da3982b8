using Atomic.Bsv.Primitives;
using Atomic.Bsv.Spv;
using Atomic.Services.Gateway;
using Atomic.Services.Identity;
using Atomic.Services.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Funding;

/// <summary>
/// <c>GET /v1/funding</c>: the funding key, its address and script, and its coins; <c>POST /v1/funding</c>: a deposit, a
/// BEEF (bytes, or hex as text/plain) whose transaction pays the funding key's P2PKH script, which goes the pipeline's
/// way and whose outputs to the key become coins once it is broadcast (one already mined is checked by SPV only).
/// </summary>
public static class FundingApi
{
    public const string Route = "/v1/funding";

    /// <summary>The funding key and its coins.</summary>
    public sealed record FundingView(string PublicKey, string Address, string LockingScript, ulong Balance, IReadOnlyList<FundingCoin> Coins);

    /// <summary>A deposit taken: the coins new to the list, and the balance after it.</summary>
    public sealed record Deposit(string TxId, IReadOnlyList<FundingCoin> Added, ulong Balance);

    public static IEndpointRouteBuilder MapFundingApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.RequireBsvAuthWhen(BsvAuthExtensions.RequireForOperationsKey, BsvAuthExtensions.OperationsPolicyKey,
            app.MapGet(Route, GetAsync), app.MapPost(Route, DepositAsync));
        return app;
    }

    internal static async Task<Ok<FundingView>> GetAsync(FundingCoins funding, CancellationToken cancellationToken)
    {
        IReadOnlyList<FundingCoin> coins = await funding.CoinsAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new FundingView(
            funding.PublicKey.ToHex(), funding.PublicKey.ToAddress(), funding.LockingScript.ToHex(), FundingCoins.Sum(coins), coins));
    }

    internal static async Task<Results<Ok<Deposit>, ProblemHttpResult>> DepositAsync(
        HttpRequest request, FundingCoins funding, [AsParameters] GatewayServices gateway, SpvVerifier spv, IOptions<FundingOptions> options,
        CancellationToken cancellationToken)
    {
        string? mediaType = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        bool hex = mediaType == "text/plain";
        if (!hex && mediaType is not (null or "application/octet-stream"))
        {
            return Problems.Of(StatusCodes.Status415UnsupportedMediaType, Problems.RequestInvalid, $"send the BEEF as application/octet-stream bytes or text/plain hex, not {mediaType}");
        }

        int max = gateway.Options.Value.MaxBeefBytes;
        byte[]? body = await Requests.ReadBoundedAsync(request, hex ? (max * 2) + 2 : max, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Problems.Of(StatusCodes.Status413PayloadTooLarge, ReasonCodes.LimitExceeded, $"the BEEF exceeds {max} bytes");
        }

        if (hex && !Hex.TryDecode(System.Text.Encoding.ASCII.GetString(body).Trim(), out body))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, ReasonCodes.BeefMalformed, "the text/plain body is not hex");
        }

        (Beef? beef, string txid, ProblemHttpResult? problem) = BeefIntake.Read(body);
        if (beef is null || problem is not null)
        {
            return problem!;
        }

        try
        {
            _ = funding.Paying(beef);
        }
        catch (FundingException e)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, e.Code, e.Message);
        }

        if (beef.Find(beef.SubjectTxId!.Value) is { IsProven: true })
        {
            // Mined already (a faucet's payment, or a deposit sent after its block): proven here, nothing to broadcast.
            SpvResult verified = await spv.VerifyAsync(beef, cancellationToken).ConfigureAwait(false);
            if (!verified.IsValid)
            {
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, verified.Code ?? ReasonCodes.BeefMalformed, verified.Reason ?? "the deposit fails SPV");
            }
        }
        else
        {
            // Through the pipeline like any BEEF: SPV, then broadcast; its outputs are coins once it is broadcast.
            await BeefIntake.AcceptAsync(gateway.Records, txid, body, [], [], "funding", cancellationToken).ConfigureAwait(false);
            (TxRecord? record, bool reached) = await GatewayApi.WaitAsync(gateway, txid, TxStatus.Broadcast, options.Value.DepositTimeout, cancellationToken).ConfigureAwait(false);
            if (!reached || record is null)
            {
                return Problems.Of(StatusCodes.Status503ServiceUnavailable, FundingException.Unsettled,
                    $"transaction {txid} was not broadcast within {options.Value.DepositTimeout.TotalSeconds:0} s; send the same deposit again to take it in");
            }

            if (record.Status is TxStatus.Rejected or TxStatus.Failed)
            {
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, record.Code ?? ReasonCodes.BroadcastRejected, record.Reason ?? $"transaction {txid} is {record.Status}");
            }
        }

        IReadOnlyList<FundingCoin> added = await funding.AddAsync(beef, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new Deposit(txid, added, FundingCoins.Sum(await funding.CoinsAsync(cancellationToken).ConfigureAwait(false))));
    }
}
