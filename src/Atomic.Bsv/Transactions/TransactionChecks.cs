namespace Atomic.Bsv.Transactions;

/// <summary>The node's context-free transaction checks (<c>CheckTransaction</c>), named by the node's reject reasons.</summary>
public static class TransactionChecks
{
    /// <summary>21 million coins in satoshis: no output, and no sum of outputs, may exceed it.</summary>
    public const ulong MaxMoney = 21_000_000UL * 100_000_000UL;

    /// <summary>Returns the node's reason ("bad-txns-vin-empty", …) or null when the transaction is well-formed.</summary>
    public static string? CheckStructure(Transaction tx)
    {
        ArgumentNullException.ThrowIfNull(tx);
        if (tx.Inputs.Count == 0)
        {
            return "bad-txns-vin-empty";
        }

        if (tx.Outputs.Count == 0)
        {
            return "bad-txns-vout-empty";
        }

        ulong total = 0;
        foreach (TxOutput output in tx.Outputs)
        {
            if (output.Satoshis > MaxMoney)
            {
                return "bad-txns-vout-toolarge";
            }

            total += output.Satoshis;
            if (total > MaxMoney)
            {
                return "bad-txns-txouttotal-toolarge";
            }
        }

        var seen = new HashSet<OutPoint>(tx.Inputs.Count);
        foreach (TxInput input in tx.Inputs)
        {
            if (!seen.Add(input.PrevOut))
            {
                return "bad-txns-inputs-duplicate";
            }
        }

        if (tx.IsCoinbase)
        {
            int size = tx.Inputs[0].UnlockingScript.Length;
            if (size < 2 || size > 100)
            {
                return "bad-cb-length";
            }
        }
        else
        {
            foreach (TxInput input in tx.Inputs)
            {
                if (input.PrevOut.IsNull)
                {
                    return "bad-txns-prevout-null";
                }
            }
        }

        return null;
    }
}
