using Atomic.Bsv.Primitives.Secp256k1;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Bsv.Tests.Conformance;

/// <summary>
/// Every row of the node's tx_valid.json and tx_invalid.json: valid transactions round-trip and pass every input
/// under every flag set given; invalid ones are rejected by parsing, by the context-free checks or by a script.
/// </summary>
public class TxVectorTests
{
    public static TheoryData<string, int, string> ValidRows() => RowsOf("tx_valid.json");

    public static TheoryData<string, int, string> InvalidRows() => RowsOf("tx_invalid.json");

    private static TheoryData<string, int, string> RowsOf(string file)
    {
        var data = new TheoryData<string, int, string>();
        foreach (string source in NodeVectors.Sources)
        {
            foreach (NodeVectors.TxRow row in NodeVectors.Txs(source, file))
            {
                foreach (string backend in Backends.Names)
                {
                    data.Add(source, row.Index, backend);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ValidRows))]
    public void Valid_transaction_row_passes_every_input(string source, int row, string backend)
    {
        NodeVectors.TxRow v = NodeVectors.Txs(source, "tx_valid.json").Single(r => r.Index == row);
        var tx = Transaction.FromHex(v.TxHex);
        tx.ToHex().Should().Be(v.TxHex, "serialization must round-trip");
        TransactionChecks.CheckStructure(tx).Should().BeNull();

        foreach (string flagSet in v.Flags)
        {
            for (int i = 0; i < tx.Inputs.Count; i++)
            {
                ScriptResult result = Validate(v, tx, i, flagSet, backend);
                result.IsSuccess.Should().BeTrue($"{source} tx_valid#{row} input {i} flags {flagSet}: {result}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(InvalidRows))]
    public void Invalid_transaction_row_is_rejected(string source, int row, string backend)
    {
        NodeVectors.TxRow v = NodeVectors.Txs(source, "tx_invalid.json").Single(r => r.Index == row);
        string? reason = Reason(v, backend);
        reason.Should().NotBeNull($"{source} tx_invalid#{row} must be rejected");
        reason.Should().NotBe(MissingPrevout, "every row names the outputs it spends, so it must fail on its merits");
    }

    private const string MissingPrevout = "missing prevout";

    /// <summary>Why the row is invalid, or null when every check passed.</summary>
    internal static string? Reason(NodeVectors.TxRow v, string backend)
    {
        Transaction tx;
        try
        {
            tx = Transaction.FromHex(v.TxHex);
        }
        catch (BsvFormatException e)
        {
            return e.Code;
        }

        string? structure = TransactionChecks.CheckStructure(tx);
        if (structure is not null)
        {
            return structure;
        }

        foreach (string flagSet in v.Flags)
        {
            for (int i = 0; i < tx.Inputs.Count; i++)
            {
                if (Find(v, tx.Inputs[i].PrevOut) is null)
                {
                    return MissingPrevout;
                }

                ScriptResult result = Validate(v, tx, i, flagSet, backend);
                if (!result.IsSuccess)
                {
                    return result.ErrorName;
                }
            }
        }

        return null;
    }

    private static NodeVectors.Prevout? Find(NodeVectors.TxRow v, OutPoint outPoint) =>
        v.Prevouts.FirstOrDefault(p => p.TxId == outPoint.TxId.ToDisplayHex() && p.Index == outPoint.Index);

    private static ScriptResult Validate(NodeVectors.TxRow v, Transaction tx, int input, string flagSet, string backend)
    {
        NodeVectors.Prevout prevout = Find(v, tx.Inputs[input].PrevOut)
            ?? throw new InvalidOperationException($"no prevout for input {input}");
        var source = new TxOutput(prevout.Amount, Script.FromNodeAsm(prevout.ScriptPubKeyAsm));
        return Spend.Validate(tx, input, source, ScriptFlagNames.Parse(flagSet), secp256k1: Secp256k1Backends.Get(backend));
    }
}
