using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Identity.Payments;

/// <summary>
/// A <see cref="PaymentBuilder"/> over P2PKH coins of one key that the application gives, each with the BEEF that
/// proves it: a payment spends coins until it covers the price and the fee, pays output 0 to the payee key (then the
/// split's outputs), and returns the change to the same key, which becomes the next payment's coin.
/// </summary>
public sealed class UtxoFunding
{
    private readonly PrivateKey _key;
    private readonly Script _own;
    private readonly List<(Transaction Source, int Vout, Beef Proof)> _coins;
    private readonly Lock _gate = new();

    /// <param name="key">The key the coins are locked to (P2PKH).</param>
    /// <param name="coins">The coins: the transaction, the output index, and a BEEF holding that transaction and its proofs.</param>
    /// <param name="satoshisPerKilobyte">The fee rate.</param>
    public UtxoFunding(PrivateKey key, IEnumerable<(Transaction Source, int Vout, Beef Proof)> coins, ulong satoshisPerKilobyte = 100)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(coins);
        _key = key;
        _own = Script.PayToPublicKeyHash(key.PublicKey.ToHash160());
        _coins = [.. coins];
        SatoshisPerKilobyte = satoshisPerKilobyte;
    }

    public ulong SatoshisPerKilobyte { get; }

    /// <summary>The satoshis the coins still hold.</summary>
    public ulong Balance
    {
        get
        {
            lock (_gate)
            {
                return (ulong)_coins.Sum(c => (decimal)c.Source.Outputs[c.Vout].Satoshis);
            }
        }
    }

    /// <summary>The <see cref="PaymentBuilder"/> of these coins.</summary>
    public Task<byte[]> PayAsync(PaymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var outputs = new List<TxOutput> { new((ulong)request.Satoshis, Brc29.LockingScript(request.PayeeKey)) };
        outputs.AddRange(request.ExtraOutputs.Select(o => new TxOutput((ulong)o.Satoshis, o.LockingScript)));
        return Task.FromResult(Build(outputs).Beef);
    }

    /// <summary>Builds and signs a transaction paying <paramref name="outputs"/> from the coins, change to the key last.</summary>
    public (Transaction Tx, byte[] Beef) Build(IReadOnlyList<TxOutput> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        lock (_gate)
        {
            ulong wanted = (ulong)outputs.Sum(o => (decimal)o.Satoshis);
            var spent = new List<(Transaction Source, int Vout, Beef Proof)>();
            ulong have = 0;
            foreach (var coin in _coins)
            {
                if (have >= wanted + Fee(spent.Count + 1, outputs.Count + 1))
                {
                    break;
                }

                spent.Add(coin);
                have += coin.Source.Outputs[coin.Vout].Satoshis;
            }

            ulong fee = Fee(spent.Count, outputs.Count + 1);
            if (have < wanted + fee)
            {
                throw new InvalidOperationException($"the coins hold {have} satoshis; the payment needs {wanted} and a fee of {fee}");
            }

            var all = new List<TxOutput>(outputs);
            ulong change = have - wanted - fee;
            if (change > 0)
            {
                all.Add(new TxOutput(change, _own));
            }

            Transaction tx = Sign(spent, all);
            var bumps = new List<MerklePath>();
            var txs = new Dictionary<Hash256, BeefTx>();
            foreach (Beef proof in spent.Select(s => s.Proof).Distinct())
            {
                int offset = bumps.Count;
                bumps.AddRange(proof.Bumps);
                foreach (BeefTx t in proof.Transactions)
                {
                    txs.TryAdd(t.TxId, t.BumpIndex is int b ? t.WithBumpIndex(b + offset) : t);
                }
            }

            txs.TryAdd(tx.Id, BeefTx.FromTransaction(tx));
            var beef = new Beef(BeefVersion.V2, bumps, txs.Values);
            foreach (var coin in spent)
            {
                _coins.Remove(coin);
            }

            if (change > 0)
            {
                _coins.Add((tx, all.Count - 1, beef));
            }

            return (tx, beef.ToAtomicBytes(tx.Id));
        }
    }

    private ulong Fee(int inputs, int outputs)
    {
        ulong size = 10 + (148 * (ulong)inputs) + (34 * (ulong)outputs);
        return Math.Max(1, ((size * SatoshisPerKilobyte) + 999) / 1000);
    }

    private Transaction Sign(List<(Transaction Source, int Vout, Beef Proof)> inputs, List<TxOutput> outputs)
    {
        var unsigned = new Transaction(1, inputs.Select(i => new TxInput(new OutPoint(i.Source.Id, (uint)i.Vout), Script.Empty)), outputs, 0);
        var signed = new List<TxInput>(inputs.Count);
        Span<byte> digest = stackalloc byte[32];
        for (int n = 0; n < inputs.Count; n++)
        {
            TxOutput source = inputs[n].Source.Outputs[inputs[n].Vout];
            SigHash.ComputeForkId(unsigned, n, source.LockingScript.Span, source.Satoshis, 0x41, null, digest);
            var w = new BsvWriter(110);
            Script.WritePushData(w, [.. _key.Sign(digest), 0x41]);
            Script.WritePushData(w, _key.PublicKey.ToBytes());
            signed.Add(unsigned.Inputs[n] with { UnlockingScript = new Script(w.ToArray()) });
        }

        return new Transaction(1, signed, outputs, 0);
    }
}
