using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;

namespace Atomic.DevChain.Tests;

/// <summary>A key with P2PKH outputs: funds itself from the faucet and signs spends of what it holds.</summary>
internal sealed class TestWallet
{
    /// <param name="seed">Derives the key (so signatures, and sizes, are the same on every run); random when null.</param>
    public TestWallet(string? seed = null) =>
        Key = seed is null ? PrivateKey.Random() : PrivateKey.FromBytes(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed)));

    public PrivateKey Key { get; }

    public Script LockingScript => P2pkh.LockingScript(Key.PublicKey);

    /// <summary>A faucet payment to this wallet; the funding transaction comes out of the BEEF the faucet answered.</summary>
    public Transaction Fund(LocalChain chain, ulong satoshis)
    {
        FaucetResult result = chain.Faucet(LockingScript, satoshis);
        return Beef.FromBytes(result.Beef).Find(result.TxId)!.Transaction!;
    }

    /// <summary>Spends <paramref name="inputs"/> (outputs this wallet holds) into <paramref name="outputs"/>.</summary>
    public Transaction Spend(IEnumerable<(Transaction Tx, uint Vout)> inputs, IEnumerable<TxOutput> outputs, int version = 1, uint lockTime = 0, uint sequence = TxInput.FinalSequence)
    {
        var spent = inputs.ToList();
        var unsigned = new Transaction(
            version,
            spent.Select(i => new TxInput(new OutPoint(i.Tx.Id, i.Vout), Script.Empty, sequence)),
            outputs,
            lockTime);
        return P2pkh.Sign(unsigned, spent.Select(i => i.Tx.Outputs[(int)i.Vout]).ToList(), Key);
    }

    /// <summary>Pays output <paramref name="vout"/> of <paramref name="parent"/> back to this wallet in <paramref name="parts"/> equal outputs, less <paramref name="fee"/>.</summary>
    public Transaction Pay(Transaction parent, uint vout, ulong fee = 10, int parts = 1)
    {
        ulong value = parent.Outputs[(int)vout].Satoshis - fee;
        ulong each = value / (ulong)parts;
        var outputs = Enumerable.Range(0, parts).Select(i => new TxOutput(i == 0 ? value - (each * (ulong)(parts - 1)) : each, LockingScript));
        return Spend([(parent, vout)], outputs);
    }

    public TxOutput Output(ulong satoshis) => new(satoshis, LockingScript);
}
