using System.Globalization;
using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Overlay.Tokens;

/// <summary>
/// <c>tm_tokens</c>: fungible tokens in PushDrop outputs. Field 0 is the asset id — <c>ISSUE</c> to mint a new asset,
/// whose id is then the minting output's <c>txid.vout</c> — and field 1 the amount, a positive decimal integer in
/// UTF-8 (further fields, such as a signature, are ignored). An asset's outputs are admitted only when their amounts
/// add up exactly to the amounts of the same asset's coins the transaction spends: tokens are never created except by
/// ISSUE and never destroyed by accident.
/// </summary>
public sealed class TokenTopicManager : ITopicManager
{
    public const string TopicName = "tm_tokens";

    public const string Issue = "ISSUE";

    public string Topic => TopicName;

    public string Documentation =>
        "Fungible PushDrop tokens: field 0 the asset id (ISSUE to mint; then txid.vout of the mint), field 1 the amount in decimal. " +
        "A transfer is admitted when, per asset, its outputs' amounts equal the spent coins' amounts.";

    /// <summary>The token an output carries, or null when it is not a well-formed token output.</summary>
    public static Token? Read(Script lockingScript, OutPoint outPoint)
    {
        if (!PushDrop.TryDecode(lockingScript, out PushDropFields decoded) || decoded.Fields.Count < 2)
        {
            return null;
        }

        string assetId;
        try
        {
            assetId = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(decoded.Fields[0]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        if (assetId == Issue)
        {
            assetId = AssetIdOf(outPoint);
        }
        else if (!IsAssetId(assetId))
        {
            return null;
        }

        ReadOnlySpan<byte> amountText = decoded.Fields[1];
        if (amountText.Length is 0 or > 19 || amountText[0] == (byte)'0'
            || !ulong.TryParse(amountText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong amount))
        {
            return null;
        }

        return new Token(assetId, amount, decoded.Owner);
    }

    /// <summary>The PushDrop locking script of a token output (lock before, two fields).</summary>
    public static Script Lock(PublicKey owner, string assetIdOrIssue, ulong amount)
    {
        ArgumentOutOfRangeException.ThrowIfZero(amount);
        if (assetIdOrIssue != Issue && !IsAssetId(assetIdOrIssue))
        {
            throw new ArgumentException($"'{assetIdOrIssue}' is neither ISSUE nor an asset id (txid.vout)", nameof(assetIdOrIssue));
        }

        return PushDrop.Lock(owner, [Encoding.UTF8.GetBytes(assetIdOrIssue), Encoding.UTF8.GetBytes(amount.ToString(CultureInfo.InvariantCulture))]);
    }

    public static string AssetIdOf(OutPoint outPoint) => $"{outPoint.TxId.ToDisplayHex()}.{outPoint.Index.ToString(CultureInfo.InvariantCulture)}";

    public TopicAdmission IdentifyAdmissibleOutputs(Transaction transaction, IReadOnlyList<PreviousCoin> previousCoins)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(previousCoins);
        var spent = new Dictionary<string, UInt128>(StringComparer.Ordinal);
        var removed = new List<int>(previousCoins.Count);
        foreach (PreviousCoin coin in previousCoins)
        {
            removed.Add(coin.InputIndex);
            if (Read(coin.Output.LockingScript, coin.OutPoint) is Token token)
            {
                spent[token.AssetId] = spent.GetValueOrDefault(token.AssetId) + token.Amount;
            }
        }

        var minted = new List<int>();
        var transfers = new Dictionary<string, (UInt128 Sum, List<int> Outputs)>(StringComparer.Ordinal);
        Hash256 txid = transaction.Id;
        for (int i = 0; i < transaction.Outputs.Count; i++)
        {
            if (Read(transaction.Outputs[i].LockingScript, new OutPoint(txid, (uint)i)) is not Token token)
            {
                continue;
            }

            if (token.AssetId == AssetIdOf(new OutPoint(txid, (uint)i)))
            {
                minted.Add(i);
                continue;
            }

            (UInt128 sum, List<int> outputs) = transfers.TryGetValue(token.AssetId, out var entry) ? entry : (UInt128.Zero, new List<int>());
            outputs.Add(i);
            transfers[token.AssetId] = (sum + token.Amount, outputs);
        }

        var admitted = new List<int>(minted);
        foreach ((string assetId, (UInt128 sum, List<int> outputs)) in transfers)
        {
            if (spent.TryGetValue(assetId, out UInt128 available) && available == sum)
            {
                admitted.AddRange(outputs);
            }
        }

        admitted.Sort();
        return new TopicAdmission(admitted, [], removed);
    }

    private static bool IsAssetId(string value)
    {
        int dot = value.IndexOf('.', StringComparison.Ordinal);
        return dot == 64
            && !value.AsSpan(0, 64).ContainsAnyExcept("0123456789abcdef")
            && value.Length > 65 && value.Length <= 75
            && uint.TryParse(value.AsSpan(65), NumberStyles.None, CultureInfo.InvariantCulture, out uint vout)
            && value.AsSpan(65).SequenceEqual(vout.ToString(CultureInfo.InvariantCulture));
    }
}

/// <summary>A token an output carries: its asset, amount and owner.</summary>
public sealed record Token(string AssetId, ulong Amount, PublicKey Owner);
