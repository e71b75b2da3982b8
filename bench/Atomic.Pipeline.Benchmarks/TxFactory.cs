using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.DevChain.Chain;

namespace Atomic.Pipeline.Benchmarks;

/// <summary>
/// Independent, valid transactions to submit: the dev chain's faucet funds a key, two mined rounds of fan-out give
/// <c>width × width</c> proven outputs, and each benchmark transaction spends one of them. Its BEEF holds its proven
/// parent (about 3.5 KB for a width of 100) and itself, as a wallet would send it.
/// </summary>
internal static class TxFactory
{
    private const ulong Fee = 200;

    public static List<(string TxId, byte[] Beef)> Create(LocalChain chain, int count, int width = 100)
    {
        var key = PrivateKey.Random();
        Script lockingScript = P2pkh.LockingScript(key.PublicKey);
        int parents = (count + width - 1) / width;
        FaucetResult funding = chain.Faucet(lockingScript, (ulong)parents * (ulong)width * 10_000 + 100_000);
        Transaction root = Beef.FromBytes(funding.Beef).Find(funding.TxId)!.Transaction!;

        Transaction fan = Pay(key, lockingScript, root, funding.Vout, parents);
        Submit(chain, fan);
        chain.Mine();
        var leaves = new List<Transaction>(parents);
        for (uint i = 0; i < parents; i++)
        {
            Transaction leafParent = Pay(key, lockingScript, fan, i, width);
            Submit(chain, leafParent);
            leaves.Add(leafParent);
        }

        chain.Mine();
        var result = new List<(string, byte[])>(count);
        foreach (Transaction parent in leaves)
        {
            MerklePath path = MerklePath.FromHex(chain.GetTransaction(parent.Id)!.MerklePath!);
            for (uint vout = 0; vout < width && result.Count < count; vout++)
            {
                Transaction tx = Pay(key, lockingScript, parent, vout, 1);
                var beef = new Beef(BeefVersion.V1, [path], [BeefTx.FromTransaction(parent, 0), BeefTx.FromTransaction(tx)]);
                result.Add((tx.Id.ToDisplayHex(), beef.ToBytes()));
            }
        }

        return result;
    }

    private static Transaction Pay(PrivateKey key, Script lockingScript, Transaction parent, uint vout, int parts)
    {
        ulong value = parent.Outputs[(int)vout].Satoshis - Fee;
        ulong each = value / (ulong)parts;
        var outputs = new TxOutput[parts];
        for (int i = 0; i < parts; i++)
        {
            outputs[i] = new TxOutput(i == 0 ? value - (each * (ulong)(parts - 1)) : each, lockingScript);
        }

        var unsigned = new Transaction(1, [new TxInput(new OutPoint(parent.Id, vout), Script.Empty, TxInput.FinalSequence)], outputs, 0);
        return P2pkh.Sign(unsigned, [parent.Outputs[(int)vout]], key);
    }

    private static void Submit(LocalChain chain, Transaction tx)
    {
        SubmitResult result = chain.Submit(tx);
        if (!result.IsAccepted)
        {
            throw new InvalidOperationException($"the dev chain refused a setup transaction: {result.Code} {result.Detail}");
        }
    }
}
