using System.Text.Json.Serialization;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Identity.Payments;
using Atomic.Services.Pipeline;
using Dapr.Client;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Funding;

/// <summary>A coin of the server's: "{txid}.{vout}" and its satoshis.</summary>
public sealed record FundingCoin([property: JsonPropertyName("outpoint")] string Outpoint, [property: JsonPropertyName("satoshis")] ulong Satoshis);

/// <summary>Why the server's coins could not pay: a reason code and a sentence.</summary>
public sealed class FundingException(string code, string message, Exception? inner = null) : InvalidOperationException(message, inner)
{
    /// <summary>The coins hold less than the outputs and the fee.</summary>
    public const string Insufficient = "FUNDING_INSUFFICIENT";

    /// <summary>A deposit pays nothing to the funding key.</summary>
    public const string NoOutput = "FUNDING_NO_OUTPUT";

    /// <summary>A deposit was not broadcast within <see cref="FundingOptions.DepositTimeout"/>; sending it again resumes it.</summary>
    public const string Unsettled = "FUNDING_UNSETTLED";

    public string Code { get; } = code;
}

/// <summary>
/// The server's coins: P2PKH outputs to <see cref="FundingOptions.Key"/> taken in by deposits (<c>POST /v1/funding</c>)
/// and by the change of what they paid for. The list is <c>funding|coins</c> in <c>statestore</c>, changed only under
/// its ETag; each coin's transaction is kept with its BEEF at <c>funding|beef|{txid}</c>, cut down to the transaction and
/// its merkle path once the pipeline has seen it mined. A payment takes its coins off the list before its transaction is
/// submitted (so two payments never spend one coin) and puts them back if the submission fails.
/// </summary>
public sealed class FundingCoins(DaprClient dapr, TxRecords records, IOptions<FundingOptions> options)
{
    public const string CoinsKey = "funding|coins";

    private const int MaxAttempts = 20;
    private static readonly StateOptions Guarded = new() { Concurrency = ConcurrencyMode.FirstWrite };

    private readonly Lazy<PrivateKey> _key = new(options.Value.ParseKey);

    public static string BeefKey(string txid) => $"funding|beef|{txid}";

    /// <summary>The key the coins are locked to.</summary>
    public PublicKey PublicKey => _key.Value.PublicKey;

    /// <summary>The coins' locking script: P2PKH of <see cref="PublicKey"/>.</summary>
    public Script LockingScript => Script.PayToPublicKeyHash(_key.Value.PublicKey.ToHash160());

    /// <summary>The coins now.</summary>
    public async Task<IReadOnlyList<FundingCoin>> CoinsAsync(CancellationToken cancellationToken) =>
        (await ReadAsync(cancellationToken).ConfigureAwait(false)).Coins;

    /// <summary>The outputs of <paramref name="beef"/>'s subject that pay the funding key; throws when there are none.</summary>
    public IReadOnlyList<FundingCoin> Paying(Beef beef)
    {
        ArgumentNullException.ThrowIfNull(beef);
        Hash256 txid = beef.SubjectTxId ?? throw new FundingException(FundingException.NoOutput, "the BEEF has no subject transaction");
        Transaction tx = beef.Find(txid)?.Transaction ?? throw new FundingException(FundingException.NoOutput, "the BEEF lacks its subject transaction");
        Script own = LockingScript;
        var paying = new List<FundingCoin>();
        for (int i = 0; i < tx.Outputs.Count; i++)
        {
            if (tx.Outputs[i].LockingScript.Span.SequenceEqual(own.Span) && tx.Outputs[i].Satoshis > 0)
            {
                paying.Add(new FundingCoin(Outpoints.Format(txid.ToDisplayHex(), (uint)i), tx.Outputs[i].Satoshis));
            }
        }

        return paying.Count > 0
            ? paying
            : throw new FundingException(FundingException.NoOutput, $"no output of {txid} pays the funding key's P2PKH script {own.ToHex()}");
    }

    /// <summary>
    /// Takes in the outputs of <paramref name="beef"/>'s subject that pay the funding key; answers those new to the list.
    /// The caller has had the transaction broadcast.
    /// </summary>
    public async Task<IReadOnlyList<FundingCoin>> AddAsync(Beef beef, CancellationToken cancellationToken)
    {
        IReadOnlyList<FundingCoin> paying = Paying(beef);
        Hash256 txid = beef.SubjectTxId!.Value;
        await dapr.SaveByteStateAsync(Names.StateStore, BeefKey(txid.ToDisplayHex()), beef.ToAtomicBytes(txid), cancellationToken: cancellationToken).ConfigureAwait(false);
        var added = new List<FundingCoin>();
        await ChangeAsync(coins =>
        {
            added.Clear();
            foreach (FundingCoin coin in paying)
            {
                if (!coins.Exists(c => c.Outpoint == coin.Outpoint))
                {
                    coins.Add(coin);
                    added.Add(coin);
                }
            }

            return added.Count > 0;
        }, cancellationToken).ConfigureAwait(false);
        return added;
    }

    /// <summary>
    /// Pays <paramref name="outputs"/> (change back to the funding key last) and hands the signed transaction and its
    /// Atomic BEEF to <paramref name="submit"/>; answers them once it returns. The coins spent are off the list first and
    /// the change is on it; if <paramref name="submit"/> throws, both are undone and the exception goes on.
    /// </summary>
    public async Task<(Transaction Tx, byte[] Beef)> PayAsync(
        IReadOnlyList<TxOutput> outputs, Func<Transaction, byte[], CancellationToken, Task> submit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(submit);
        ulong rate = options.Value.SatoshisPerKilobyte;
        ulong wanted = 0;
        foreach (TxOutput o in outputs)
        {
            wanted += o.Satoshis;
        }

        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            (State state, string etag) = await ReadWithETagAsync(cancellationToken).ConfigureAwait(false);

            // The coins in list order until they cover the outputs and the fee (UtxoFunding picks the same way).
            var chosen = new List<(Transaction Source, int Vout, Beef Proof)>();
            ulong have = 0;
            foreach (FundingCoin coin in state.Coins)
            {
                if (have >= wanted + Fee(chosen.Count, outputs.Count + 1, rate))
                {
                    break;
                }

                _ = Outpoints.TryParse(coin.Outpoint, out OutPoint at, out _);
                (Transaction source, Beef proof) = await ProofAsync(at.TxId.ToDisplayHex(), cancellationToken).ConfigureAwait(false);
                chosen.Add((source, (int)at.Index, proof));
                have += coin.Satoshis;
            }

            ulong fee = Fee(chosen.Count, outputs.Count + 1, rate);
            if (have < wanted + fee)
            {
                throw new FundingException(FundingException.Insufficient,
                    $"the funding key's coins hold {Sum(state.Coins)} satoshis; {wanted} and a fee of about {fee} are needed: deposit more (POST /v1/funding, atomic fund)");
            }

            (Transaction tx, byte[] beef) = new UtxoFunding(_key.Value, chosen, rate).Build(outputs);
            string txid = tx.Id.ToDisplayHex();
            var spent = new HashSet<string>(tx.Inputs.Select(i => Outpoints.Format(i.PrevOut)), StringComparer.Ordinal);
            FundingCoin? change = tx.Outputs.Count > outputs.Count
                ? new FundingCoin(Outpoints.Format(txid, (uint)(tx.Outputs.Count - 1)), tx.Outputs[^1].Satoshis)
                : null;
            if (change is not null)
            {
                await dapr.SaveByteStateAsync(Names.StateStore, BeefKey(txid), beef, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            var next = new State([.. state.Coins.Where(c => !spent.Contains(c.Outpoint)), .. change is null ? Array.Empty<FundingCoin>() : [change]]);
            if (!await dapr.TrySaveAsync(Names.StateStore, CoinsKey, next, etag, Guarded, cancellationToken).ConfigureAwait(false))
            {
                continue; // another payment or deposit changed the list: choose again
            }

            try
            {
                await submit(tx, beef, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                FundingCoin[] back = [.. state.Coins.Where(c => spent.Contains(c.Outpoint))];
                await ChangeAsync(coins =>
                {
                    coins.RemoveAll(c => c.Outpoint == change?.Outpoint);
                    coins.AddRange(back.Where(b => !coins.Exists(c => c.Outpoint == b.Outpoint)));
                    return true;
                }, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            return (tx, beef);
        }

        throw new InvalidOperationException($"{CoinsKey} kept changing under {MaxAttempts} attempts");
    }

    /// <summary>The coin's transaction and a BEEF proving it: cut to its merkle path once the pipeline saw it mined.</summary>
    private async Task<(Transaction Source, Beef Proof)> ProofAsync(string txid, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> bytes = await dapr.GetByteStateAsync(Names.StateStore, BeefKey(txid), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (bytes.IsEmpty)
        {
            throw new InvalidOperationException($"the BEEF of the funding coin's transaction {txid} is missing from {BeefKey(txid)}");
        }

        var id = Hash256.FromDisplayHex(txid);
        Beef beef = Beef.FromMemory(bytes);
        BeefTx entry = beef.Find(id) ?? throw new InvalidOperationException($"{BeefKey(txid)} does not hold {txid}");
        Transaction source = entry.Transaction!;
        if (entry.BumpIndex is null
            && await records.GetAsync(txid, cancellationToken).ConfigureAwait(false) is { Record.MerklePath: { Length: > 0 } path })
        {
            beef = new Beef(BeefVersion.V2, [MerklePath.FromHex(path)], [BeefTx.FromTransaction(source, 0)]);
            await dapr.SaveByteStateAsync(Names.StateStore, BeefKey(txid), beef.ToAtomicBytes(id), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return (source, beef);
    }

    private async Task<State> ReadAsync(CancellationToken cancellationToken) =>
        (await ReadWithETagAsync(cancellationToken).ConfigureAwait(false)).State;

    private async Task<(State State, string ETag)> ReadWithETagAsync(CancellationToken cancellationToken)
    {
        (State? state, string etag) = await dapr.GetStateAndETagAsync<State?>(Names.StateStore, CoinsKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (state ?? new State([]), etag);
    }

    private async Task ChangeAsync(Func<List<FundingCoin>, bool> change, CancellationToken cancellationToken)
    {
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            (State state, string etag) = await ReadWithETagAsync(cancellationToken).ConfigureAwait(false);
            List<FundingCoin> coins = [.. state.Coins];
            if (!change(coins))
            {
                return;
            }

            if (await dapr.TrySaveAsync(Names.StateStore, CoinsKey, new State(coins), etag, Guarded, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellationToken).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"{CoinsKey} kept changing under {MaxAttempts} attempts");
    }

    internal static ulong Sum(IEnumerable<FundingCoin> coins)
    {
        ulong sum = 0;
        foreach (FundingCoin c in coins)
        {
            sum += c.Satoshis;
        }

        return sum;
    }

    /// <summary>UtxoFunding's estimate: 10 bytes, 148 per P2PKH input, 34 per output.</summary>
    private static ulong Fee(int inputs, int outputs, ulong rate) =>
        Math.Max(1, (((10 + (148 * (ulong)inputs) + (34 * (ulong)outputs)) * rate) + 999) / 1000);

    /// <summary>The list as stored.</summary>
    public sealed record State([property: JsonPropertyName("coins")] IReadOnlyList<FundingCoin> Coins);
}
