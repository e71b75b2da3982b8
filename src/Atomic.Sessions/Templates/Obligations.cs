using System.Globalization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Tokens;

namespace Atomic.Sessions.Templates;

/// <summary>
/// What one party's outputs owe under a deal, and the rules the templates here share about everything else: each
/// obligation is met by an output of its own; an output that meets none must be the party's own (P2PKH of its identity
/// key, or a <c>tm_tokens</c> output it owns); nothing is minted, and the change script is no token; the party's tokens
/// are conserved per asset, because <c>tm_tokens</c> admits an asset's outputs only when they add up to the spent coins
/// of that asset, so one party's stray token would cost every party its outputs of that asset; and its inputs cover its
/// outputs. Where the deal moves no asset the transaction is not submitted to <c>tm_tokens</c>, so token coins are
/// refused outright (the overlay would never learn they were spent).
/// </summary>
internal sealed class Obligations(SessionSetup setup, Party party, bool tokensTracked)
{
    /// <summary>The asset id <see cref="TokenTopicManager.Read"/> gives an ISSUE output read at the null outpoint.</summary>
    private static readonly string MintedAtNull = TokenTopicManager.AssetIdOf(default);

    private readonly List<(TxOutput Output, string What)> _exact = [];
    private readonly List<(Script LockingScript, ulong Satoshis, string What)> _payments = [];
    private readonly List<(PublicKey Owner, string AssetId, ulong Amount, string What)> _tokens = [];

    /// <summary>An output with exactly these satoshis and this locking script.</summary>
    public Obligations Exactly(TxOutput output, string what)
    {
        _exact.Add((output, what));
        return this;
    }

    /// <summary>A P2PKH output to <paramref name="to"/>'s identity key of at least <paramref name="satoshis"/>.</summary>
    public Obligations Pay(Party to, ulong satoshis, string why)
    {
        _payments.Add((P2pkh(to), satoshis, $"P2PKH output of at least {satoshis} satoshis to {to.Id}'s identity key ({why})"));
        return this;
    }

    /// <summary>A token output of exactly <paramref name="amount"/> of the asset owned by <paramref name="to"/>'s identity key.</summary>
    public Obligations Give(Party to, string assetId, ulong amount, string why)
    {
        _tokens.Add((to.IdentityKey, assetId, amount,
            $"token output of exactly {amount} of {assetId} owned by {to.Id}'s identity key ({why})"));
        return this;
    }

    /// <summary>Ok, or <see cref="SessionCodes.ContributionInvalid"/> with the first rule the contribution breaks.</summary>
    public SessionCheck Check(Contribution contribution)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        Token?[] tokens = [.. contribution.Outputs.Select(o => TokenTopicManager.Read(o.LockingScript, default))];
        string? broken = CheckInputsAndShapes(contribution, tokens)
            ?? CheckObligations(contribution.Outputs, tokens)
            ?? CheckConservation(contribution, tokens);
        if (broken is not null)
        {
            return Refuse(broken);
        }

        return contribution.InputSatoshis() >= contribution.OutputSatoshis()
            ? SessionCheck.Ok
            : Refuse($"{party.Id}'s inputs hold {contribution.InputSatoshis()} satoshis, less than its outputs' "
                + $"{contribution.OutputSatoshis()}");
    }

    public static Script P2pkh(Party party) => Script.PayToPublicKeyHash(party.IdentityKey.ToHash160());

    public static string Describe(OutPoint outPoint) =>
        $"{outPoint.TxId.ToDisplayHex()}.{outPoint.Index.ToString(CultureInfo.InvariantCulture)}";

    public static SessionCheck Refuse(string reason) => SessionCheck.Refuse(SessionCodes.ContributionInvalid, reason);

    private string? CheckInputsAndShapes(Contribution contribution, Token?[] tokens)
    {
        // Counted twice, an input would pay for outputs (and give tokens) it cannot; assembly would refuse it only at the end.
        if (contribution.Inputs.GroupBy(i => i.OutPoint).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            return $"{party.Id} contributes the output {Describe(twice.Key)} twice";
        }

        if (Array.FindIndex(tokens, t => t?.AssetId == MintedAtNull) is int mint and >= 0)
        {
            return $"output {mint} of {party.Id} mints a new asset: a session moves assets that exist, "
                + "so mint in a transaction of your own first";
        }

        if (TokenTopicManager.Read(contribution.Change, default) is not null)
        {
            return $"{party.Id}'s change script is a tm_tokens output: change is satoshis, and a token conjured there would make "
                + "tm_tokens refuse every output of that asset in the transaction";
        }

        if (tokensTracked)
        {
            return null;
        }

        ContributedInput? coin = contribution.Inputs.FirstOrDefault(IsTokenCoin);
        if (coin is not null)
        {
            return $"input {Describe(coin.OutPoint)} is a tm_tokens coin, but the terms move no asset, so the transaction is not "
                + "submitted to tm_tokens and the coin would vanish from it: spend satoshis only";
        }

        int token = Array.FindIndex(tokens, t => t is not null);
        return token < 0
            ? null
            : $"output {token} of {party.Id} is a tm_tokens output, but the terms move no asset, "
                + "so the transaction is not submitted to tm_tokens";
    }

    /// <summary>Each obligation met by an output of its own, and every other output the party's own.</summary>
    private string? CheckObligations(IReadOnlyList<TxOutput> outputs, Token?[] tokens)
    {
        bool[] used = new bool[outputs.Count];
        if ((MeetExact(outputs, used) ?? MeetTokens(tokens, used) ?? MeetPayments(outputs, used)) is string missing)
        {
            return $"{party.Id} gives no {missing}";
        }

        for (int i = 0; i < outputs.Count; i++)
        {
            if (!used[i] && !IsOwn(outputs[i], tokens[i]))
            {
                return $"output {i} of {party.Id} {Describe(outputs[i], tokens[i])}, which the terms do not ask of it; "
                    + "besides what the terms ask, a party's outputs may only pay P2PKH of its own identity key or hold tokens "
                    + "it owns (change goes to its change script)";
            }
        }

        return null;
    }

    private string? CheckConservation(Contribution contribution, Token?[] tokens)
    {
        var spent = new SortedDictionary<string, UInt128>(StringComparer.Ordinal);
        foreach (ContributedInput input in contribution.Inputs)
        {
            if (TokenTopicManager.Read(input.Source.LockingScript, input.OutPoint) is Token token)
            {
                spent[token.AssetId] = spent.GetValueOrDefault(token.AssetId) + token.Amount;
            }
        }

        var given = new SortedDictionary<string, UInt128>(StringComparer.Ordinal);
        foreach (Token token in tokens.OfType<Token>())
        {
            given[token.AssetId] = given.GetValueOrDefault(token.AssetId) + token.Amount;
        }

        foreach (string assetId in spent.Keys.Union(given.Keys, StringComparer.Ordinal))
        {
            if (spent.GetValueOrDefault(assetId) != given.GetValueOrDefault(assetId))
            {
                return $"{party.Id}'s inputs hold {spent.GetValueOrDefault(assetId)} of {assetId} and its outputs give "
                    + $"{given.GetValueOrDefault(assetId)}: tm_tokens admits no output of an asset whose amounts do not add up, "
                    + "so give the remainder back to yourself, or spend enough of the asset";
            }
        }

        return null;
    }

    private string? MeetExact(IReadOnlyList<TxOutput> outputs, bool[] used)
    {
        foreach ((TxOutput expected, string what) in _exact)
        {
            int i = FindUnused(outputs, used, o => o.Satoshis == expected.Satoshis && o.LockingScript.Equals(expected.LockingScript));
            if (i < 0)
            {
                return what;
            }

            used[i] = true;
        }

        return null;
    }

    private string? MeetTokens(Token?[] tokens, bool[] used)
    {
        foreach ((PublicKey owner, string assetId, ulong amount, string what) in _tokens)
        {
            int i = FindUnused(tokens, used, t => t is not null && t.AssetId == assetId && t.Amount == amount && t.Owner.Equals(owner));
            if (i < 0)
            {
                return what;
            }

            used[i] = true;
        }

        return null;
    }

    /// <summary>
    /// Smallest payments first, each taking the smallest unused output that covers it: when any assignment of outputs
    /// meets every payment, this one does (an exchange argument: the smallest payment can always take that output).
    /// </summary>
    private string? MeetPayments(IReadOnlyList<TxOutput> outputs, bool[] used)
    {
        foreach ((Script lockingScript, ulong satoshis, string what) in _payments.OrderBy(p => p.Satoshis))
        {
            int best = -1;
            for (int i = 0; i < outputs.Count; i++)
            {
                if (!used[i] && outputs[i].Satoshis >= satoshis && outputs[i].LockingScript.Equals(lockingScript)
                    && (best < 0 || outputs[i].Satoshis < outputs[best].Satoshis))
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                return what;
            }

            used[best] = true;
        }

        return null;
    }

    private static int FindUnused<T>(IReadOnlyList<T> items, bool[] used, Func<T, bool> match)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (!used[i] && match(items[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsTokenCoin(ContributedInput input) =>
        TokenTopicManager.Read(input.Source.LockingScript, input.OutPoint) is not null;

    private bool IsOwn(TxOutput output, Token? token) =>
        token is not null ? token.Owner.Equals(party.IdentityKey) : output.LockingScript.Equals(P2pkh(party));

    private string Describe(TxOutput output, Token? token)
    {
        if (token is not null)
        {
            return $"gives {token.Amount} of {token.AssetId} to {Whose(token.Owner)}";
        }

        foreach (Party other in setup.Parties)
        {
            if (output.LockingScript.Equals(P2pkh(other)))
            {
                return $"pays {output.Satoshis} satoshis to {other.Id}'s identity key";
            }
        }

        return $"pays {output.Satoshis} satoshis to the script {Abbreviate(output.LockingScript)}";
    }

    private string Whose(PublicKey key) =>
        setup.Parties.FirstOrDefault(p => p.IdentityKey.Equals(key)) is Party owner
            ? $"{owner.Id}'s identity key"
            : $"the key {key.ToHex()}";

    private static string Abbreviate(Script script) =>
        script.Length <= 40 ? Hex.Encode(script.Span) : $"{Hex.Encode(script.Span[..40])}… ({script.Length} bytes)";
}
